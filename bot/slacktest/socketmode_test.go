package slacktest

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// testTimeout bounds every wait of a test; nothing waits for it unless the
// test fails.
const testTimeout = 20 * time.Second

// harness runs slack-go's real socketmode client against a Server.
type harness struct {
	t   testing.TB
	srv *Server
	api *slack.Client
	sm  *socketmode.Client

	mu        sync.Mutex
	lifecycle []socketmode.Event
	changed   chan struct{}
	handle    func(*socketmode.Client, socketmode.Event)
}

// newHarness starts the client; handle is called (on the event loop) for
// slash commands, interactions and Events API events.
func newHarness(t testing.TB, srv *Server, handle func(*socketmode.Client, socketmode.Event), opts ...socketmode.Option) *harness {
	t.Helper()
	h := &harness{t: t, srv: srv, changed: make(chan struct{}), handle: handle}
	h.api = srv.NewClient()
	h.sm = socketmode.New(h.api, opts...)
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- h.sm.RunContext(ctx) }()
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-h.sm.Events:
				h.dispatch(evt)
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-runDone:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("RunContext: %v", err)
			}
		case <-time.After(testTimeout):
			t.Errorf("RunContext did not return")
		}
		<-loopDone
	})
	return h
}

func (h *harness) dispatch(evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI:
		if h.handle != nil {
			h.handle(h.sm, evt)
		} else if evt.Request != nil {
			_ = h.sm.Ack(*evt.Request)
		}
		return
	}
	h.mu.Lock()
	h.lifecycle = append(h.lifecycle, evt)
	close(h.changed)
	h.changed = make(chan struct{})
	h.mu.Unlock()
}

// waitLifecycle waits until cond holds for the client's lifecycle events
// (connecting, connected, connection_error, hello...).
func (h *harness) waitLifecycle(cond func([]socketmode.Event) bool) []socketmode.Event {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for {
		h.mu.Lock()
		evs := append([]socketmode.Event(nil), h.lifecycle...)
		ch := h.changed
		h.mu.Unlock()
		if cond(evs) {
			return evs
		}
		select {
		case <-ch:
		case <-ctx.Done():
			h.t.Fatalf("lifecycle condition not met; events: %v", eventTypes(evs))
		}
	}
}

