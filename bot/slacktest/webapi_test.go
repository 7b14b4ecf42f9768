package slacktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func slackErr(t *testing.T, err error) slack.SlackErrorResponse {
	t.Helper()
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) {
		t.Fatalf("err = %v (%T), want slack.SlackErrorResponse", err, err)
	}
	return se
}

func plain(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, text, false, false)
}

func mrkdwn(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, text, false, false)
}

func TestAuthErrors(t *testing.T) {
	srv := newServer(t, Options{})
	ctx := testCtx(t)
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"no token", func() error {
			_, err := slack.New("", slack.OptionAPIURL(srv.APIURL())).AuthTestContext(ctx)
			return err
		}, "not_authed"},
		{"wrong token", func() error {
			_, err := slack.New("xoxb-wrong", slack.OptionAPIURL(srv.APIURL())).AuthTestContext(ctx)
			return err
		}, "invalid_auth"},
		{"app token on chat.postMessage", func() error {
			_, _, err := slack.New(DefaultAppToken, slack.OptionAPIURL(srv.APIURL())).PostMessageContext(ctx, DefaultOpsChannelID, slack.MsgOptionText("x", false))
			return err
		}, "not_allowed_token_type"},
		{"bot token on apps.connections.open", func() error {
			_, _, err := slack.New(DefaultBotToken, slack.OptionAppLevelToken(DefaultBotToken), slack.OptionAPIURL(srv.APIURL())).StartSocketModeContext(ctx)
			return err
		}, "not_allowed_token_type"},
		{"wrong app token", func() error {
			_, _, err := slack.New(DefaultBotToken, slack.OptionAppLevelToken("xapp-nope"), slack.OptionAPIURL(srv.APIURL())).StartSocketModeContext(ctx)
			return err
		}, "invalid_auth"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if se := slackErr(t, tc.call()); se.Err != tc.want {
				t.Errorf("error = %q, want %q", se.Err, tc.want)
			}
		})
	}
	for _, c := range srv.Calls("") {
		if c.Status != http.StatusOK || c.Args.Get("token") != "" {
			t.Errorf("call %+v", c)
		}
	}

	res, err := srv.NewClient().AuthTestContext(ctx)
	if err != nil || res.UserID != DefaultBotUserID || res.TeamID != DefaultTeamID || res.BotID != DefaultBotID {
		t.Errorf("auth.test = %+v, %v", res, err)
	}
}

