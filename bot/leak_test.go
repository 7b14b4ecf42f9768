package bot_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/opsbot/opsbot/triage"
)

// When Run returns, nothing the bot started is left running: not the
// socket loop and slack-go's goroutines, not the workers of any pool, not
// the timers that guard modal acks.
func TestRunLeavesNoGoroutines(t *testing.T) {
	fs := newFake(t)
	store := openStore(t, onSQLite, "")
	h := newHarness(t, fs, store)
	before := goleak.IgnoreCurrent() // the fake Slack's and the store's own
	h.start()
	h.slash(alice, "anomaly before the shutdown")
	root := h.waitMessage(devChannel, "before the shutdown")
	h.decide(alice, root, triage.Noise, values("conclusion", "a load test", "ticket", "https://t.example.com/1",
		"dashboard", "https://grafana.example.com/d/lt"))
	h.waitMessage(devChannel, "*Decision: Noise* by @alice")
	h.slash(alice, "status")

	if err := h.stop(); err != nil {
		t.Fatalf("Run = %v", err)
	}
	// The Web API client's idle keep-alive connections belong to the Slack
	// client, which cmd/opsbot builds and which outlives Run; closing the
	// fake Slack ends them (and the fake's side of every connection).
	fs.Close()
	goleak.VerifyNone(t, before)
}
