package slacktest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of Slack's external upload flow (docs.slack.dev, methods
// files.getUploadURLExternal and files.completeUploadExternal).
const (
	// MaxUploadBytes is the largest file Slack takes: 1 GB.
	MaxUploadBytes = 1 << 30
	// MaxAltText is the longest alt_txt, in characters.
	MaxAltText = 1000
	// MaxFilesPerComplete is how many files one files.completeUploadExternal
	// shares at most.
	MaxFilesPerComplete = 10
)

// UploadPath is where the fake's upload URLs point (files.slack.com's
// /upload/v1/... on the real Slack).
const UploadPath = "/upload/v1/"

// File is a file uploaded through the external upload flow, as the fake
// stores it.
type File struct {
	ID       string
	Filename string
	// Length is the size announced to files.getUploadURLExternal; Data is
	// what the upload URL received (nil until it did).
	Length  int
	AltText string
	Data    []byte
	// Title, Channel, ThreadTS and MessageTS are set when
	// files.completeUploadExternal shared the file: the message that shows
	// it is MessageTS, in the thread ThreadTS (empty: in the channel).
	Title     string
	Channel   string
	ThreadTS  string
	MessageTS string
	Comment   string
}

// Shared reports whether files.completeUploadExternal shared f.
func (f File) Shared() bool { return f.MessageTS != "" }

type fileState struct {
	File
	key string // the upload URL's secret part
}

// Files returns the files uploaded so far, in the order their upload URLs
// were asked for.
func (s *Server) Files() []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]File, 0, len(s.fileOrder))
	for _, id := range s.fileOrder {
		f := s.files[id].File
		f.Data = bytes.Clone(f.Data)
		out = append(out, f)
	}
	return out
}

// WaitForFile waits until a file matching match exists, and returns it.
func (s *Server) WaitForFile(ctx context.Context, match func(File) bool) (File, error) {
	var found File
	err := s.WaitFor(ctx, func() bool {
		for _, f := range s.Files() {
			if match(f) {
				found = f
				return true
			}
		}
		return false
	})
	return found, err
}

func (s *Server) filesGetUploadURLExternal(r *apiRequest) (map[string]any, *apiError) {
	name := r.args.Get("filename")
	if strings.TrimSpace(name) == "" {
		return nil, fail("invalid_arguments")
	}
	ls := r.args.Get("length")
	if ls == "" || ls == "0" {
		// "Typically only occurs when the length provided is 0."
		return nil, fail("missing_argument")
	}
	n, err := strconv.Atoi(ls)
	if err != nil || n < 0 {
		return nil, fail("invalid_arguments")
	}
	if n > MaxUploadBytes {
		return nil, fail("file_upload_size_restricted")
	}
	alt := r.args.Get("alt_txt")
	if utf8.RuneCountInString(alt) > MaxAltText {
		return nil, fail("alt_txt_too_large")
	}
	s.nextFile++
	id := fmt.Sprintf("F%09d", s.nextFile)
	key := fmt.Sprintf("%s-%x", id, s.nextFile*2654435761)
	s.files[id] = &fileState{File: File{ID: id, Filename: name, Length: n, AltText: alt}, key: key}
	s.fileOrder = append(s.fileOrder, id)
	return map[string]any{"upload_url": s.hs.URL + UploadPath + key, "file_id": id}, nil
}

// handleUpload serves the upload URLs: a POST of exactly the announced
// length, raw or as the file part of a multipart form. Slack answers 200
// "OK - <length>"; the fake answers a wrong length or a second upload with
// 400 and an unknown URL with 404. ServerErrorNext("upload", ...) makes
// the next uploads fail.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.Path, UploadPath)
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxUploadBytes+1))
	if err != nil {
		http.Error(w, "reading the upload: "+err.Error(), http.StatusBadRequest)
		return
	}
	if ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "multipart/form-data" {
		if body, err = multipartFile(body, params["boundary"]); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	s.mu.Lock()
	status, msg := s.uploadLocked(r, key, body)
	s.calls = append(s.calls, Call{Method: "upload", Time: time.Now(), Status: status})
	s.bumpLocked()
	s.mu.Unlock()
	s.logf("%s upload -> %d", r.Method, status)
	if status != http.StatusOK {
		http.Error(w, msg, status)
		return
	}
	_, _ = io.WriteString(w, msg)
}