func TestPostUpdateAndReplies(t *testing.T) {
	srv := newServer(t, Options{})
	ctx := testCtx(t)
	api := srv.NewClient()

	ch, parent, err := api.PostMessageContext(ctx, "#ops", slack.MsgOptionText("Checklist running…", false),
		slack.MsgOptionBlocks(slack.NewSectionBlock(mrkdwn("*Checklist* running"), nil, nil)),
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: "checklist_run", EventPayload: map[string]any{"run": "r1"}}))
	if err != nil || ch != DefaultOpsChannelID {
		t.Fatalf("post = %s, %v", ch, err)
	}
	var replies []string
	for i := 0; i < 3; i++ {
		_, ts, err := api.PostMessageContext(ctx, DefaultOpsChannelID, slack.MsgOptionText(fmt.Sprintf("check %d done", i), false), slack.MsgOptionTS(parent))
		if err != nil {
			t.Fatal(err)
		}
		replies = append(replies, ts)
	}
	prev, _ := parseTS(parent)
	for _, ts := range replies {
		cur, ok := parseTS(ts)
		if !ok || cur <= prev || len(strings.Split(ts, ".")[1]) != 6 {
			t.Errorf("ts %q does not follow %d", ts, prev)
		}
		prev = cur
	}
	if got := srv.Calls("chat.postMessage")[0].Args.Get("unfurl_links"); got != "false" {
		t.Errorf("unfurl_links = %q", got)
	}

	_, _, _, err = api.UpdateMessageContext(ctx, DefaultOpsChannelID, parent, slack.MsgOptionText("Checklist: 3 OK", false),
		slack.MsgOptionBlocks(slack.NewSectionBlock(mrkdwn("*Checklist*: 3 OK"), nil, nil)))
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	m, ok := srv.Message(DefaultOpsChannelID, parent)
	if !ok || m.Text != "Checklist: 3 OK" || m.Updates != 1 || m.Edited == nil || !strings.Contains(m.AllText(), "*Checklist*: 3 OK") {
		t.Errorf("updated message = %+v", m)
	}
	blocks, err := m.SlackBlocks()
	if err != nil || len(blocks.BlockSet) != 1 || blocks.BlockSet[0].ID() == "" {
		t.Errorf("blocks = %+v, %v (Slack fills block_id)", blocks, err)
	}
	if got := srv.ThreadReplies(DefaultOpsChannelID, parent); len(got) != 3 || got[2].Text != "check 2 done" {
		t.Errorf("thread replies = %+v", got)
	}

	// conversations.replies: parent first, then replies, paginated.
	var seen []string
	cursor := ""
	pages := 0
	for {
		msgs, more, next, err := api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: DefaultOpsChannelID, Timestamp: replies[1], Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatalf("replies: %v", err)
		}
		pages++
		for _, m := range msgs {
			seen = append(seen, m.Timestamp)
		}
		if !more {
			break
		}
		cursor = next
	}
	if want := append([]string{parent}, replies...); pages != 2 || strings.Join(seen, " ") != strings.Join(want, " ") {
		t.Errorf("replies in %d pages: %v, want %v", pages, seen, want)
	}

	hist, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: DefaultOpsChannelID, IncludeAllMetadata: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist.Messages) != 1 {
		t.Fatalf("history = %+v", hist.Messages)
	}
	h := hist.Messages[0]
	if h.Timestamp != parent || h.ReplyCount != 3 || h.LatestReply != replies[2] || h.ThreadTimestamp != parent ||
		h.BotID != DefaultBotID || h.User != DefaultBotUserID || h.Edited == nil || h.Metadata.EventType != "checklist_run" {
		t.Errorf("history message = %+v", h)
	}

	link, err := api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: DefaultOpsChannelID, Ts: replies[0]})
	want := "https://" + DefaultTeamDomain + ".slack.com/archives/" + DefaultOpsChannelID + "/p" + strings.ReplaceAll(replies[0], ".", "") + "?thread_ts=" + parent + "&cid=" + DefaultOpsChannelID
	if err != nil || link != want {
		t.Errorf("permalink = %q, %v; want %q", link, err, want)
	}
}

func TestChatErrors(t *testing.T) {
	srv := newServer(t, Options{
		Channels: []Channel{
			{ID: "C1", Name: "ops", Members: []string{DefaultBotUserID, DefaultAliceID}},
			{ID: "C2", Name: "elsewhere", Members: []string{DefaultAliceID}},
			{ID: "G1", Name: "secret", IsPrivate: true, Members: []string{DefaultAliceID}},
			{ID: "C3", Name: "old", IsArchived: true, Members: []string{DefaultBotUserID}},
		},
	})
	ctx := testCtx(t)
	api := srv.NewClient()
	userTS, err := srv.Seed("C1", Message{User: DefaultAliceID, Text: "anyone?"})
	if err != nil {
		t.Fatal(err)
	}
	text := slack.MsgOptionText("hi", false)
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"unknown channel", func() error { _, _, err := api.PostMessageContext(ctx, "C404", text); return err }, "channel_not_found"},
		{"not a member", func() error { _, _, err := api.PostMessageContext(ctx, "C2", text); return err }, "not_in_channel"},
		{"private, not a member", func() error { _, _, err := api.PostMessageContext(ctx, "G1", text); return err }, "channel_not_found"},
		{"archived", func() error { _, _, err := api.PostMessageContext(ctx, "C3", text); return err }, "is_archived"},
		{"no text", func() error { _, _, err := api.PostMessageContext(ctx, "C1"); return err }, "no_text"},
		{"update someone else's message", func() error { _, _, _, err := api.UpdateMessageContext(ctx, "C1", userTS, text); return err }, "cant_update_message"},
		{"update unknown message", func() error {
			_, _, _, err := api.UpdateMessageContext(ctx, "C1", "1.000001", text)
			return err
		}, "message_not_found"},
		{"history, not a member", func() error {
			_, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C2"})
			return err
		}, "not_in_channel"},
		{"replies of unknown thread", func() error {
			_, _, _, err := api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: "C1", Timestamp: "1.000002"})
			return err
		}, "thread_not_found"},
		{"bad cursor", func() error {
			_, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C1", Cursor: "nope"})
			return err
		}, "invalid_cursor"},
		{"ephemeral to a non-member", func() error { _, err := api.PostEphemeralContext(ctx, "C1", DefaultBobID, text); return err }, "user_not_in_channel"},
		{"ephemeral to nobody", func() error { _, err := api.PostEphemeralContext(ctx, "C1", "U404", text); return err }, "user_not_found"},
		{"unknown user", func() error { _, err := api.GetUserInfoContext(ctx, "U404"); return err }, "user_not_found"},
		{"unknown user group", func() error { _, err := api.GetUserGroupMembersContext(ctx, "S404"); return err }, "no_such_subteam"},
		{"info of private channel", func() error {
			_, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: "G1"})
			return err
		}, "channel_not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if se := slackErr(t, tc.call()); se.Err != tc.want {
				t.Errorf("error = %q, want %q", se.Err, tc.want)
			}
		})
	}
	if ts, err := api.PostEphemeralContext(ctx, "C1", DefaultAliceID, text); err != nil || ts == "" {
		t.Errorf("ephemeral: %q %v", ts, err)
	}
	if e := srv.Ephemerals(DefaultAliceID); len(e) != 1 || e[0].Text != "hi" || e[0].Source != "chat.postEphemeral" {
		t.Errorf("ephemerals = %+v", e)
	}
}