func eventTypes(evs []socketmode.Event) []socketmode.EventType {
	out := make([]socketmode.EventType, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

func count(evs []socketmode.Event, typ socketmode.EventType) int {
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func newServer(t testing.TB, opts Options) *Server {
	t.Helper()
	if _, isBench := t.(*testing.B); opts.Logf == nil && !isBench {
		opts.Logf = t.Logf
	}
	s := New(opts)
	t.Cleanup(s.Close)
	return s
}

func TestHelloAndSlashCommandRoundTrip(t *testing.T) {
	srv := newServer(t, Options{})
	ctx := testCtx(t)
	got := make(chan slack.SlashCommand, 1)
	h := newHarness(t, srv, func(c *socketmode.Client, evt socketmode.Event) {
		cmd, ok := evt.Data.(slack.SlashCommand)
		if !ok {
			t.Errorf("data is %T", evt.Data)
			return
		}
		got <- cmd
		if err := c.Ack(*evt.Request, map[string]any{"text": "Running the checklist…"}); err != nil {
			t.Errorf("ack: %v", err)
		}
	})

	evs := h.waitLifecycle(func(evs []socketmode.Event) bool { return count(evs, socketmode.EventTypeHello) == 1 })
	for _, e := range evs {
		if e.Type != socketmode.EventTypeHello {
			continue
		}
		req := e.Request
		if req.NumConnections != 1 || req.ConnectionInfo.AppID != DefaultAppID || req.DebugInfo.ApproximateConnectionTime <= 0 || req.DebugInfo.Host == "" {
			t.Errorf("hello = %+v", req)
		}
	}
	if err := srv.WaitForConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}

	env, err := srv.SendSlashCommand(ctx, SlashCommand{Command: "/ops", Text: "checklist prod", UserID: DefaultAliceID, ChannelID: DefaultOpsChannelID})
	if err != nil {
		t.Fatalf("SendSlashCommand: %v", err)
	}
	cmd := <-got
	want := slack.SlashCommand{
		Token: DefaultVerificationToken, TeamID: DefaultTeamID, TeamDomain: DefaultTeamDomain,
		ChannelID: DefaultOpsChannelID, ChannelName: "ops", UserID: DefaultAliceID, UserName: "alice",
		Command: "/ops", Text: "checklist prod", APIAppID: DefaultAppID,
		ResponseURL: cmd.ResponseURL, TriggerID: env.TriggerID,
	}
	if cmd != want {
		t.Errorf("slash command\n got %+v\nwant %+v", cmd, want)
	}
	if !strings.HasPrefix(cmd.ResponseURL, srv.URL()+"/commands/"+DefaultTeamID+"/") {
		t.Errorf("response_url = %q", cmd.ResponseURL)
	}
	if !env.Acked || env.Late || env.AckLatency <= 0 || env.Type != TypeSlashCommands || !env.AcceptsResponsePayload {
		t.Errorf("envelope = %+v", env)
	}
	if !strings.Contains(string(env.AckPayload), "Running the checklist") {
		t.Errorf("ack payload = %s", env.AckPayload)
	}
	// Slack shows an ack payload to the user as an ephemeral message.
	eph := srv.Ephemerals(DefaultAliceID)
	if len(eph) != 1 || eph[0].Text != "Running the checklist…" || eph[0].Source != "ack" || eph[0].Channel != DefaultOpsChannelID {
		t.Errorf("ephemerals = %+v", eph)
	}
	st := srv.AckStats()
	if st.Sent != 1 || st.Acked != 1 || st.Missing != 0 || st.P50 <= 0 || st.P99 < st.P50 {
		t.Errorf("ack stats = %+v", st)
	}
}

func TestResponseURLInChannel(t *testing.T) {
	srv := newServer(t, Options{})
	ctx := testCtx(t)
	urls := make(chan string, 1)
	newHarness(t, srv, func(c *socketmode.Client, evt socketmode.Event) {
		_ = c.Ack(*evt.Request)
		urls <- evt.Data.(slack.SlashCommand).ResponseURL
	})
	if err := srv.WaitForConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	env, err := srv.SendSlashCommand(ctx, SlashCommand{Command: "/ops", Text: "status"})
	if err != nil {
		t.Fatal(err)
	}
	if env.AckPayload != nil {
		t.Errorf("ack payload = %s, want none", env.AckPayload)
	}
	api := srv.NewClient()
	if _, _, err := api.PostMessageContext(ctx, "", slack.MsgOptionText("all green", false), slack.MsgOptionResponseURL(<-urls, slack.ResponseTypeInChannel)); err != nil {
		t.Fatalf("post to response_url: %v", err)
	}
	msgs := srv.Messages(DefaultOpsChannelID)
	if len(msgs) != 1 || msgs[0].Text != "all green" || msgs[0].User != DefaultBotUserID {
		t.Errorf("messages = %+v", msgs)
	}
}

func TestBlockActionsAndViewSubmission(t *testing.T) {
	srv := newServer(t, Options{})
	ctx := testCtx(t)
	type seen struct {
		cb  slack.InteractionCallback
		err error
	}
	interactions := make(chan seen, 4)
	ackWith := make(chan any, 4)
	newHarness(t, srv, func(c *socketmode.Client, evt socketmode.Event) {
		cb := evt.Data.(slack.InteractionCallback)
		switch cb.Type {
		case slack.InteractionTypeBlockActions:
			_ = c.Ack(*evt.Request) // ack first, then work
			modal := slack.ModalViewRequest{
				Type:       slack.VTModal,
				Title:      slack.NewTextBlockObject(slack.PlainTextType, "Decide", false, false),
				Submit:     slack.NewTextBlockObject(slack.PlainTextType, "Save", false, false),
				CallbackID: "decision",
				Blocks: slack.Blocks{BlockSet: []slack.Block{
					slack.NewInputBlock("reason", slack.NewTextBlockObject(slack.PlainTextType, "Why?", false, false), nil,
						slack.NewPlainTextInputBlockElement(nil, "reason_input")),
					slack.NewInputBlock("decision", slack.NewTextBlockObject(slack.PlainTextType, "Decision", false, false), nil,
						slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, nil, "decision_select",
							slack.NewOptionBlockObject("noise", slack.NewTextBlockObject(slack.PlainTextType, "Noise", false, false), nil),
							slack.NewOptionBlockObject("escalate", slack.NewTextBlockObject(slack.PlainTextType, "Escalate", false, false), nil))),
				}},
			}
			_, err := c.OpenViewContext(ctx, cb.TriggerID, modal)
			interactions <- seen{cb, err}
		case slack.InteractionTypeViewSubmission:
			interactions <- seen{cb, nil}
			if p := <-ackWith; p != nil {
				_ = c.Ack(*evt.Request, p)
			} else {
				_ = c.Ack(*evt.Request)
			}
		}
	})
	if err := srv.WaitForConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}

	api := srv.NewClient()
	_, ts, err := api.PostMessageContext(ctx, DefaultOpsChannelID,
		slack.MsgOptionText("pods: 1 finding", false),
		slack.MsgOptionBlocks(
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*pods*: CrashLoopBackOff", false, false), nil, nil),
			slack.NewActionBlock("decide",
				slack.NewButtonBlockElement("triage_decide", "finding-42", slack.NewTextBlockObject(slack.PlainTextType, "Decide", false, false)))))
	if err != nil {
		t.Fatalf("post: %v", err)
	}

	if _, err := srv.ClickButton(ctx, ButtonClick{Channel: DefaultOpsChannelID, MessageTS: ts, ActionID: "triage_decide", UserID: DefaultBobID}); err != nil {
		t.Fatalf("ClickButton: %v", err)
	}
	click := <-interactions
	if click.err != nil {
		t.Fatalf("views.open: %v", click.err)
	}
	acts := click.cb.ActionCallback.BlockActions
	if len(acts) != 1 || acts[0].ActionID != "triage_decide" || acts[0].BlockID != "decide" || acts[0].Value != "finding-42" || acts[0].Type != "button" {
		t.Errorf("actions = %+v", acts)
	}
	if click.cb.User.ID != DefaultBobID || click.cb.Team.ID != DefaultTeamID || click.cb.APIAppID != DefaultAppID ||
		click.cb.Container.MessageTs != ts || click.cb.Container.ChannelID != DefaultOpsChannelID ||
		click.cb.Channel.ID != DefaultOpsChannelID || click.cb.Message.Timestamp != ts || click.cb.ResponseURL == "" {
		t.Errorf("block_actions callback = %+v", click.cb)
	}

	open := srv.OpenViews(DefaultBobID)
	if len(open) != 1 || open[0].CallbackID != "decision" || open[0].Title != "Decide" {
		t.Fatalf("open views = %+v", open)
	}
	viewID := open[0].ID

	// First submission: the app answers response_action errors.
	ackWith <- slack.NewErrorsViewSubmissionResponse(map[string]string{"reason": "Say more"})
	env, err := srv.SubmitView(ctx, viewID, ViewValues{
		"reason":   {"reason_input": {Value: "flaky"}},
		"decision": {"decision_select": {SelectedOption: "noise"}},
	})
	if err != nil {
		t.Fatalf("SubmitView: %v", err)
	}
	sub := <-interactions
	vals := sub.cb.View.State.Values
	if sub.cb.View.ID != viewID || sub.cb.View.CallbackID != "decision" || sub.cb.View.Hash == "" ||
		vals["reason"]["reason_input"].Value != "flaky" || vals["decision"]["decision_select"].SelectedOption.Value != "noise" ||
		vals["decision"]["decision_select"].SelectedOption.Text.Text != "Noise" {
		t.Errorf("view_submission = %+v", sub.cb.View)
	}
	ack, err := env.ViewAck()
	if err != nil || ack.ResponseAction != "errors" || ack.Errors["reason"] != "Say more" {
		t.Errorf("view ack = %+v, %v", ack, err)
	}
	if v, _ := srv.View(viewID); !v.Open || v.Errors["reason"] != "Say more" {
		t.Errorf("view after errors = %+v", v)
	}

	// Second submission: a plain ack closes the modal.
	ackWith <- nil
	if _, err := srv.SubmitView(ctx, viewID, ViewValues{
		"reason":   {"reason_input": {Value: "flaky node, seen 3 times"}},
		"decision": {"decision_select": {SelectedOption: "escalate"}},
	}); err != nil {
		t.Fatalf("SubmitView: %v", err)
	}
	<-interactions
	if v, _ := srv.View(viewID); v.Open {
		t.Errorf("view still open after a plain ack")
	}

	// The app answers the click through its response_url.
	if _, _, err := api.PostMessageContext(ctx, "", slack.MsgOptionText("Decided: escalate", false), slack.MsgOptionReplaceOriginal(click.cb.ResponseURL)); err != nil {
		t.Fatalf("replace_original: %v", err)
	}
	if m, _ := srv.Message(DefaultOpsChannelID, ts); m.Text != "Decided: escalate" || len(m.Blocks) != 0 || m.Updates != 1 {
		t.Errorf("message after replace_original = %+v", m)
	}

	// Values the modal does not have are a test bug, reported at once.
	if _, err := srv.SubmitView(ctx, viewID, nil); err == nil {
		t.Errorf("SubmitView of a closed view succeeded")
	}
}

