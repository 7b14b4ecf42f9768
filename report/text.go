// Package report renders a checklist report for a terminal (text, coloured
// only on a TTY) and as JSON (the stable schema of checks.Report).
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/opsbot/opsbot/checks"
)

// TextOptions tune the text rendering.
type TextOptions struct {
	// Color adds ANSI colours; set it only when writing to a terminal.
	Color bool
	// MaxDetailLines caps the lines of detail shown per finding (default 3).
	MaxDetailLines int
	// Location is the time zone the start time is shown in (default UTC).
	Location *time.Location
}

const (
	ansiReset   = "\x1b[0m"
	ansiBold    = "\x1b[1m"
	ansiDim     = "\x1b[2m"
	ansiRed     = "\x1b[31m"
	ansiGreen   = "\x1b[32m"
	ansiYellow  = "\x1b[33m"
	ansiMagenta = "\x1b[35m"
)

var statusColor = map[checks.Status]string{
	checks.OK:      ansiGreen,
	checks.Warn:    ansiYellow,
	checks.Unknown: ansiMagenta,
	checks.Fail:    ansiRed,
}

var findingMark = map[checks.Status]string{
	checks.OK:   "i", // informational (the grafana check's panels not evaluated)
	checks.Warn: "!",
	checks.Fail: "✗",
}

// WriteText writes the report for a person at a terminal: a line per check
// with its status and summary, the findings under it (saying when one is
// back because it grew past the decision that covered it), the findings
// suppressed as known noise, listed, and an overall line.
func WriteText(w io.Writer, rep checks.Report, opts TextOptions) error {
	if opts.MaxDetailLines <= 0 {
		opts.MaxDetailLines = 3
	}
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	paint := func(code, s string) string {
		if !opts.Color || code == "" {
			return s
		}
		return code + s + ansiReset
	}

	ew := &errWriter{w: w}
	ew.printf("%s · %s · %s · %s\n",
		paint(ansiBold, "opsbot checklist"), Clean(rep.Environment),
		rep.StartedAt.In(loc).Format("2006-01-02 15:04 MST"),
		rep.FinishedAt.Sub(rep.StartedAt).Round(time.Millisecond))

	nameWidth := 0
	for _, r := range rep.Results {
		nameWidth = max(nameWidth, utf8.RuneCountInString(r.Check))
	}
	counts := map[checks.Status]int{}
	for _, r := range rep.Results {
		counts[r.Status]++
		label := fmt.Sprintf("%-7s", strings.ToUpper(r.Status.String()))
		ew.printf("%s %-*s  %s %s\n", paint(statusColor[r.Status], label), nameWidth, r.Check,
			Clean(r.Summary), paint(ansiDim, "("+r.Duration.Round(time.Millisecond).String()+")"))
		for _, f := range r.Findings {
			ew.printf("        %s %s\n", paint(statusColor[f.Severity], findingMark[f.Severity]), Clean(f.Title))
			if k := f.Known; k != nil && k.Grew {
				ew.printf("          %s\n", paint(ansiBold, fmt.Sprintf("↑ new again: grew from %s to %s since decided %s (anomaly #%d)",
					checks.FormatCount(k.DecidedCount), checks.FormatCount(k.Count), Clean(k.Decision), k.AnomalyID)))
			}
			lines := strings.Split(strings.TrimRight(f.Detail, "\n"), "\n")
			if f.Detail == "" {
				lines = nil
			}
			for i, l := range lines {
				if i == opts.MaxDetailLines {
					ew.printf("          %s\n", paint(ansiDim, fmt.Sprintf("… %d more lines", len(lines)-i)))
					break
				}
				ew.printf("          %s\n", Clean(l))
			}
			if f.Link != "" {
				ew.printf("          → %s\n", Clean(f.Link))
			}
		}
	}
	if n := len(rep.Suppressed); n > 0 {
		ew.printf("\n%s %d suppressed (decided Noise, or Intermittent within its window)\n", paint(ansiBold, "Known noise:"), n)
		for _, sp := range rep.Suppressed {
			k := sp.Known
			ew.printf("        %s %s: %s\n", paint(ansiDim, "~"), Clean(sp.Check), Clean(sp.Finding.Title))
			line := fmt.Sprintf("anomaly #%d, decided %s by %s on %s", k.AnomalyID, Clean(k.Decision), Clean(k.DecidedBy),
				k.DecidedAt.UTC().Format("2006-01-02 15:04 UTC"))
			if k.DecidedCount > 0 {
				line += fmt.Sprintf(" · %s then, %s now", checks.FormatCount(k.DecidedCount), checks.FormatCount(k.Count))
			}
			ew.printf("          %s\n", paint(ansiDim, line))
		}
	}
	var parts []string
	for _, s := range []checks.Status{checks.Fail, checks.Unknown, checks.Warn, checks.OK} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	ew.printf("\n%s %s (%s)\n", paint(ansiBold, "Overall:"),
		paint(statusColor[rep.Status], strings.ToUpper(rep.Status.String())), strings.Join(parts, ", "))
	if rep.Cost != nil {
		ew.printf("Cost: %s · %s\n", rep.FinishedAt.Sub(rep.StartedAt).Round(time.Millisecond), rep.Cost)
	}
	return ew.err
}

// WriteJSON writes the report in its documented JSON schema, indented, with
// a trailing newline.
func WriteJSON(w io.Writer, rep checks.Report) error { return writeIndented(w, rep) }

// writeIndented writes v as indented JSON with a trailing newline, "<", ">"
// and "&" as they are (the reader is a person or jq, not a browser).
func writeIndented(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Clean makes untrusted text (log lines, alert annotations, pod names) safe
// to print on a terminal: control characters, including the ESC of ANSI
// sequences that could rewrite the screen, are replaced by U+FFFD, and
// invalid UTF-8 is replaced too. Tabs are kept.
func Clean(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || (unicode.IsControl(r) && r != '\t') {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || (unicode.IsControl(r) && r != '\t') {
			return '\uFFFD'
		}
		return r
	}, s)
}

// errWriter keeps the first write error so rendering code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