// oddBlock is a block of a type Slack does not have.
type oddBlock struct {
	Type    slack.MessageBlockType `json:"type"`
	BlockID string                 `json:"block_id,omitempty"`
}

func (b oddBlock) BlockType() slack.MessageBlockType { return b.Type }
func (b oddBlock) ID() string                        { return b.BlockID }

func TestBlockKitLimits(t *testing.T) {
	srv := newServer(t, Options{})
	ctx := testCtx(t)
	api := srv.NewClient()
	section := func(text string) slack.Block { return slack.NewSectionBlock(mrkdwn(text), nil, nil) }
	button := func(actionID, value, text string) *slack.ButtonBlockElement {
		return slack.NewButtonBlockElement(actionID, value, plain(text))
	}
	many := func(n int) []slack.Block {
		out := make([]slack.Block, n)
		for i := range out {
			out[i] = slack.NewDividerBlock()
		}
		return out
	}
	withID := func(b *slack.SectionBlock, id string) slack.Block { b.BlockID = id; return b }
	long := func(n int) string { return strings.Repeat("é", n) } // characters, not bytes

	cases := []struct {
		name      string
		opts      []slack.MsgOption
		wantErr   string
		wantInErr string // one of the "errors"
	}{
		{"51 blocks", []slack.MsgOption{slack.MsgOptionBlocks(many(51)...)}, "invalid_blocks", "no more than 50 items allowed [json-pointer:/blocks]"},
		{"section text 3001", []slack.MsgOption{slack.MsgOptionBlocks(section(long(3001)))}, "invalid_blocks", "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"},
		{"section fields 11", []slack.MsgOption{slack.MsgOptionBlocks(slack.NewSectionBlock(nil, func() []*slack.TextBlockObject {
			f := make([]*slack.TextBlockObject, 11)
			for i := range f {
				f[i] = mrkdwn("f")
			}
			return f
		}(), nil))}, "invalid_blocks", "no more than 10 items allowed [json-pointer:/blocks/0/fields]"},
		{"header 151", []slack.MsgOption{slack.MsgOptionBlocks(slack.NewHeaderBlock(plain(long(151))))}, "invalid_blocks", "must be less than 151 characters [json-pointer:/blocks/0/text/text]"},
		{"mrkdwn header", []slack.MsgOption{slack.MsgOptionBlocks(slack.NewHeaderBlock(mrkdwn("x")))}, "invalid_blocks", "must be plain_text [json-pointer:/blocks/0/text/type]"},
		{"button text 76", []slack.MsgOption{slack.MsgOptionBlocks(slack.NewActionBlock("a", button("b", "v", long(76))))}, "invalid_blocks", "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]"},
		{"action_id 256", []slack.MsgOption{slack.MsgOptionBlocks(slack.NewActionBlock("a", button(long(256), "v", "ok")))}, "invalid_blocks", "must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]"},
		{"block_id 256", []slack.MsgOption{slack.MsgOptionBlocks(slack.NewActionBlock(long(256), button("b", "v", "ok")))}, "invalid_blocks", "must be less than 256 characters [json-pointer:/blocks/0/block_id]"},
		{"button value 2001", []slack.MsgOption{slack.MsgOptionBlocks(slack.NewActionBlock("a", button("b", long(2001), "ok")))}, "invalid_blocks", "must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]"},
		{"duplicate action_id", []slack.MsgOption{slack.MsgOptionBlocks(slack.NewActionBlock("a", button("same", "1", "one"), button("same", "2", "two")))}, "invalid_blocks", "duplicate action_id: same [json-pointer:/blocks/0/elements/1/action_id]"},
		{"duplicate block_id", []slack.MsgOption{slack.MsgOptionBlocks(
			withID(slack.NewSectionBlock(mrkdwn("a"), nil, nil), "x"), withID(slack.NewSectionBlock(mrkdwn("b"), nil, nil), "x"))}, "invalid_blocks", "duplicate block_id: x [json-pointer:/blocks/1/block_id]"},
		{"unknown block type", []slack.MsgOption{slack.MsgOptionBlocks(oddBlock{Type: "sparkles"})}, "invalid_blocks", "unsupported type: sparkles [json-pointer:/blocks/0/type]"},
		{"mrkdwn without text", []slack.MsgOption{slack.MsgOptionBlocks(section(""))}, "invalid_blocks", "must be more than 0 characters [json-pointer:/blocks/0/text/text]"},
		{"text 40001", nil, "msg_too_long", ""},
		{"blocks too long", []slack.MsgOption{slack.MsgOptionBlocks(section(long(2900)), section(long(2900)), section(long(2900)), section(long(2900)), section(long(2900)))}, "msg_blocks_too_long", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text := "fallback"
			if tc.wantErr == "msg_too_long" {
				text = long(40001)
			}
			_, _, err := api.PostMessageContext(ctx, DefaultOpsChannelID, append([]slack.MsgOption{slack.MsgOptionText(text, false)}, tc.opts...)...)
			se := slackErr(t, err)
			if se.Err != tc.wantErr {
				t.Fatalf("error = %q (%v), want %q", se.Err, se.Errors, tc.wantErr)
			}
			if tc.wantInErr == "" {
				return
			}
			var msgs []string
			for _, e := range se.Errors {
				if e.Message != nil {
					msgs = append(msgs, *e.Message)
				}
			}
			if !contains(msgs, tc.wantInErr) {
				t.Errorf("errors = %q, want %q", msgs, tc.wantInErr)
			}
			if !contains(se.ResponseMetadata.Messages, "[ERROR] "+tc.wantInErr) {
				t.Errorf("response_metadata.messages = %q", se.ResponseMetadata.Messages)
			}
		})
	}
	// The limits are limits, not off by one.
	if _, _, err := api.PostMessageContext(ctx, DefaultOpsChannelID, slack.MsgOptionText(long(40000), false),
		slack.MsgOptionBlocks(section(long(3000)), slack.NewHeaderBlock(plain(long(150))),
			slack.NewActionBlock(long(255), button(long(255), long(2000), long(75))))); err != nil {
		t.Errorf("post at the limits: %v", err)
	}
	if len(srv.Messages(DefaultOpsChannelID)) != 1 {
		t.Errorf("a refused post was stored")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestViewsUpdateAndLimits(t *testing.T) {
	srv := newServer(t, Options{})
	ctx := testCtx(t)
	api := srv.NewClient()
	newTrigger := func() string {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return srv.newTriggerLocked(DefaultAliceID, DefaultAppID, DefaultTeamID)
	}
	modal := func(title string, blocks ...slack.Block) slack.ModalViewRequest {
		return slack.ModalViewRequest{Type: slack.VTModal, Title: plain(title), Blocks: slack.Blocks{BlockSet: blocks}, ExternalID: "triage-1"}
	}

	tooMany := make([]slack.Block, 101)
	for i := range tooMany {
		tooMany[i] = slack.NewDividerBlock()
	}
	_, err := api.OpenViewContext(ctx, newTrigger(), modal("Triage", tooMany...))
	if se := slackErr(t, err); se.Err != "invalid_arguments" || !contains(se.ResponseMetadata.Messages, "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]") {
		t.Errorf("101 blocks: %+v", se)
	}
	_, err = api.OpenViewContext(ctx, newTrigger(), modal(strings.Repeat("t", 25), slack.NewDividerBlock()))
	if se := slackErr(t, err); se.Err != "invalid_arguments" || !contains(se.ResponseMetadata.Messages, "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]") {
		t.Errorf("long title: %+v", se)
	}

	opened, err := api.OpenViewContext(ctx, newTrigger(), modal("Triage", tooMany[:100]...))
	if err != nil {
		t.Fatalf("views.open: %v", err)
	}
	if opened.ID == "" || opened.Hash == "" || opened.ExternalID != "triage-1" || opened.AppID != DefaultAppID {
		t.Errorf("opened = %+v", opened.View)
	}
	if _, err := api.OpenViewContext(ctx, newTrigger(), modal("Again", slack.NewDividerBlock())); err != nil {
		t.Errorf("views.open replacing the modal: %v", err)
	}
	opened, err = api.OpenViewContext(ctx, newTrigger(), modal("Triage", slack.NewDividerBlock()))
	if err != nil {
		t.Fatal(err)
	}

	updated, err := api.UpdateViewContext(ctx, modal("Triage (2)", slack.NewDividerBlock()), "", opened.Hash, opened.ID)
	if err != nil || updated.Hash == opened.Hash || updated.Title.Text != "Triage (2)" {
		t.Fatalf("views.update = %+v, %v", updated, err)
	}
	_, err = api.UpdateViewContext(ctx, modal("Stale", slack.NewDividerBlock()), "", opened.Hash, opened.ID)
	if se := slackErr(t, err); se.Err != "hash_conflict" {
		t.Errorf("stale hash: %v", se)
	}
	if _, err := api.UpdateViewContext(ctx, modal("By external id", slack.NewDividerBlock()), "triage-1", "", ""); err != nil {
		t.Errorf("update by external_id: %v", err)
	}
	_, err = api.UpdateViewContext(ctx, modal("Nope", slack.NewDividerBlock()), "", "", "V404")
	if se := slackErr(t, err); se.Err != "not_found" {
		t.Errorf("unknown view: %v", se)
	}
	if v, _ := srv.View(opened.ID); v.Updates != 2 || v.Title != "By external id" || !v.Open {
		t.Errorf("view = %+v", v)
	}

	_, err = api.PushViewContext(ctx, newTrigger(), modal("Same external id", slack.NewDividerBlock()))
	if se := slackErr(t, err); se.Err != "duplicate_external_id" {
		t.Errorf("push with a taken external_id: %v", se)
	}
	pushed := 0
	for i := 0; i < 3; i++ {
		step := modal("Step", slack.NewDividerBlock())
		step.ExternalID = ""
		_, err := api.PushViewContext(ctx, newTrigger(), step)
		if err == nil {
			pushed++
			continue
		}
		if se := slackErr(t, err); se.Err != "push_limit_reached" {
			t.Errorf("push: %v", se)
		}
	}
	if pushed != 2 || len(srv.OpenViews(DefaultAliceID)) != 3 {
		t.Errorf("pushed %d, stack %d", pushed, len(srv.OpenViews(DefaultAliceID)))
	}
}

func TestRateLimitsAndInjectedFailures(t *testing.T) {
	srv := newServer(t, Options{RateLimits: map[string]RateLimit{
		"chat.update":      {Requests: 1, Window: time.Minute},
		"chat.postMessage": PostMessageLimit,
	}})
	ctx := testCtx(t)
	api := srv.NewClient()
	_, ts, err := api.PostMessageContext(ctx, DefaultOpsChannelID, slack.MsgOptionText("a", false))
	if err != nil {
		t.Fatal(err)
	}
	// 1 message per second per channel: another channel is fine.
	if _, _, err := api.PostMessageContext(ctx, DefaultAlertsChannelID, slack.MsgOptionText("b", false)); err != nil {
		t.Errorf("other channel: %v", err)
	}
	_, _, err = api.PostMessageContext(ctx, DefaultOpsChannelID, slack.MsgOptionText("c", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != time.Second {
		t.Errorf("second post in the same second: %v", err)
	}

	if _, _, _, err := api.UpdateMessageContext(ctx, DefaultOpsChannelID, ts, slack.MsgOptionText("a1", false)); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = api.UpdateMessageContext(ctx, DefaultOpsChannelID, ts, slack.MsgOptionText("a2", false))
	if !errors.As(err, &rl) || rl.RetryAfter < time.Second || rl.RetryAfter > time.Minute {
		t.Errorf("second update in a minute: %v", err)
	}
	calls := srv.Calls("chat.update")
	if last := calls[len(calls)-1]; last.Status != http.StatusTooManyRequests || last.Error != "ratelimited" {
		t.Errorf("call = %+v", last)
	}

	srv.RateLimitNext("users.info", 1, 7*time.Second)
	if _, err := api.GetUserInfoContext(ctx, DefaultAliceID); !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
		t.Errorf("injected 429: %v", err)
	}
	srv.FailNext("users.info", "fatal_error", 1)
	if se := slackErr(t, func() error { _, err := api.GetUserInfoContext(ctx, DefaultAliceID); return err }()); se.Err != "fatal_error" {
		t.Errorf("injected error: %v", se)
	}
	u, err := api.GetUserInfoContext(ctx, DefaultAliceID)
	if err != nil || u.Name != "alice" || u.TeamID != DefaultTeamID {
		t.Errorf("users.info = %+v, %v", u, err)
	}
}

func TestServerErrorNext(t *testing.T) {
	srv := newServer(t, Options{})
	ctx := testCtx(t)
	api := srv.NewClient()
	srv.ServerErrorNext("chat.postMessage", 1, http.StatusServiceUnavailable)
	srv.ServerErrorNext("chat.postMessage", 1, http.StatusInternalServerError)
	for _, want := range []int{http.StatusServiceUnavailable, http.StatusInternalServerError} {
		_, _, err := api.PostMessageContext(ctx, DefaultOpsChannelID, slack.MsgOptionText("a", false))
		var sc slack.StatusCodeError
		if !errors.As(err, &sc) || sc.Code != want {
			t.Errorf("injected %d: %v", want, err)
		}
	}
	calls := srv.Calls("chat.postMessage")
	if len(calls) != 2 || calls[0].Error != "service_unavailable" || calls[1].Error != "internal_error" {
		t.Errorf("calls = %+v", calls)
	}
	if _, _, err := api.PostMessageContext(ctx, DefaultOpsChannelID, slack.MsgOptionText("b", false)); err != nil {
		t.Errorf("after the injected failures: %v", err)
	}
	if n := len(srv.Messages(DefaultOpsChannelID)); n != 1 {
		t.Errorf("%d messages, want 1 (failed calls post nothing)", n)
	}
}

func TestSeededHistory(t *testing.T) {
	srv := newServer(t, Options{UserGroups: []UserGroup{{ID: "S0ONCALL", Handle: "oncall", Name: "On-call", Users: []string{DefaultAliceID}}}})
	ctx := testCtx(t)
	api := srv.NewClient()
	base := time.Now().Add(-time.Hour).Unix()
	var seeded []string
	for i := 0; i < 5; i++ {
		att := fmt.Sprintf(`[{"color":"danger","title":"[FIRING:1] KubePodCrashLooping %d","title_link":"http://am/%d","text":"pod api-%d","fallback":"firing"}]`, i, i, i)
		ts, err := srv.Seed("#alerts", Message{
			TS: fmt.Sprintf("%d.%06d", base+int64(i), 100), BotID: "B0AM", Username: "Alertmanager",
			Subtype: "bot_message", Attachments: json.RawMessage(att),
		})
		if err != nil {
			t.Fatal(err)
		}
		seeded = append(seeded, ts)
	}
	var got []slack.Message
	cursor := ""
	for {
		resp, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: DefaultAlertsChannelID, Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, resp.Messages...)
		if !resp.HasMore {
			break
		}
		cursor = resp.ResponseMetaData.NextCursor
	}
	if len(got) != 5 || got[0].Timestamp != seeded[4] || got[4].Timestamp != seeded[0] {
		t.Fatalf("history (newest first) = %d messages", len(got))
	}
	if a := got[0].Attachments; len(a) != 1 || a[0].Title != "[FIRING:1] KubePodCrashLooping 4" || a[0].Color != "danger" || got[0].SubType != "bot_message" || got[0].Username != "Alertmanager" {
		t.Errorf("newest = %+v", got[0])
	}
	resp, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
		ChannelID: DefaultAlertsChannelID, Oldest: seeded[1], Latest: seeded[3], Inclusive: true,
	})
	if err != nil || len(resp.Messages) != 3 {
		t.Errorf("oldest/latest inclusive: %d messages, %v", len(resp.Messages), err)
	}
	resp, err = api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
		ChannelID: DefaultAlertsChannelID, Oldest: seeded[1], Latest: seeded[3],
	})
	if err != nil || len(resp.Messages) != 1 || resp.Messages[0].Timestamp != seeded[2] {
		t.Errorf("oldest/latest exclusive: %+v, %v", resp.Messages, err)
	}

	members, err := api.GetUserGroupMembersContext(ctx, "S0ONCALL")
	if err != nil || len(members) != 1 || members[0] != DefaultAliceID {
		t.Errorf("usergroups.users.list = %v, %v", members, err)
	}
	groups, err := api.GetUserGroupsContext(ctx, slack.GetUserGroupsOptionIncludeUsers(true))
	if err != nil || len(groups) != 1 || groups[0].Handle != "oncall" || len(groups[0].Users) != 1 {
		t.Errorf("usergroups.list = %+v, %v", groups, err)
	}
	info, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: DefaultAlertsChannelID, IncludeNumMembers: true})
	if err != nil || info.Name != "alerts" || !info.IsMember || info.NumMembers != 3 {
		t.Errorf("conversations.info = %+v, %v", info, err)
	}
}

