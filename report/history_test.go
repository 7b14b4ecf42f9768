package report

import (
	"bytes"
	"testing"
	"time"

	"github.com/opsbot/opsbot/history"
	"github.com/opsbot/opsbot/triage"
)

// sampleHistory is a search result with untrusted text carrying a
// terminal escape.
func sampleHistory() history.Result {
	at := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	return history.Result{
		Query: history.Query{Words: []string{"probe"}, Decision: triage.Noise},
		Total: 12, Hits: []history.Hit{
			{AnomalyID: 42, Environment: "prod", Fingerprint: "pods/api/crashloop", Title: "api \x1b[2J crash-looping",
				Decision: "noise", DecidedBy: "U0ALICE", At: at, Conclusion: "the liveness probe times out\nunder load",
				Ticket: "https://jira.example.com/browse/OPS-4711", Channel: "C0DEV", ThreadTS: "1764000000.000100"},
			{AnomalyID: 3, Environment: "dev", Fingerprint: "pods/worker/oom", Title: "worker probe OOM-killed", At: at.Add(-time.Hour)},
		},
	}
}

func TestWriteHistoryGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHistoryText(&buf, "probe decision:noise", sampleHistory()); err != nil {
		t.Fatal(err)
	}
	golden(t, "history.golden", buf.Bytes())
	buf.Reset()
	if err := WriteHistoryJSON(&buf, sampleHistory()); err != nil {
		t.Fatal(err)
	}
	golden(t, "history.json.golden", buf.Bytes())

	buf.Reset()
	if err := WriteHistoryText(&buf, "zebra", history.Result{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "history-none.golden", buf.Bytes())
}
