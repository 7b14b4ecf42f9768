package slacktest

import (
	"testing"

	"github.com/slack-go/slack"
)

func TestChatDelete(t *testing.T) {
	srv := newServer(t, Options{Channels: []Channel{{ID: "C1", Name: "ops", Members: []string{DefaultBotUserID, DefaultAliceID}}}})
	ctx := testCtx(t)
	api := srv.NewClient()
	userTS, err := srv.Seed("C1", Message{User: DefaultAliceID, Text: "anyone?"})
	if err != nil {
		t.Fatal(err)
	}
	_, ts, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("mine", false))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.DeleteMessageContext(ctx, "C1", userTS); slackErr(t, err).Err != "cant_delete_message" {
		t.Errorf("deleting alice's message: %v", err)
	}
	if _, _, err := api.DeleteMessageContext(ctx, "C404", ts); slackErr(t, err).Err != "channel_not_found" {
		t.Errorf("deleting in an unknown channel: %v", err)
	}
	if _, gotTS, err := api.DeleteMessageContext(ctx, "C1", ts); err != nil || gotTS != ts {
		t.Fatalf("delete = %s, %v", gotTS, err)
	}
	if _, ok := srv.Message("C1", ts); ok {
		t.Error("the deleted message is still listed")
	}
	if n := len(srv.Messages("C1")); n != 1 {
		t.Errorf("%d messages left, want alice's", n)
	}
	if _, _, err := api.DeleteMessageContext(ctx, "C1", ts); slackErr(t, err).Err != "message_not_found" {
		t.Errorf("deleting twice: %v", err)
	}
	if _, _, err := api.DeleteMessageContext(ctx, "C1", "1.000001"); slackErr(t, err).Err != "message_not_found" {
		t.Errorf("deleting an unknown message: %v", err)
	}
}