func TestSubmitViewChecksInputs(t *testing.T) {
	srv := newServer(t, Options{})
	srv.mu.Lock()
	v := srv.newViewLocked(DefaultAliceID, "", "", map[string]any{
		"type": "modal", "title": map[string]any{"type": "plain_text", "text": "T"},
		"blocks": []any{map[string]any{
			"type": "input", "block_id": "b", "label": map[string]any{"type": "plain_text", "text": "L"},
			"element": map[string]any{"type": "plain_text_input", "action_id": "a"},
		}},
	})
	srv.stacks[DefaultAliceID] = []string{v.id}
	srv.mu.Unlock()
	ctx := testCtx(t)
	if _, err := srv.SubmitView(ctx, v.id, ViewValues{}); err == nil || !strings.Contains(err.Error(), "required") {
		t.Errorf("missing required input: err = %v", err)
	}
	if _, err := srv.SubmitView(ctx, v.id, ViewValues{"b": {"a": {Value: "x"}}, "nope": {"a": {Value: "y"}}}); err == nil || !strings.Contains(err.Error(), "no input") {
		t.Errorf("unknown input: err = %v", err)
	}
	if _, err := srv.SubmitView(ctx, v.id, ViewValues{"b": {"a": {Value: "x"}}}); !errors.Is(err, ErrNoConnection) {
		t.Errorf("no connection: err = %v", err)
	}
}

