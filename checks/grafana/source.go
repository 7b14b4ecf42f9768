package grafana

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"

	"github.com/opsbot/opsbot/internal/httpx"
)

// maxDashboard bounds the size of one dashboard's JSON.
const maxDashboard = 16 << 20

// loaded is one dashboard to evaluate, or why it could not be read.
type loaded struct {
	// source names it in messages: `dashboard "abc"` or `file x.json`.
	source string
	// key identifies it in fingerprints: the uid, else the file's name.
	key  string
	dash *Dashboard
	err  error
}

// fetch reads dashboard uid from Grafana's API. 401, 403 and 404 get
// errors that say what to do; the token is never part of one.
func (c *Check) fetch(ctx context.Context, uid string) loaded {
	l := loaded{source: fmt.Sprintf("dashboard %q", uid), key: uid}
	where := "grafana " + httpx.RedactURL(c.url)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url+"/api/dashboards/uid/"+url.PathEscape(uid), nil)
	if err != nil {
		l.err = fmt.Errorf("%s: cannot build the request", where)
		return l
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.grafana.Do(req)
	if err != nil {
		_, msg := httpx.Classify(ctx, err)
		l.err = fmt.Errorf("%s: %s", where, msg)
		return l
	}
	defer resp.Body.Close()
	body, truncated, err := httpx.ReadBody(resp.Body, maxDashboard)
	if err != nil {
		_, msg := httpx.Classify(ctx, err)
		l.err = fmt.Errorf("%s: reading dashboard %q: %s", where, uid, msg)
		return l
	}
	token := "no token was sent: set tokenEnv"
	if c.tokenEnv != "" {
		token = "the service-account token in $" + c.tokenEnv
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		l.err = fmt.Errorf("%s returned 401 Unauthorized for dashboard %q: %s was not accepted", where, uid, token)
	case resp.StatusCode == http.StatusForbidden:
		l.err = fmt.Errorf("%s returned 403 Forbidden for dashboard %q: the service account may not view it (give it the Viewer role on the dashboard or its folder)", where, uid)
	case resp.StatusCode == http.StatusNotFound:
		l.err = fmt.Errorf("%s returned 404 for dashboard %q: no dashboard has this uid (the part after /d/ in its URL)", where, uid)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		l.err = fmt.Errorf("%s returned %d for dashboard %q: %s", where, resp.StatusCode, uid, httpx.Snippet(body, 200))
	case truncated:
		l.err = fmt.Errorf("%s: dashboard %q is larger than %d MiB", where, uid, maxDashboard>>20)
	default:
		l.dash, l.err = ParseDashboard(body)
		if l.err != nil {
			l.err = fmt.Errorf("%s: dashboard %q: %w", where, uid, l.err)
		}
	}
	return l
}

// readFile reads an exported dashboard.
func readFile(path string) loaded {
	l := loaded{source: "file " + path, key: filepath.Base(path)}
	data, err := os.ReadFile(path)
	if err != nil {
		l.err = err
		return l
	}
	if len(data) > maxDashboard {
		l.err = fmt.Errorf("%s: larger than %d MiB", path, maxDashboard>>20)
		return l
	}
	l.dash, l.err = ParseDashboard(data)
	if l.err != nil {
		l.err = fmt.Errorf("%s: %w", path, l.err)
		return l
	}
	if l.dash.UID != "" {
		l.key = l.dash.UID
	}
	return l
}
