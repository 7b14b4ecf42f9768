package slacktest

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

func TestUploadFlowSharesTheFileInTheThread(t *testing.T) {
	srv := newServer(t, Options{})
	ctx := testCtx(t)
	api := srv.NewClient()
	_, root, err := api.PostMessageContext(ctx, DefaultOpsChannelID, slack.MsgOptionText("root", false))
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 300)
	// slack-go's UploadFileContext: the three steps, the upload as a
	// multipart form.
	sum, err := api.UploadFileContext(ctx, slack.UploadFileParameters{
		Filename: "chart.png", FileSize: len(data), Reader: bytes.NewReader(data), Title: "memory",
		AltTxt: "a chart", Channel: DefaultOpsChannelID, ThreadTimestamp: root, InitialComment: "the series",
	})
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	files := srv.Files()
	if len(files) != 1 {
		t.Fatalf("%d files, want 1", len(files))
	}
	f := files[0]
	if f.ID != sum.ID || !bytes.Equal(f.Data, data) || f.Title != "memory" || f.AltText != "a chart" ||
		f.Channel != DefaultOpsChannelID || f.ThreadTS != root || f.Comment != "the series" {
		t.Fatalf("file %+v", f)
	}
	replies := srv.ThreadReplies(DefaultOpsChannelID, root)
	if len(replies) != 1 || replies[0].TS != f.MessageTS || len(replies[0].Files) != 1 || replies[0].Files[0] != f.ID {
		t.Fatalf("thread replies %+v, want the file's message", replies)
	}
}

func TestUploadFlowErrors(t *testing.T) {
	srv := newServer(t, Options{Channels: []Channel{
		{ID: DefaultOpsChannelID, Name: "ops", Members: []string{DefaultBotUserID}},
		{ID: "C0OUTSIDE", Name: "elsewhere"},
	}})
	ctx := testCtx(t)
	api := srv.NewClient()
	_, root, err := api.PostMessageContext(ctx, DefaultOpsChannelID, slack.MsgOptionText("root", false))
	if err != nil {
		t.Fatal(err)
	}
	get := func(name string, n int, alt string) error {
		_, err := api.GetUploadURLExternalContext(ctx, slack.GetUploadURLExternalParameters{FileName: name, FileSize: n, AltTxt: alt})
		return err
	}
	for name, tc := range map[string]struct {
		err  error
		want string
	}{
		"too large":      {get("a.png", MaxUploadBytes+1, ""), "file_upload_size_restricted"},
		"negative":       {get("a.png", -1, ""), "invalid_arguments"},
		"alt text":       {get("a.png", 10, strings.Repeat("x", MaxAltText+1)), "alt_txt_too_large"},
		"blank filename": {get(" ", 10, ""), "invalid_arguments"},
	} {
		if se := slackErr(t, tc.err); se.Err != tc.want {
			t.Errorf("%s: %q, want %q", name, se.Err, tc.want)
		}
	}

	u, err := api.GetUploadURLExternalContext(ctx, slack.GetUploadURLExternalParameters{FileName: "a.png", FileSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	complete := func(ch, ts string) error {
		_, err := api.CompleteUploadExternalContext(ctx, slack.CompleteUploadExternalParameters{
			Files: []slack.FileSummary{{ID: u.FileID}}, Channel: ch, ThreadTimestamp: ts})
		return err
	}
	if se := slackErr(t, complete(DefaultOpsChannelID, root)); se.Err != "file_not_found" {
		t.Errorf("complete before the upload: %q, want file_not_found", se.Err)
	}
	post := func(body string) int {
		resp, err := http.Post(u.UploadURL, "application/octet-stream", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post("abc"); got != http.StatusBadRequest {
		t.Errorf("3 bytes of 4 announced: HTTP %d, want 400", got)
	}
	if got := post("abcd"); got != http.StatusOK {
		t.Errorf("4 bytes: HTTP %d, want 200", got)
	}
	if got := post("abcd"); got != http.StatusBadRequest {
		t.Errorf("a second upload: HTTP %d, want 400", got)
	}
	for name, tc := range map[string]struct {
		ch, ts, want string
	}{
		"unknown channel": {"C0NOWHERE", root, "channel_not_found"},
		"not a member":    {"C0OUTSIDE", "", "not_in_channel"},
		"malformed ts":    {DefaultOpsChannelID, "yesterday", "invalid_thread_ts"},
		"no such thread":  {DefaultOpsChannelID, "1.000001", "thread_not_found"},
	} {
		if se := slackErr(t, complete(tc.ch, tc.ts)); se.Err != tc.want {
			t.Errorf("%s: %q, want %q", name, se.Err, tc.want)
		}
	}
	if err := complete(DefaultOpsChannelID, root); err != nil {
		t.Fatalf("complete: %v", err)
	}
	if se := slackErr(t, complete(DefaultOpsChannelID, root)); se.Err != "file_not_found" {
		t.Errorf("completing twice: %q, want file_not_found", se.Err)
	}
}
