package bot_test

import (
	"bytes"
	"testing"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/bot/slacktest"
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
