// Package githubtest is a fake of the part of GitHub's REST API the
// security check reads: a repository (GET /repos/{owner}/{repo}) and the
// runs of a workflow (GET /repos/{owner}/{repo}/actions/workflows/
// {workflow_id}/runs), answering with the shapes of GitHub's documented
// examples (docs.github.com/rest/repos/repos#get-a-repository,
// docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-workflow),
// GitHub's errors ({"message", "documentation_url", "status"}: 401 Bad
// credentials, 404 Not Found, 400 for an unsupported API version) and its
// primary rate limit: every answer carries the x-ratelimit-* headers, each
// request uses one of the remaining requests, and with none left the answer
// is 403 "API rate limit exceeded" with x-ratelimit-remaining: 0 until the
// reset time.
//
// Like GitHub, it answers 404 (not 403) for a repository the token may not
// see, and it accepts a workflow by file name or numeric id.
package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultToken is the token New's server accepts.
const DefaultToken = "github_pat_11AAAAAAA0fake0token0for0tests"

// Server is the fake API. Its methods are safe for concurrent use.
type Server struct {
	// URL is the API's base URL (like https://api.github.com).
	URL string

	srv   *httptest.Server
	token string

	mu        sync.Mutex
	repos     map[string]*repo // by lower-case full name
	nextID    int64
	limit     int
	remaining int
	reset     time.Time
	requests  []*http.Request
}

type repo struct {
	id            int64
	fullName      string
	defaultBranch string
	hidden        bool
	workflows     []*workflow
}

type workflow struct {
	id   int64
	file string
	name string
	runs []*Run // oldest first
}

// Run is a workflow run to serve.
type Run struct {
	// Branch is head_branch; Event defaults to "push".
	Branch, Event string
	// Status is queued, in_progress or completed; Conclusion is set when
	// completed (success, failure, cancelled, timed_out, ...).
	Status, Conclusion string
	HeadSHA            string
	StartedAt          time.Time

	id, number int64
}

// ID is the run's id, set by AddRun.
func (r *Run) ID() int64 { return r.id }

// New starts a server that accepts DefaultToken, with GitHub's authenticated
// rate limit (5,000 requests an hour). Close it when done.
func New() *Server {
	s := &Server{token: DefaultToken, repos: map[string]*repo{}, nextID: 1000, limit: 5000, remaining: 5000,
		reset: time.Now().Add(time.Hour).Truncate(time.Second)}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// AddRepo adds a repository ("owner/name") with its default branch.
func (s *Server) AddRepo(fullName, defaultBranch string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	s.repos[strings.ToLower(fullName)] = &repo{id: s.nextID, fullName: fullName, defaultBranch: defaultBranch}
}

// HideRepo makes a repository invisible to the token (GitHub answers 404).
func (s *Server) HideRepo(fullName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repos[strings.ToLower(fullName)].hidden = true
}

// AddWorkflow adds a workflow, by its file name under .github/workflows and
// its name, and returns its id.
func (s *Server) AddWorkflow(fullName, file, name string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	r := s.repos[strings.ToLower(fullName)]
	r.workflows = append(r.workflows, &workflow{id: s.nextID, file: file, name: name})
	return s.nextID
}

// AddRun adds a run of a workflow, newer than those before it, and returns
// it with its id and number set.
func (s *Server) AddRun(fullName, file string, run Run) *Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[strings.ToLower(fullName)]
	w := r.workflows[slices.IndexFunc(r.workflows, func(w *workflow) bool { return w.file == file })]
	s.nextID++
	run.id, run.number = s.nextID, int64(len(w.runs)+1)
	if run.Event == "" {
		run.Event = "push"
	}
	w.runs = append(w.runs, &run)
	return &run
}

// SetRateLimit sets how many requests are left before the rate limit is
// exhausted, and when it resets.
func (s *Server) SetRateLimit(remaining int, reset time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remaining, s.reset = remaining, reset.Truncate(time.Second)
}

// Requests returns the requests served so far (their URL and headers).
func (s *Server) Requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

