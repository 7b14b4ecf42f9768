package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/opsbot/opsbot/checks"
)

// termProgress is checklist.Progress on a terminal: one line on stderr,
// rewritten as each check reports ("checking: pods ✓ 0.4s · logs … ·
// alerts …"), and erased when the run is done, so that only the report
// remains. It is used only when stderr is a terminal: piped, a run prints
// nothing but its report.
type termProgress struct {
	w     io.Writer
	names []string
	done  []*checks.Result
}

func newTermProgress(w io.Writer, list []checks.Check) *termProgress {
	p := &termProgress{w: w, names: make([]string, len(list)), done: make([]*checks.Result, len(list))}
	for i, c := range list {
		p.names[i] = c.Name()
	}
	p.draw()
	return p
}

// Checked implements checklist.Progress.
func (p *termProgress) Checked(i int, r checks.Result) {
	if i >= 0 && i < len(p.done) {
		p.done[i] = &r
	}
	p.draw()
}

// Done implements checklist.Progress: the line goes.
func (p *termProgress) Done() { fmt.Fprint(p.w, "\r\x1b[K") }

func (p *termProgress) draw() {
	parts := make([]string, len(p.names))
	for i, n := range p.names {
		switch r := p.done[i]; {
		case r == nil:
			parts[i] = n + " …"
		case r.Status == checks.OK:
			parts[i] = fmt.Sprintf("%s ✓ %s", n, r.Duration.Round(100*time.Millisecond))
		default:
			parts[i] = fmt.Sprintf("%s %s %s", n, r.Status, r.Duration.Round(100*time.Millisecond))
		}
	}
	fmt.Fprint(p.w, "\r\x1b[Kchecking: "+strings.Join(parts, " · "))
}