func TestTriggerIDRules(t *testing.T) {
	srv := newServer(t, Options{})
	ctx := testCtx(t)
	newHarness(t, srv, nil)
	if err := srv.WaitForConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	api := srv.NewClient()
	modal := slack.ModalViewRequest{
		Type:   slack.VTModal,
		Title:  slack.NewTextBlockObject(slack.PlainTextType, "Hi", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewDividerBlock()}},
	}
	trigger := func(opts ...PayloadOption) string {
		env, err := srv.SendSlashCommand(ctx, SlashCommand{Command: "/ops"}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return env.TriggerID
	}
	fresh := trigger()
	if _, err := api.OpenViewContext(ctx, fresh, modal); err != nil {
		t.Fatalf("views.open: %v", err)
	}
	expired := trigger()
	srv.ExpireTriggers()
	cases := []struct {
		name, trigger, want string
	}{
		{"reused", fresh, "exchanged_trigger_id"},
		{"expired", expired, "expired_trigger_id"},
		{"unknown", "123.456.abc", "invalid_trigger_id"},
		{"other app", trigger(WithAppID("A0OTHER")), "invalid_trigger_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := api.OpenViewContext(ctx, tc.trigger, modal)
			var se slack.SlackErrorResponse
			if !errors.As(err, &se) || se.Err != tc.want {
				t.Errorf("err = %v, want %s", err, tc.want)
			}
		})
	}
}