const docs = "https://docs.github.com/rest"

func (s *Server) serve(w http.ResponseWriter, req *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req.Clone(req.Context()))
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-GitHub-Request-Id", fmt.Sprintf("CAFE:%X:%X", len(s.requests), s.nextID))

	if req.Header.Get("Authorization") != "Bearer "+s.token {
		s.fail(w, http.StatusUnauthorized, "Bad credentials", docs)
		return
	}
	// Authenticated answers carry the rate limit; a request with none
	// left is refused and does not count.
	if s.remaining == 0 {
		s.rateHeaders(h)
		s.fail(w, http.StatusForbidden, "API rate limit exceeded for user ID 1.",
			"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api")
		return
	}
	s.remaining--
	s.rateHeaders(h)
	if v := req.Header.Get("X-GitHub-Api-Version"); v != "" && v != "2022-11-28" && v != "2026-03-10" {
		s.fail(w, http.StatusBadRequest, fmt.Sprintf("API version %s is not supported.", v), docs+"/about-the-rest-api/api-versions")
		return
	}
	h.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	if req.Method != http.MethodGet {
		s.fail(w, http.StatusNotFound, "Not Found", docs)
		return
	}
	parts := strings.Split(strings.TrimPrefix(req.URL.Path, "/"), "/")
	if len(parts) < 3 || parts[0] != "repos" {
		s.fail(w, http.StatusNotFound, "Not Found", docs)
		return
	}
	r := s.repos[strings.ToLower(parts[1]+"/"+parts[2])]
	switch {
	case len(parts) == 3:
		if r == nil || r.hidden {
			s.fail(w, http.StatusNotFound, "Not Found", docs+"/repos/repos#get-a-repository")
			return
		}
		s.json(w, s.repoJSON(r))
	case len(parts) == 7 && parts[3] == "actions" && parts[4] == "workflows" && parts[6] == "runs":
		doc := docs + "/actions/workflow-runs#list-workflow-runs-for-a-workflow"
		if r == nil || r.hidden {
			s.fail(w, http.StatusNotFound, "Not Found", doc)
			return
		}
		i := slices.IndexFunc(r.workflows, func(wf *workflow) bool {
			return wf.file == parts[5] || strconv.FormatInt(wf.id, 10) == parts[5]
		})
		if i < 0 {
			s.fail(w, http.StatusNotFound, "Not Found", doc)
			return
		}
		s.listRuns(w, req, r, r.workflows[i])
	default:
		s.fail(w, http.StatusNotFound, "Not Found", docs)
	}
}

func (s *Server) rateHeaders(h http.Header) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(s.remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(s.reset.Unix(), 10))
	h.Set("X-RateLimit-Used", strconv.Itoa(s.limit-s.remaining))
	h.Set("X-RateLimit-Resource", "core")
}

func (s *Server) fail(w http.ResponseWriter, status int, message, doc string) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{
		"message": message, "documentation_url": doc, "status": strconv.Itoa(status),
	})
}

func (s *Server) json(w http.ResponseWriter, v any) {
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) owner(r *repo) map[string]any {
	login := strings.SplitN(r.fullName, "/", 2)[0]
	return map[string]any{
		"login": login, "id": 1, "node_id": "MDQ6VXNlcjE=", "avatar_url": "https://github.com/images/error/octocat_happy.gif",
		"gravatar_id": "", "url": "https://api.github.com/users/" + login, "html_url": "https://github.com/" + login,
		"type": "Organization", "site_admin": false,
	}
}

func (s *Server) repoJSON(r *repo) map[string]any {
	name := strings.SplitN(r.fullName, "/", 2)[1]
	return map[string]any{
		"id": r.id, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": name, "full_name": r.fullName,
		"owner": s.owner(r), "private": true, "html_url": "https://github.com/" + r.fullName,
		"description": "This your first repo!", "fork": false, "url": s.URL + "/repos/" + r.fullName,
		"default_branch": r.defaultBranch, "visibility": "private", "archived": false, "disabled": false,
		"created_at": "2011-01-26T19:01:12Z", "updated_at": "2011-01-26T19:14:43Z", "pushed_at": "2011-01-26T19:06:43Z",
		"permissions": map[string]bool{"admin": false, "push": false, "pull": true},
	}
}

