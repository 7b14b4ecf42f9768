package security

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/internal/httpx"
)

// GitHub's REST API headers (docs.github.com/rest: "Getting started",
// "Rate limits for the REST API").
const (
	githubAccept     = "application/vnd.github+json"
	githubAPIVersion = "2022-11-28"
	maxBody          = 4 << 20
)

// run is the part of a workflow run the check reads (GitHub's "Workflow
// Run" schema).
type run struct {
	ID           int64     `json:"id"`
	Name         string    `json:"name"`
	RunNumber    int       `json:"run_number"`
	Event        string    `json:"event"`
	Status       string    `json:"status"`
	Conclusion   string    `json:"conclusion"`
	HeadBranch   string    `json:"head_branch"`
	HeadSHA      string    `json:"head_sha"`
	HTMLURL      string    `json:"html_url"`
	RunStartedAt time.Time `json:"run_started_at"`
}

// apiError is a non-2xx answer of the GitHub API.
type apiError struct {
	status  int
	message string // GitHub's "message"
	// rateLimited: the primary rate limit is exhausted until reset
	// (x-ratelimit-remaining: 0), or a secondary one asks to wait
	// retryAfter.
	rateLimited bool
	reset       time.Time
	retryAfter  time.Duration
}

func (e *apiError) Error() string {
	switch {
	case e.rateLimited && !e.reset.IsZero():
		return "GitHub API rate limit exhausted until " + e.reset.UTC().Format("2006-01-02 15:04 UTC")
	case e.rateLimited:
		return fmt.Sprintf("GitHub API secondary rate limit: retry after %s", e.retryAfter)
	case e.status == http.StatusNotFound:
		return "repository or workflow not found (or the token cannot see it)"
	case e.status == http.StatusUnauthorized:
		return "GitHub rejected the token (401 " + e.message + ")"
	case e.status == http.StatusForbidden:
		return "forbidden (403 " + e.message + "): the token needs read access to the repository's Actions"
	}
	return fmt.Sprintf("GitHub API answered %d %s", e.status, e.message)
}

// get GETs path (with query) from the API and decodes the JSON answer into
// out.
func (c *Check) get(ctx context.Context, path string, query url.Values, out any) error {
	u := strings.TrimSuffix(c.cfg.GitHub.APIURL, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", githubAccept)
	req.Header.Set("X-GitHub-Api-Version", githubAPIVersion)
	resp, err := c.github.Do(req)
	if err != nil {
		_, msg := httpx.Classify(ctx, err)
		return errors.New("GitHub API: " + msg)
	}
	defer func() { _ = resp.Body.Close() }()
	body, truncated, err := httpx.ReadBody(resp.Body, maxBody)
	if err != nil {
		_, msg := httpx.Classify(ctx, err)
		return errors.New("GitHub API: reading the answer: " + msg)
	}
	if resp.StatusCode/100 != 2 {
		return newAPIError(resp, body)
	}
	if truncated {
		return fmt.Errorf("GitHub API: answer larger than %d bytes", maxBody)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GitHub API: unexpected answer: %w", err)
	}
	return nil
}

// newAPIError reads GitHub's error answer: its message and, for 403 and
// 429, the rate limit headers.
func newAPIError(resp *http.Response, body []byte) *apiError {
	e := &apiError{status: resp.StatusCode}
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &m) == nil && m.Message != "" {
		e.message = httpx.Truncate(m.Message, 200)
	} else {
		e.message = http.StatusText(resp.StatusCode)
	}
	if resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests {
		if resp.Header.Get("X-RateLimit-Remaining") == "0" {
			if s, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
				e.rateLimited, e.reset = true, time.Unix(s, 0)
			}
		}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && !e.rateLimited {
			e.rateLimited, e.retryAfter = true, time.Duration(s)*time.Second
		}
		if resp.StatusCode == http.StatusTooManyRequests && !e.rateLimited {
			e.rateLimited, e.retryAfter = true, time.Minute
		}
	}
	return e
}

// githubResult is what the workflows look saw.
type githubResult struct {
	checked  int
	findings []checks.Finding
	blind    []string
}

// workflows checks the latest completed run of each configured workflow.
// Once the rate limit is hit, the remaining workflows are not asked for.
func (c *Check) workflows(ctx context.Context) githubResult {
	var out githubResult
	branches := map[string]string{} // default branch by repository
	var limited *apiError
	notChecked := 0
	for i, w := range c.cfg.GitHub.Workflows {
		if ctx.Err() != nil {
			out.blind = append(out.blind, fmt.Sprintf("%d of %d workflows not checked: %v",
				len(c.cfg.GitHub.Workflows)-i, len(c.cfg.GitHub.Workflows), context.Cause(ctx)))
			break
		}
		if limited != nil {
			notChecked++
			continue
		}
		f, err := c.workflow(ctx, w, branches)
		var ae *apiError
		switch {
		case errors.As(err, &ae) && ae.rateLimited:
			limited = ae
			notChecked++
		case err != nil:
			out.blind = append(out.blind, fmt.Sprintf("%s %s: %v", w.Repo, w.Workflow, err))
		default:
			out.checked++
			if f != nil {
				out.findings = append(out.findings, *f)
			}
		}
	}
	if limited != nil {
		out.blind = append(out.blind, fmt.Sprintf("%v: %d of %d workflows not checked", limited, notChecked, len(c.cfg.GitHub.Workflows)))
	}
	return out
}

