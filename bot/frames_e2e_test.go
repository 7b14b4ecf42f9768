package bot_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/triage"
)

// Frames no Slack sends: the bot drops them (or, for an oversized one and
// a run of unusable ones, reconnects), never panics, and handles the next
// envelope.
func TestBrokenFramesAreSurvived(t *testing.T) {
	fs := newFake(t)
	h := newHarness(t, fs, openStore(t, onSQLite, ""))
	h.start()

	type frame struct {
		kind slacktest.FrameKind
		data []byte
	}
	text := func(s string) frame { return frame{slacktest.TextFrame, []byte(s)} }
	empties := make([]frame, 10) // slack-go gives up after ten unusable frames in a row
	for i := range empties {
		empties[i] = frame{kind: slacktest.TextFrame}
	}
	for _, c := range []struct {
		name      string
		frames    []frame
		reconnect bool
	}{
		{name: "truncated JSON", frames: []frame{text(`{"envelope_id":"1","type":"slash_commands","payload":{"text":`)}},
		{name: "not JSON", frames: []frame{text("<html>502 Bad Gateway</html>")}},
		{name: "empty", frames: []frame{text("")}},
		{name: "JSON of another shape", frames: []frame{text(`[1,2,3]`)}},
		{name: "null", frames: []frame{text(`null`)}},
		{name: "binary", frames: []frame{{slacktest.BinaryFrame, []byte{0xff, 0x00, 0x13, 0x37}}}},
		{name: "oversized", reconnect: true, frames: []frame{text(`{"type":"hello","padding":"` +
			string(bytes.Repeat([]byte("x"), bot.MaxEnvelopeBytes)) + `"}`)}},
		{name: "ten empty in a row", reconnect: true, frames: empties},
	} {
		t.Run(c.name, func(t *testing.T) {
			total := fs.TotalConnections()
			for _, f := range c.frames {
				if _, err := fs.SendFrame(h.ctx, f.kind, f.data); err != nil && !c.reconnect {
					t.Fatalf("send: %v", err)
				}
			}
			if c.reconnect {
				if err := fs.WaitFor(h.ctx, func() bool { return fs.TotalConnections() > total && fs.Connections() == 1 }); err != nil {
					t.Fatalf("no reconnection: %v", err)
				}
				h.waitConnected()
			}
			title := "after a frame: " + c.name
			h.slash(alice, "anomaly "+title) // fails unless acked in time
			h.waitMessage(devChannel, title)
			if want := total + btoi(c.reconnect); fs.TotalConnections() != want {
				t.Errorf("%d connections so far, want %d", fs.TotalConnections(), want)
			}
		})
	}
	if st := fs.AckStats(); st.Missing != 0 || st.Late != 0 {
		t.Errorf("ack stats = %+v", st)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Slack warns (`disconnect`, reason warning) that it will refresh a
// connection while an envelope is in flight on it; slack-go leaves that
// connection at once and opens another. The envelope is still handled,
// and handled once when Slack delivers it again on the new connection: a
// slash command, and a modal submission (whose ack comes from a view
// worker, after the switch).
func TestEnvelopeInFlightDuringAWarningIsHandledOnce(t *testing.T) {
	fs := newFake(t)
	store := openStore(t, onSQLite, "")
	h := newHarness(t, fs, store)
	h.start()

	warn := slacktest.ThenDisconnect(slacktest.ReasonWarning)
	env, err := fs.SendSlashCommand(h.ctx, slacktest.SlashCommand{Command: "/ops", Text: "anomaly in flight during a refresh",
		UserID: alice, ChannelID: opsChannel}, warn)
	if env == nil {
		t.Fatalf("not delivered: %v", err)
	}
	if err != nil {
		t.Logf("first delivery: %v", err) // the ack may go down with the old connection
	}
	waitTotal(t, h, 2)
	root := h.waitMessage(devChannel, "in flight during a refresh")
	h.waitEphemeral(alice, "Opened anomaly #1")
	if _, err := fs.Redeliver(h.ctx, env.ID, "timeout"); err != nil {
		t.Fatalf("redelivery: %v", err)
	}

	viewID := h.openModal(alice, root, triage.Noise)
	sub, err := fs.SubmitView(h.ctx, viewID, values("conclusion", "a load test", "ticket", "https://t.example.com/1",
		"dashboard", "https://grafana.example.com/d/lt"), warn)
	if sub == nil {
		t.Fatalf("not delivered: %v", err)
	}
	if err != nil {
		t.Logf("first delivery: %v", err)
	}
	waitTotal(t, h, 3)
	h.waitMessage(devChannel, "*Decision: Noise* by @alice")
	if _, err := fs.Redeliver(h.ctx, sub.ID, "timeout"); err != nil {
		t.Logf("redelivery: %v", err) // the modal is closed: the fake may refuse to apply the ack
	}

	// Later requests: the redeliveries were handled before them.
	h.slash(alice, "anomaly a later one")
	h.waitMessage(devChannel, "a later one")
	h.slash(alice, "status")
	h.waitEphemeral(alice, "*Open anomalies* (1)")
	if n := len(fs.Messages(devChannel)); n != 2 {
		t.Errorf("%d threads, want 2:\n%s", n, dump(fs.Messages(devChannel)))
	}
	if ks := kinds(t, store, 1); count(ks, triage.KindDecided) != 1 {
		t.Errorf("timeline = %v, want one decision", ks)
	}
	if n := len(fs.ThreadReplies(devChannel, root.TS)); n != 1 {
		t.Errorf("%d replies in the thread, want the decision's only", n)
	}
	// The command was answered once: handled twice, the second answer
	// would be "already being investigated".
	answers := 0
	for _, e := range fs.Ephemerals(alice) {
		if strings.Contains(e.Text, "nomaly #1") {
			answers++
		}
	}
	if answers != 1 {
		t.Errorf("%d answers about anomaly #1, want 1: %+v", answers, fs.Ephemerals(alice))
	}
}