func TestArgumentEncodings(t *testing.T) {
	srv := newServer(t, Options{})
	post := func(contentType, body string, header http.Header) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.APIURL()+"chat.postMessage", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	bearer := http.Header{"Authorization": {"Bearer " + DefaultBotToken}}
	blocks := `[{"type":"section","text":{"type":"mrkdwn","text":"hi"}}]`

	form := url.Values{"token": {DefaultBotToken}, "channel": {DefaultOpsChannelID}, "text": {"form"}, "blocks": {blocks}}
	if out := post("application/x-www-form-urlencoded", form.Encode(), nil); out["ok"] != true {
		t.Errorf("form: %v", out)
	}
	js := `{"channel":"` + DefaultOpsChannelID + `","text":"json","blocks":` + blocks + `,"unfurl_links":false}`
	if out := post("application/json; charset=utf-8", js, bearer); out["ok"] != true || out["warning"] != nil {
		t.Errorf("json: %v", out)
	}
	if out := post("application/json", js, bearer); out["ok"] != true || out["warning"] != "missing_charset" {
		t.Errorf("json without charset: %v", out)
	}
	// A JSON body cannot carry the token.
	if out := post("application/json; charset=utf-8", `{"token":"`+DefaultBotToken+`","channel":"C1","text":"x"}`, nil); out["error"] != "not_authed" {
		t.Errorf("token in JSON body: %v", out)
	}
	if out := post("application/json; charset=utf-8", `{not json`, bearer); out["error"] != "invalid_json" {
		t.Errorf("bad JSON: %v", out)
	}
	if out := post("application/x-www-form-urlencoded", url.Values{"channel": {DefaultOpsChannelID}, "text": {"x"}, "blocks": {`{"type":"divider"}`}}.Encode(), bearer); out["error"] != "invalid_blocks_format" {
		t.Errorf("blocks not an array: %v", out)
	}
	calls := srv.Calls("chat.postMessage")
	if got := calls[1].Args; got.Get("unfurl_links") != "false" || got.Get("blocks") != blocks {
		t.Errorf("JSON args = %v", got)
	}
	msgs := srv.Messages(DefaultOpsChannelID)
	if len(msgs) != 3 || msgs[0].Text != "form" || msgs[1].Text != "json" {
		t.Errorf("messages = %+v", msgs)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.APIURL()+"chat.nope", nil)
	req.Header.Set("Authorization", "Bearer "+DefaultBotToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown method: %d", resp.StatusCode)
	}
}