func TestForeignTeamPayload(t *testing.T) {
	srv := newServer(t, Options{})
	ctx := testCtx(t)
	got := make(chan slack.SlashCommand, 1)
	newHarness(t, srv, func(c *socketmode.Client, evt socketmode.Event) {
		got <- evt.Data.(slack.SlashCommand)
		_ = c.Ack(*evt.Request)
	})
	if err := srv.WaitForConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.SendSlashCommand(ctx, SlashCommand{Command: "/ops"}, WithTeam("T999"), WithAppID("A999")); err != nil {
		t.Fatal(err)
	}
	if cmd := <-got; cmd.TeamID != "T999" || cmd.APIAppID != "A999" {
		t.Errorf("team/app = %s/%s", cmd.TeamID, cmd.APIAppID)
	}
}

func TestDisconnectRefreshRequestedReconnects(t *testing.T) {
	srv := newServer(t, Options{})
	ctx := testCtx(t)
	h := newHarness(t, srv, nil)
	if err := srv.WaitForConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if n := srv.Disconnect(ReasonRefreshRequested); n != 1 {
		t.Fatalf("Disconnect told %d connections", n)
	}
	evs := h.waitLifecycle(func(evs []socketmode.Event) bool { return count(evs, socketmode.EventTypeConnected) >= 2 })
	// The disconnect frame never reaches the app; the client reconnects by itself.
	if count(evs, socketmode.EventTypeDisconnect) != 0 || count(evs, socketmode.EventTypeConnecting) < 2 {
		t.Errorf("events = %v", eventTypes(evs))
	}
	if err := srv.WaitFor(ctx, func() bool { return srv.TotalConnections() == 2 && srv.Connections() == 1 }); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.SendSlashCommand(ctx, SlashCommand{Command: "/ops"}); err != nil {
		t.Fatalf("slash command after reconnect: %v", err)
	}
	if got := len(srv.Calls("apps.connections.open")); got != 2 {
		t.Errorf("apps.connections.open called %d times", got)
	}
}

func TestDroppedConnectionReconnects(t *testing.T) {
	srv := newServer(t, Options{})
	ctx := testCtx(t)
	h := newHarness(t, srv, nil)
	if err := srv.WaitForConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if n := srv.DropConnections(); n != 1 {
		t.Fatalf("dropped %d", n)
	}
	h.waitLifecycle(func(evs []socketmode.Event) bool { return count(evs, socketmode.EventTypeConnected) >= 2 })
	if err := srv.WaitFor(ctx, func() bool { return srv.TotalConnections() == 2 && srv.Connections() == 1 }); err != nil {
		t.Fatal(err)
	}
}

func TestConnectionLifetimeRefresh(t *testing.T) {
	srv := newServer(t, Options{ConnectionLifetime: 100 * time.Millisecond})
	ctx := testCtx(t)
	newHarness(t, srv, nil)
	if err := srv.WaitFor(ctx, func() bool { return srv.TotalConnections() >= 3 }); err != nil {
		t.Fatal(err)
	}
}