// listRuns answers the runs of wf, newest first, filtered by branch and
// status (a status or a conclusion, as GitHub's status parameter), a page
// of per_page (default 30, at most 100).
func (s *Server) listRuns(w http.ResponseWriter, req *http.Request, r *repo, wf *workflow) {
	q := req.URL.Query()
	var runs []*Run
	for _, run := range slices.Backward(wf.runs) {
		if b := q.Get("branch"); b != "" && run.Branch != b {
			continue
		}
		if st := q.Get("status"); st != "" && run.Status != st && run.Conclusion != st {
			continue
		}
		runs = append(runs, run)
	}
	perPage, page := 30, 1
	if v, err := strconv.Atoi(q.Get("per_page")); err == nil && v > 0 {
		perPage = min(v, 100)
	}
	if v, err := strconv.Atoi(q.Get("page")); err == nil && v > 0 {
		page = v
	}
	from := min((page-1)*perPage, len(runs))
	to := min(from+perPage, len(runs))
	items := []map[string]any{}
	for _, run := range runs[from:to] {
		items = append(items, s.runJSON(r, wf, run))
	}
	s.json(w, map[string]any{"total_count": len(runs), "workflow_runs": items})
}

func (s *Server) runJSON(r *repo, wf *workflow, run *Run) map[string]any {
	api := s.URL + "/repos/" + r.fullName
	runURL := fmt.Sprintf("%s/actions/runs/%d", api, run.id)
	var conclusion any
	if run.Status == "completed" {
		conclusion = run.Conclusion
	}
	started := run.StartedAt.UTC().Format(time.RFC3339)
	actor := s.owner(r)
	return map[string]any{
		"id": run.id, "name": wf.name, "node_id": "MDEyOldvcmtmbG93IFJ1bjI2OTI4OQ==",
		"head_branch": run.Branch, "head_sha": run.HeadSHA, "path": ".github/workflows/" + wf.file,
		"display_title": "Update README.md", "run_number": run.number, "event": run.Event,
		"status": run.Status, "conclusion": conclusion, "workflow_id": wf.id,
		"check_suite_id": run.id + 1, "check_suite_node_id": "MDEwOkNoZWNrU3VpdGU0Mg==",
		"url": runURL, "html_url": fmt.Sprintf("https://github.com/%s/actions/runs/%d", r.fullName, run.id),
		"pull_requests": []any{}, "created_at": started, "updated_at": started,
		"actor": actor, "triggering_actor": actor, "run_attempt": 1, "referenced_workflows": []any{},
		"run_started_at": started, "jobs_url": runURL + "/jobs", "logs_url": runURL + "/logs",
		"check_suite_url": fmt.Sprintf("%s/check-suites/%d", api, run.id+1), "artifacts_url": runURL + "/artifacts",
		"cancel_url": runURL + "/cancel", "rerun_url": runURL + "/rerun", "previous_attempt_url": nil,
		"workflow_url": fmt.Sprintf("%s/actions/workflows/%d", api, wf.id),
		"head_commit": map[string]any{
			"id": run.HeadSHA, "tree_id": run.HeadSHA, "message": "Create linter.yaml", "timestamp": started,
			"author":    map[string]string{"name": "Octo Cat", "email": "octocat@github.com"},
			"committer": map[string]string{"name": "GitHub", "email": "noreply@github.com"},
		},
		"repository":      map[string]any{"id": r.id, "name": strings.SplitN(r.fullName, "/", 2)[1], "full_name": r.fullName, "owner": s.owner(r), "private": true},
		"head_repository": map[string]any{"id": r.id, "name": strings.SplitN(r.fullName, "/", 2)[1], "full_name": r.fullName, "owner": s.owner(r), "private": true},
	}
}