// workflow judges the latest completed run of w; a nil finding means it
// passed.
func (c *Check) workflow(ctx context.Context, w Workflow, branches map[string]string) (*checks.Finding, error) {
	repoPath := "/repos/" + w.Repo
	branch := w.Branch
	if branch == "" {
		branch = branches[strings.ToLower(w.Repo)]
	}
	if branch == "" {
		var repo struct {
			DefaultBranch string `json:"default_branch"`
		}
		if err := c.get(ctx, repoPath, nil, &repo); err != nil {
			return nil, err
		}
		if repo.DefaultBranch == "" {
			return nil, errors.New("GitHub API: the repository has no default_branch")
		}
		branch = repo.DefaultBranch
		branches[strings.ToLower(w.Repo)] = branch
	}
	runsPath := repoPath + "/actions/workflows/" + url.PathEscape(w.Workflow) + "/runs"
	latest := func(status string) (*run, error) {
		q := url.Values{"branch": {branch}, "per_page": {"1"}}
		if status != "" {
			q.Set("status", status)
		}
		var page struct {
			TotalCount   int   `json:"total_count"`
			WorkflowRuns []run `json:"workflow_runs"`
		}
		if err := c.get(ctx, runsPath, q, &page); err != nil {
			return nil, err
		}
		if len(page.WorkflowRuns) == 0 {
			return nil, nil
		}
		return &page.WorkflowRuns[0], nil
	}
	newest, err := latest("")
	if err != nil {
		return nil, err
	}
	judged := newest
	if newest != nil && newest.Status != "completed" {
		// Queued or in progress: the last word is the previous
		// completed run's.
		if judged, err = latest("completed"); err != nil {
			return nil, err
		}
	}
	return c.judge(w, branch, judged, newest), nil
}

// The conclusions of a completed run, as the check reads them:
//   - failure, timed_out, startup_failure: the scan failed or could not
//     run: Fail.
//   - action_required (waiting for someone's approval), cancelled, stale:
//     the scan did not pass, nor did it find anything: Warn.
//   - success, neutral, skipped: passed.
var conclusions = map[string]struct {
	severity checks.Status
	words    string
}{
	"failure":         {checks.Fail, "failed"},
	"timed_out":       {checks.Fail, "timed out"},
	"startup_failure": {checks.Fail, "could not start"},
	"action_required": {checks.Warn, "waits for an approval"},
	"cancelled":       {checks.Warn, "was cancelled"},
	"stale":           {checks.Warn, "went stale"},
}

// judge makes the finding of a workflow's latest completed run (judged;
// nil: none), newest being its latest run of any status.
func (c *Check) judge(w Workflow, branch string, judged, newest *run) *checks.Finding {
	object := fmt.Sprintf("workflow %s %s", w.Repo, w.Workflow)
	if judged == nil {
		f := &checks.Finding{
			Fingerprint: checks.Fingerprint(name, "github", strings.ToLower(w.Repo), w.Workflow, branch, "no-completed-run"),
			Severity:    checks.Warn,
			Object:      object,
			Title:       fmt.Sprintf("%s: no completed run on %s", object, branch),
		}
		if newest != nil {
			f.Detail = fmt.Sprintf("run #%d is %s", newest.RunNumber, strings.ReplaceAll(newest.Status, "_", " "))
			f.Link = newest.HTMLURL
		}
		return f
	}
	verdict, bad := conclusions[judged.Conclusion]
	if !bad {
		return nil
	}
	title := judged.Name
	if title == "" {
		title = w.Workflow
	}
	f := &checks.Finding{
		Fingerprint: checks.Fingerprint(name, "github", strings.ToLower(w.Repo), w.Workflow, branch, judged.Conclusion),
		Severity:    verdict.severity,
		Object:      object,
		Title:       fmt.Sprintf("%s: %s %s on %s", w.Repo, title, verdict.words, branch),
		Link:        judged.HTMLURL,
	}
	sha := judged.HeadSHA
	if len(sha) > 12 {
		sha = sha[:12]
	}
	d := fmt.Sprintf("run #%d (%s) of commit %s", judged.RunNumber, judged.Event, sha)
	if !judged.RunStartedAt.IsZero() {
		d += ", started " + judged.RunStartedAt.In(c.loc).Format("2006-01-02 15:04 MST")
	}
	d += ": " + judged.Conclusion
	if newest != nil && newest.ID != judged.ID {
		d += fmt.Sprintf("\nrun #%d is %s: %s", newest.RunNumber, strings.ReplaceAll(newest.Status, "_", " "), newest.HTMLURL)
	}
	f.Detail = d
	return f
}
