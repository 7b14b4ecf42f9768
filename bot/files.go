package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/slack-go/slack"

	"github.com/opsbot/opsbot/telemetry"
)

// uploadMethod names the POST of a file's bytes to its upload URL in the
// Web API layer's logs, metrics and rate-limit holds.
const uploadMethod = "files.upload_url"

// file is a file to share in Slack.
type file struct {
	Name, Title, AltText string
	Data                 []byte
}

// mayUploadTo checks an upload URL Slack answered: https (Slack's file
// service, files.slack.com), or the Web API's own host (a Slack reached
// over plain HTTP: the tests' fake). A file's bytes go nowhere else.
func (s *Slack) mayUploadTo(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("uploading the file: the upload URL Slack gave is not a URL")
	}
	api, err := url.Parse(s.web.apiURL)
	if u.Scheme == "https" || (err == nil && u.Scheme == api.Scheme && u.Host == api.Host) {
		return nil
	}
	return fmt.Errorf("uploading the file: the upload URL Slack gave is %s://%s, neither https nor the Web API's host", u.Scheme, u.Host)
}

// uploadFile shares f in channel, in the thread threadTS: Slack's external
// upload flow, every step through the Web
// API layer (webAPI: Retry-After, 5xx retries).
//
//  1. files.getUploadURLExternal announces the name and the length and
//     answers an upload URL and a file id;
//  2. the bytes are POSTed to the upload URL (files.slack.com), raw, as
//     Slack accepts them, from memory, so a retry sends them again. The
//     URL is pre-signed: the bot token is not sent with it (slack-go's
//     UploadToURL would send it, in a multipart body it cannot replay);
//  3. files.completeUploadExternal shares the file in the thread.
//
// A file whose upload URL was asked for but not completed is never shown;
// Slack discards it.
func (s *Slack) uploadFile(ctx context.Context, channel, threadTS string, f file) error {
	u, err := s.api.GetUploadURLExternalContext(ctx, slack.GetUploadURLExternalParameters{
		FileName: f.Name, FileSize: len(f.Data), AltTxt: f.AltText,
	})
	if err != nil {
		return fmt.Errorf("files.getUploadURLExternal: %w", err)
	}
	if err := s.mayUploadTo(u.UploadURL); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(telemetry.WithSlackMethod(ctx, uploadMethod),
		http.MethodPost, u.UploadURL, bytes.NewReader(f.Data))
	if err != nil {
		return errors.New("uploading the file: cannot build the request")
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := s.web.Do(req)
	if err != nil {
		// Not the URL a *url.Error quotes: the upload URL is a credential
		// of its own.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("uploading the file: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("uploading the file: HTTP %d", resp.StatusCode)
	}
	_, err = s.api.CompleteUploadExternalContext(ctx, slack.CompleteUploadExternalParameters{
		Files: []slack.FileSummary{{ID: u.FileID, Title: f.Title}}, Channel: channel,
		ThreadTimestamp: threadTS,
	})
	if err != nil {
		return fmt.Errorf("files.completeUploadExternal: %w", err)
	}
	return nil
}