func TestMissingPingsMakeTheClientReconnect(t *testing.T) {
	srv := newServer(t, Options{PingInterval: 20 * time.Millisecond})
	ctx := testCtx(t)
	h := newHarness(t, srv, nil, socketmode.OptionPingInterval(400*time.Millisecond))
	if err := srv.WaitForConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	srv.StopPinging()
	h.waitLifecycle(func(evs []socketmode.Event) bool { return count(evs, socketmode.EventTypeConnected) >= 2 })
	srv.ResumePinging()
	// A connection made while pings were off may still time out once more;
	// deliver as soon as one is open.
	for {
		if err := srv.WaitForConnections(ctx, 1); err != nil {
			t.Fatal(err)
		}
		_, err := srv.SendSlashCommand(ctx, SlashCommand{Command: "/ops"})
		if err == nil {
			break
		}
		if !errors.Is(err, ErrNoConnection) {
			t.Fatalf("slash command after reconnect: %v", err)
		}
	}
}

func TestConnectionsOpenRateLimitIsHonoured(t *testing.T) {
	srv := newServer(t, Options{})
	srv.FailConnectionsOpen(1, 429, time.Second)
	ctx := testCtx(t)
	h := newHarness(t, srv, nil)
	evs := h.waitLifecycle(func(evs []socketmode.Event) bool { return count(evs, socketmode.EventTypeConnected) >= 1 })
	var ce *slack.ConnectionErrorEvent
	for _, e := range evs {
		if e.Type == socketmode.EventTypeConnectionError {
			ce = e.Data.(*slack.ConnectionErrorEvent)
			break
		}
	}
	if ce == nil {
		t.Fatalf("no connection_error event; events: %v", eventTypes(evs))
	}
	var rl *slack.RateLimitedError
	if !errors.As(ce.ErrorObj, &rl) || rl.RetryAfter != time.Second || ce.Backoff < time.Second {
		t.Errorf("connection error = %v (backoff %s)", ce.ErrorObj, ce.Backoff)
	}
	calls := srv.Calls("apps.connections.open")
	if len(calls) != 2 || calls[0].Status != 429 || calls[0].Error != "ratelimited" || calls[1].Status != 200 {
		t.Errorf("calls = %+v", calls)
	}
	if err := srv.WaitForConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
}

func TestLateAndMissingAcks(t *testing.T) {
	srv := newServer(t, Options{AckTimeout: 150 * time.Millisecond})
	ctx := testCtx(t)
	release := make(chan struct{})
	newHarness(t, srv, func(c *socketmode.Client, evt socketmode.Event) {
		<-release // a handler that works before acking
		_ = c.Ack(*evt.Request, map[string]any{"text": "too late"})
	})
	if err := srv.WaitForConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	env, err := srv.SendSlashCommand(ctx, SlashCommand{Command: "/ops"})
	if !errors.Is(err, ErrNoAck) || env == nil || env.Acked {
		t.Fatalf("err = %v, env = %+v", err, env)
	}
	if err := srv.WaitFor(ctx, func() bool { return srv.AckStats().Missing == 1 }); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := srv.WaitFor(ctx, func() bool { return srv.AckStats().Late == 1 }); err != nil {
		t.Fatal(err)
	}
	got := srv.Envelopes()[0]
	if !got.Acked || !got.Late || !got.Missing || got.AckLatency < 150*time.Millisecond {
		t.Errorf("envelope = %+v", got)
	}
	// Slack ignores the payload of a late ack.
	if eph := srv.Ephemerals(""); len(eph) != 0 {
		t.Errorf("late ack payload shown: %+v", eph)
	}
}

