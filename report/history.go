package report

import (
	"io"
	"strings"

	"github.com/opsbot/opsbot/history"
	"github.com/opsbot/opsbot/noise"
)

// historyTime is how the history search writes a time, as `/ops history`
// does.
const historyTime = "2006-01-02 15:04 UTC"

// WriteHistoryText writes the result of a history search of query for a
// person at a terminal: how many anomalies match, then each one shown
// with its decision, who made it and when, its ticket, its thread (the
// Slack channel and message ts) and its conclusion on the next line.
// Untrusted text is cleaned (Clean).
func WriteHistoryText(w io.Writer, query string, r history.Result) error {
	ew := &errWriter{w: w}
	switch {
	case r.Total == 0:
		ew.printf("Nothing in the history matches %q.\n", Clean(query))
		return ew.err
	case r.Total == 1:
		ew.printf("1 anomaly matches %q.\n", Clean(query))
	case len(r.Hits) < r.Total:
		ew.printf("%d anomalies match %q; the best %d first.\n", r.Total, Clean(query), len(r.Hits))
	default:
		ew.printf("%d anomalies match %q.\n", r.Total, Clean(query))
	}
	for _, h := range r.Hits {
		ew.printf("\n#%d %s — %s %s\n", h.AnomalyID, Clean(h.Title), Clean(h.Environment), Clean(h.Fingerprint))
		if h.Decision == "" {
			ew.printf("  undecided, opened %s", h.At.UTC().Format(historyTime))
		} else {
			ew.printf("  %s by %s, %s", noise.DecisionLabel(h.Decision), Clean(h.DecidedBy), h.At.UTC().Format(historyTime))
		}
		if h.Ticket != "" {
			ew.printf(" · ticket %s", Clean(h.Ticket))
		}
		if h.Channel != "" && h.ThreadTS != "" {
			ew.printf(" · thread %s/%s", Clean(h.Channel), Clean(h.ThreadTS))
		}
		ew.printf("\n")
		if c := strings.Join(strings.Fields(h.Conclusion), " "); c != "" {
			ew.printf("  %s\n", Clean(c))
		}
	}
	return ew.err
}

// WriteHistoryJSON writes the result of a history search as JSON
// (history.Result's fields), indented, with a trailing newline.
func WriteHistoryJSON(w io.Writer, r history.Result) error {
	if r.Hits == nil {
		r.Hits = []history.Hit{}
	}
	return writeIndented(w, r)
}