func (s *Server) uploadLocked(r *http.Request, key string, body []byte) (int, string) {
	if f, ok := s.takeFailureLocked("upload"); ok {
		return max(f.status, http.StatusInternalServerError), f.code
	}
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, "POST only"
	}
	var f *fileState
	for _, fs := range s.files {
		if fs.key == key {
			f = fs
		}
	}
	switch {
	case f == nil:
		return http.StatusNotFound, "no such upload"
	case f.Data != nil:
		return http.StatusBadRequest, "already uploaded"
	case len(body) != f.Length:
		return http.StatusBadRequest, fmt.Sprintf("received %d bytes, announced %d", len(body), f.Length)
	}
	f.Data = body
	return http.StatusOK, fmt.Sprintf("OK - %d", len(body))
}

// multipartFile is the content of the first file part of a multipart body.
func multipartFile(body []byte, boundary string) ([]byte, error) {
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := mr.NextPart()
		if err != nil {
			return nil, fmt.Errorf("multipart upload without a file part: %w", err)
		}
		if p.FileName() != "" {
			return io.ReadAll(p)
		}
	}
}

var tsRE = regexp.MustCompile(`^\d+\.\d+$`)

func (s *Server) filesCompleteUploadExternal(r *apiRequest) (map[string]any, *apiError) {
	var list []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(r.args.Get("files")), &list); err != nil || len(list) == 0 || len(list) > MaxFilesPerComplete {
		return nil, fail("invalid_arguments")
	}
	files := make([]*fileState, len(list))
	for i, e := range list {
		f := s.files[e.ID]
		// A file whose bytes never arrived, or that was shared already, is
		// no upload to complete.
		if f == nil || f.Data == nil || f.Shared() {
			return nil, fail("file_not_found")
		}
		files[i] = f
	}
	chID := r.args.Get("channel_id")
	if chID == "" {
		// Without a channel Slack keeps the file private; opsbot always
		// shares, so the fake does not model private files.
		return nil, fail("invalid_arguments")
	}
	ch, aerr := s.channelForBotLocked(chID, true)
	if aerr != nil {
		return nil, aerr
	}
	tts := r.args.Get("thread_ts")
	if tts != "" {
		if !tsRE.MatchString(tts) {
			return nil, fail("invalid_thread_ts")
		}
		p := s.findMessageLocked(ch.ID, tts)
		if p == nil || p.Deleted {
			return nil, fail("thread_not_found")
		}
		if p.IsReply() {
			tts = p.ThreadTS
		}
	}
	comment := r.args.Get("initial_comment")
	if runes(comment) > maxMessageText {
		return nil, fail("msg_too_long")
	}
	m := &Message{
		Channel: ch.ID, TS: s.nextTSLocked(), User: s.opts.BotUserID, BotID: s.opts.BotID,
		AppID: s.opts.AppID, Team: s.opts.TeamID, Text: comment, ThreadTS: tts, Subtype: "file_share",
	}
	var out []map[string]any
	for i, f := range files {
		f.Title = list[i].Title
		if f.Title == "" {
			f.Title = f.Filename
		}
		f.Channel, f.ThreadTS, f.MessageTS, f.Comment = ch.ID, tts, m.TS, comment
		m.Files = append(m.Files, f.ID)
		out = append(out, map[string]any{"id": f.ID, "title": f.Title, "name": f.Filename, "size": f.Length})
	}
	s.insertMessageLocked(m)
	return map[string]any{"files": out}, nil
}