func TestEventsAPIRedelivery(t *testing.T) {
	srv := newServer(t, Options{})
	ctx := testCtx(t)
	type delivery struct {
		req socketmode.Request
		ev  slackevents.EventsAPIEvent
	}
	got := make(chan delivery, 2)
	newHarness(t, srv, func(c *socketmode.Client, evt socketmode.Event) {
		got <- delivery{*evt.Request, evt.Data.(slackevents.EventsAPIEvent)}
		_ = c.Ack(*evt.Request)
	})
	if err := srv.WaitForConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	first, err := srv.SendEvent(ctx, map[string]any{
		"type": "app_mention", "user": DefaultAliceID, "text": "<@" + DefaultBotUserID + "> status",
		"ts": "1732430000.000100", "channel": DefaultOpsChannelID, "event_ts": "1732430000.000100",
	})
	if err != nil {
		t.Fatal(err)
	}
	again, err := srv.Redeliver(ctx, first.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	d1, d2 := <-got, <-got
	if d1.req.RetryAttempt != 0 || d2.req.RetryAttempt != 1 || d2.req.RetryReason != "timeout" || d1.req.EnvelopeID == d2.req.EnvelopeID {
		t.Errorf("deliveries: %+v / %+v", d1.req, d2.req)
	}
	cb1 := d1.ev.Data.(*slackevents.EventsAPICallbackEvent)
	cb2 := d2.ev.Data.(*slackevents.EventsAPICallbackEvent)
	if cb1.EventID == "" || cb1.EventID != cb2.EventID || cb1.EventID != first.EventID || again.EventID != first.EventID {
		t.Errorf("event ids %q %q %q", cb1.EventID, cb2.EventID, first.EventID)
	}
	if m, ok := d1.ev.InnerEvent.Data.(*slackevents.AppMentionEvent); !ok || m.Channel != DefaultOpsChannelID {
		t.Errorf("inner event = %#v", d1.ev.InnerEvent.Data)
	}
}

// rawConn opens a Socket Mode connection without slack-go's client, to look
// at the frames themselves.
func rawConn(t *testing.T, srv *Server) *websocket.Conn {
	t.Helper()
	_, url, err := srv.NewClient().StartSocketModeContext(testCtx(t))
	if err != nil {
		t.Fatalf("apps.connections.open: %v", err)
	}
	if !strings.HasPrefix(url, "ws://127.0.0.1:") || !strings.Contains(url, "/link/?ticket=") {
		t.Errorf("url = %q", url)
	}
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	// A ticket is single-use.
	if _, resp, err := websocket.DefaultDialer.Dial(url, nil); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Errorf("second dial with the same ticket: %v", err)
	}
	return ws
}

func readFrame(t *testing.T, ws *websocket.Conn) map[string]any {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(testTimeout))
	var m map[string]any
	if err := ws.ReadJSON(&m); err != nil {
		t.Fatalf("read frame: %v", err)
	}
	return m
}

func keys(m map[string]any) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func TestWireFormat(t *testing.T) {
	srv := newServer(t, Options{})
	ws := rawConn(t, srv)
	hello := readFrame(t, ws)
	if keys(hello) != "connection_info,debug_info,num_connections,type" || hello["type"] != "hello" {
		t.Errorf("hello = %v", hello)
	}
	if di := hello["debug_info"].(map[string]any); keys(di) != "approximate_connection_time,build_number,host" {
		t.Errorf("debug_info = %v", di)
	}
	ctx := testCtx(t)

	type result struct {
		env *Envelope
		err error
	}
	done := make(chan result, 1)
	go func() {
		env, err := srv.SendSlashCommand(ctx, SlashCommand{Command: "/ops", Text: "help"})
		done <- result{env, err}
	}()
	frame := readFrame(t, ws)
	// Slash command envelopes carry no retry fields (slack-go issue #1265).
	if keys(frame) != "accepts_response_payload,envelope_id,payload,type" || frame["type"] != "slash_commands" || frame["accepts_response_payload"] != true {
		t.Errorf("slash envelope = %v", frame)
	}
	p := frame["payload"].(map[string]any)
	if keys(p) != "api_app_id,channel_id,channel_name,command,is_enterprise_install,response_url,team_domain,team_id,text,token,trigger_id,user_id,user_name" ||
		p["is_enterprise_install"] != "false" {
		t.Errorf("slash payload = %v", p)
	}
	if err := ws.WriteJSON(map[string]any{"envelope_id": frame["envelope_id"], "payload": map[string]any{"text": "ok"}}); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.err != nil || !r.env.Acked {
		t.Fatalf("SendSlashCommand: %+v %v", r.env, r.err)
	}

	go func() {
		env, err := srv.SendEvent(ctx, map[string]any{"type": "app_mention", "text": "hi"})
		done <- result{env, err}
	}()
	frame = readFrame(t, ws)
	if keys(frame) != "accepts_response_payload,envelope_id,payload,retry_attempt,retry_reason,type" ||
		frame["accepts_response_payload"] != false || frame["retry_attempt"] != float64(0) || frame["retry_reason"] != "" {
		t.Errorf("events_api envelope = %v", frame)
	}
	p = frame["payload"].(map[string]any)
	if keys(p) != "api_app_id,authorizations,event,event_context,event_id,event_time,is_ext_shared_channel,team_id,token,type" || p["type"] != "event_callback" {
		t.Errorf("events_api payload = %v", p)
	}
	// An ack of 20 KB or more is dropped, as Slack does.
	big := strings.Repeat("x", maxAckBytes)
	if err := ws.WriteJSON(map[string]any{"envelope_id": frame["envelope_id"], "payload": map[string]any{"text": big}}); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitFor(ctx, func() bool { return srv.AckStats().Oversized == 1 }); err != nil {
		t.Fatal(err)
	}
	if err := ws.WriteJSON(map[string]any{"envelope_id": frame["envelope_id"]}); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.err != nil {
		t.Fatalf("SendEvent: %v", r.err)
	}

	n := srv.Disconnect(ReasonLinkDisabled)
	frame = readFrame(t, ws)
	if n != 1 || frame["type"] != "disconnect" || frame["reason"] != "link_disabled" || keys(frame["debug_info"].(map[string]any)) != "host" {
		t.Errorf("disconnect frame = %v", frame)
	}
	if _, _, err := ws.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Errorf("after disconnect: %v, want a close frame", err)
	}
}

