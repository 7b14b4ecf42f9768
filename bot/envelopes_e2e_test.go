package bot_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/opsbot/opsbot/bot/slacktest"
)

// Every envelope is acked on time, whatever its type or payload: kinds
// the bot has no use for, payloads slack-go cannot parse, types Slack may
// add later. Unacked, Slack would retry them or show the user an error.
func TestEveryEnvelopeIsAcked(t *testing.T) {
	fs := newFake(t)
	h := newHarness(t, fs, openStore(t, onSQLite, ""))
	h.start()
	o := fs.Options()
	interaction := func(typ string, extra string) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"type":%q,"team":{"id":%q},"api_app_id":%q,"user":{"id":%q,"name":"alice"},`+
			`"trigger_id":"1.2.3","action_ts":"1764000000.000100"%s}`, typ, o.TeamID, o.AppID, alice, extra))
	}
	for _, c := range []struct {
		name, typ string
		payload   json.RawMessage
	}{
		{"shortcut", slacktest.TypeInteractive, interaction("shortcut", `,"callback_id":"ops.shortcut"`)},
		{"message action", slacktest.TypeInteractive, interaction("message_action", `,"callback_id":"ops.msg","channel":{"id":"C00000OPS"},"message":{"ts":"1.2","text":"x"}`)},
		{"view closed", slacktest.TypeInteractive, interaction("view_closed", `,"view":{"id":"V1","callback_id":"triage.decision"},"is_cleared":false`)},
		{"block suggestion", slacktest.TypeInteractive, interaction("block_suggestion", `,"action_id":"x","block_id":"y","value":"ab"`)},
		{"unknown interaction", slacktest.TypeInteractive, interaction("something_new", "")},
		{"unknown view submission", slacktest.TypeInteractive, interaction("view_submission", `,"view":{"id":"V2","callback_id":"not.ours"}`)},
		{"unknown action", slacktest.TypeInteractive, interaction("block_actions", `,"actions":[{"action_id":"not.ours","block_id":"b","type":"button","action_ts":"1.2"}]`)},
		{"interaction from elsewhere", slacktest.TypeInteractive, json.RawMessage(`{"type":"shortcut","team":{"id":"T0ELSEWHERE"},"api_app_id":"A0ELSE"}`)},
		{"unknown event", slacktest.TypeEventsAPI, json.RawMessage(fmt.Sprintf(`{"type":"event_callback","team_id":%q,"api_app_id":%q,"event_id":"Ev1","event":{"type":"something_new"}}`, o.TeamID, o.AppID))},
		{"slash command of another shape", slacktest.TypeSlashCommands, json.RawMessage(`"/ops status"`)},
		{"interaction of another shape", slacktest.TypeInteractive, json.RawMessage(`[1,2]`)},
		{"unknown envelope type", "something_new", json.RawMessage(`{"x":1}`)},
	} {
		t.Run(c.name, func(t *testing.T) {
			env, err := fs.SendEnvelope(h.ctx, c.typ, c.payload)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if len(env.AckPayload) != 0 {
				t.Errorf("ack payload %s, want none", env.AckPayload)
			}
		})
	}
	// And the bot carries on.
	h.slash(alice, "anomaly after the odd envelopes")
	h.waitMessage(devChannel, "after the odd envelopes")
	if n := fs.TotalConnections(); n != 1 {
		t.Errorf("%d connections: an envelope made the bot reconnect", n)
	}
}
