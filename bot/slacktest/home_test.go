package slacktest

import (
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

func TestViewsPublish(t *testing.T) {
	srv := newServer(t, Options{})
	ctx := testCtx(t)
	api := srv.NewClient()
	home := func(blocks ...slack.Block) slack.HomeTabViewRequest {
		return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}}
	}
	section := slack.NewSectionBlock(mrkdwn("*State of the rotation*"), nil, nil)

	if _, ok := srv.HomeView(DefaultAliceID); ok {
		t.Fatal("a Home tab before any views.publish")
	}
	got, err := api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: DefaultAliceID, View: home(section)})
	if err != nil {
		t.Fatalf("views.publish: %v", err)
	}
	if got.Type != slack.VTHomeTab || got.ID == "" || got.Hash == "" || got.AppID != DefaultAppID || len(got.Blocks.BlockSet) != 1 {
		t.Errorf("published %+v", got.View)
	}
	hv, ok := srv.HomeView(DefaultAliceID)
	if !ok || hv.Publishes != 1 || hv.ID != got.ID || !strings.Contains(string(hv.Blocks), "State of the rotation") {
		t.Errorf("HomeView = %+v, %v", hv, ok)
	}

	// Published again with the current hash: the same view, a new hash;
	// with the old one: hash_conflict.
	old := got.Hash
	again, err := api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: DefaultAliceID, View: home(section), Hash: &old})
	if err != nil || again.ID != got.ID || again.Hash == old {
		t.Fatalf("views.publish with the hash = %+v, %v", again, err)
	}
	_, err = api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: DefaultAliceID, View: home(section), Hash: &old})
	if se := slackErr(t, err); se.Err != "hash_conflict" {
		t.Errorf("stale hash: %+v", se)
	}

	tooMany := make([]slack.Block, 101)
	for i := range tooMany {
		tooMany[i] = slack.NewDividerBlock()
	}
	_, err = api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: DefaultAliceID, View: home(tooMany...)})
	if se := slackErr(t, err); se.Err != "invalid_arguments" || !contains(se.ResponseMetadata.Messages, "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]") {
		t.Errorf("101 blocks: %+v", se)
	}
	if _, err := api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: DefaultAliceID, View: home(tooMany[:100]...)}); err != nil {
		t.Errorf("100 blocks: %v", err)
	}
	modal := slack.HomeTabViewRequest{Type: slack.VTModal, Blocks: slack.Blocks{BlockSet: []slack.Block{section}}}
	_, err = api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: DefaultAliceID, View: modal})
	if se := slackErr(t, err); se.Err != "invalid_arguments" || !contains(se.ResponseMetadata.Messages, "[ERROR] must be one of home [json-pointer:/view/type]") {
		t.Errorf("a modal published: %+v", se)
	}
	for _, user := range []string{"U0NOBODY", DefaultBotUserID} {
		_, err = api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: home(section)})
		if se := slackErr(t, err); se.Err != "invalid_arguments" || !contains(se.ResponseMetadata.Messages, "invalid `user_id`") {
			t.Errorf("user %s: %+v", user, se)
		}
	}
	big := strings.Repeat("x", 2900)
	var large []slack.Block
	for range 95 {
		large = append(large, slack.NewSectionBlock(mrkdwn(big), nil, nil))
	}
	_, err = api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: DefaultAliceID, View: home(large...)})
	if se := slackErr(t, err); se.Err != "view_too_large" {
		t.Errorf("a view over 250 kB: %+v", se)
	}
	if hv, _ := srv.HomeView(DefaultAliceID); hv.Publishes != 3 {
		t.Errorf("%d publishes, want 3 (refused ones do not count)", hv.Publishes)
	}
	if n := len(srv.Calls("views.publish")); n != 9 {
		t.Errorf("%d calls recorded, want 9", n)
	}
}

func TestViewsPublishHomeTabDisabled(t *testing.T) {
	srv := newServer(t, Options{HomeTabDisabled: true})
	api := srv.NewClient()
	view := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewDividerBlock()}}}
	_, err := api.PublishViewContext(testCtx(t), slack.PublishViewContextRequest{UserID: DefaultAliceID, View: view})
	if se := slackErr(t, err); se.Err != "not_enabled" {
		t.Errorf("views.publish with the Home tab off: %+v", se)
	}
	if _, ok := srv.HomeView(DefaultAliceID); ok {
		t.Error("a view was published")
	}
}