func TestTooManyWebsockets(t *testing.T) {
	srv := newServer(t, Options{MaxConnections: 1})
	first := rawConn(t, srv)
	if f := readFrame(t, first); f["type"] != "hello" {
		t.Fatalf("first frame = %v", f)
	}
	second := rawConn(t, srv)
	f := readFrame(t, second)
	if f["type"] != "disconnect" || f["reason"] != ReasonTooManyWebsockets {
		t.Errorf("second connection got %v", f)
	}
	if srv.Connections() != 1 {
		t.Errorf("connections = %d", srv.Connections())
	}
}

func TestEnvelopesSpreadOverConnections(t *testing.T) {
	srv := newServer(t, Options{})
	ctx := testCtx(t)
	newHarness(t, srv, nil)
	newHarness(t, srv, nil)
	if err := srv.WaitForConnections(ctx, 2); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if _, err := srv.SendSlashCommand(ctx, SlashCommand{Command: "/ops"}); err != nil {
			t.Fatal(err)
		}
	}
	used := map[int]int{}
	for _, e := range srv.Envelopes() {
		used[e.ConnectionID]++
	}
	if len(used) != 2 {
		t.Errorf("envelopes per connection = %v", used)
	}
}

func TestNoConnection(t *testing.T) {
	srv := newServer(t, Options{})
	if _, err := srv.SendSlashCommand(testCtx(t), SlashCommand{Command: "/ops"}); !errors.Is(err, ErrNoConnection) {
		t.Errorf("err = %v", err)
	}
	if _, err := srv.SendSlashCommand(testCtx(t), SlashCommand{Command: "/ops", UserID: "U404"}); err == nil {
		t.Errorf("unknown user accepted")
	}
}

// BenchmarkSlashCommandAck measures the ack round trip of slack-go's client
// against the fake and reports the p50/p99 the fake recorded.
func BenchmarkSlashCommandAck(b *testing.B) {
	srv := newServer(b, Options{})
	ctx := testCtx(b)
	newHarness(b, srv, nil)
	if err := srv.WaitForConnections(ctx, 1); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := srv.SendSlashCommand(ctx, SlashCommand{Command: "/ops"}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	st := srv.AckStats()
	b.ReportMetric(float64(st.P50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(st.P99.Microseconds()), "p99-µs")
}
