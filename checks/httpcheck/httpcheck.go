// Package httpcheck is the runbook's look at the services' health URLs
// (Spring Boot's /actuator/health and the like): each configured URL must
// answer in time with an expected status (any 2xx by default) and, when the
// body is a JSON object with a top-level "status" field, a healthy status.
//
// Healthy statuses, case-insensitive: UP (Spring Boot), OK, PASS (the IETF
// health-check draft), HEALTHY. WARN (the draft's "healthy, with some
// concerns") is a Warn finding; anything else (DOWN, OUT_OF_SERVICE,
// UNKNOWN, FAIL...) is a Fail finding whose title lists the components that
// are not healthy, from Spring Boot's "components" (2.2+) or "details"
// (2.0, 2.1). A body that is not JSON, or has no "status", is not looked at.
// At most 64 KiB of a body is read.
//
// Every failing target is one finding, fingerprinted by the target's name
// and a stable class of reason: the status code class ("5xx"),
// "unreachable", "timeout", "tls", "status-down", "status-warn" or "error".
package httpcheck

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/internal/httpx"
)

const (
	// maxBody is how much of a body is read.
	maxBody = 64 << 10
	// grace is how much longer than its slowest target the check's
	// deadline is, so that a target's own timeout is reported as such.
	grace = 2 * time.Second
)

// Check probes the configured health URLs.
type Check struct {
	targets  []Target
	client   *http.Client
	insecure *http.Client // for targets with insecureSkipVerify; nil if none
	logger   *zap.Logger
}

// New returns the http check. client is used for every target (nil means a
// plain client with opsbot's User-Agent); do not pass one that carries
// Prometheus's or Alertmanager's credentials. Targets with
// insecureSkipVerify use a copy of it without TLS verification. cfg is
// defaulted and validated.
func New(cfg Config, client *http.Client, logger *zap.Logger) (*Check, error) {
	cfg.Targets = slices.Clone(cfg.Targets) // SetDefaults writes to them
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if client == nil {
		client = httpx.NewClient(httpx.Options{})
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	c := &Check{targets: cfg.Targets, client: client, logger: logger.With(zap.String("check", "http"))}
	for _, t := range cfg.Targets {
		if t.InsecureSkipVerify {
			ic, err := httpx.InsecureClient(client)
			if err != nil {
				return nil, fmt.Errorf("insecureSkipVerify: %w", err)
			}
			c.insecure = ic
			break
		}
	}
	return c, nil
}

// Name returns "http".
func (c *Check) Name() string { return "http" }

// Timeout returns the slowest target's timeout plus a grace of 2s: targets
// are probed at once.
func (c *Check) Timeout() time.Duration {
	var d time.Duration
	for _, t := range c.targets {
		d = max(d, time.Duration(t.Timeout))
	}
	return d + grace
}

// probeResult is the outcome of one target: nil finding when healthy.
type probeResult struct {
	finding   *checks.Finding
	reason    string // short, for the summary
	cancelled bool   // stopped because the whole check was
}

// Run probes every target at once.
func (c *Check) Run(ctx context.Context) checks.Result {
	if len(c.targets) == 0 {
		return checks.Result{Status: checks.OK, Summary: "no targets configured"}
	}
	results := make([]probeResult, len(c.targets))
	var wg sync.WaitGroup
	for i, t := range c.targets {
		wg.Go(func() { results[i] = c.probe(ctx, t) })
	}
	wg.Wait()
	if slices.ContainsFunc(results, func(r probeResult) bool { return r.cancelled }) {
		// The check's own deadline or the checklist's cancellation:
		// failures may be ours, not the targets'.
		_, msg := httpx.Classify(ctx, ctx.Err())
		return checks.UnknownResult("stopped before every target answered: " + msg)
	}

	var findings []checks.Finding
	var failing []string
	for i, r := range results {
		if r.finding != nil {
			findings = append(findings, *r.finding)
			failing = append(failing, c.targets[i].Name+" ("+r.reason+")")
		}
	}
	n := len(c.targets)
	var summary string
	switch {
	case len(failing) == 0:
		summary = fmt.Sprintf("%d %s healthy", n, plural(n, "target"))
	default:
		summary = fmt.Sprintf("%d of %d %s failing: %s", len(failing), n, plural(n, "target"), strings.Join(failing, ", "))
	}
	return checks.Result{Status: checks.Summarize(findings), Summary: httpx.Truncate(summary, 500), Findings: findings}
}

// probe requests one target and judges its answer.
func (c *Check) probe(parent context.Context, t Target) probeResult {
	timeout := time.Duration(t.Timeout)
	ctx, cancel := context.WithTimeoutCause(parent, timeout, fmt.Errorf("no answer within %s", timeout))
	defer cancel()
	client := c.client
	if t.InsecureSkipVerify {
		client = c.insecure
	}
	url := httpx.RedactURL(t.URL)
	fail := func(sev checks.Status, class, reason, detail string) probeResult {
		title := t.Name
		if !strings.HasSuffix(strings.ToLower(title), "health") {
			title += " health"
		}
		return probeResult{reason: reason, finding: &checks.Finding{
			Fingerprint: checks.Fingerprint("http", t.Name, class),
			Severity:    sev,
			Object:      t.Name,
			Title:       title + ": " + reason,
			Detail:      detail,
			Link:        url,
		}}
	}

	req, err := http.NewRequestWithContext(ctx, t.Method, t.URL, nil)
	if err != nil {
		// Not err itself: a *url.Error quotes the URL, credentials and all.
		return fail(checks.Fail, "error", "cannot build the request", t.Method+" "+url)
	}
	for k, v := range t.Headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		if parent.Err() != nil {
			return probeResult{cancelled: true}
		}
		kind, msg := httpx.Classify(ctx, err)
		if kind == httpx.KindTimeout {
			msg = "timed out after " + timeout.String()
		}
		c.logger.Debug("target failed", zap.String("target", t.Name), zap.String("url", url), zap.String("reason", msg))
		return fail(checks.Fail, string(kind), msg, fmt.Sprintf("%s %s: %s", t.Method, url, msg))
	}
	defer resp.Body.Close()
	body, _, readErr := httpx.ReadBody(resp.Body, maxBody)
	if readErr != nil {
		if parent.Err() != nil {
			return probeResult{cancelled: true}
		}
		kind, msg := httpx.Classify(ctx, readErr)
		if kind == httpx.KindTimeout {
			msg = "timed out after " + timeout.String()
		}
		msg += " reading the body"
		return fail(checks.Fail, string(kind), msg, fmt.Sprintf("%s %s: %d %s, then %s", t.Method, url,
			resp.StatusCode, http.StatusText(resp.StatusCode), msg))
	}

	statusLine := fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	where := fmt.Sprintf("%s %s → %s", t.Method, url, statusLine)
	health, isHealth := parseHealth(body)
	codeOK := statusOK(resp.StatusCode, t.ExpectStatus)

	switch {
	case isHealth && health.level != healthy:
		// Spring Boot answers DOWN with 503: the body says more than the
		// code does.
		reason := "status " + health.status
		if len(health.unhealthy) > 0 {
			reason += " (" + strings.Join(health.unhealthy, ", ") + ")"
		}
		sev, class := checks.Fail, "status-down"
		if health.level == concerned && codeOK {
			sev, class = checks.Warn, "status-warn"
		}
		return fail(sev, class, httpx.Truncate(reason, 200), where)
	case !codeOK:
		detail := where
		if s := httpx.Truncate(httpx.Snippet(body, maxBody), 300); s != "" {
			detail += "\n" + s
		}
		return fail(checks.Fail, fmt.Sprintf("%dxx", resp.StatusCode/100), statusLine, detail)
	}
	return probeResult{}
}

// statusOK reports whether code is expected: in expect, or 2xx when expect
// is empty.
func statusOK(code int, expect StatusCodes) bool {
	if len(expect) == 0 {
		return code >= 200 && code <= 299
	}
	return slices.Contains(expect, code)
}

// level is how healthy a health status is.
type level int

const (
	healthy level = iota
	concerned
	unhealthy
)

func statusLevel(s string) level {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "up", "ok", "pass", "healthy":
		return healthy
	case "warn":
		return concerned
	default:
		return unhealthy
	}
}

// health is what a health body says.
type health struct {
	status    string
	level     level
	unhealthy []string // "db: DOWN", sorted
}

// parseHealth reads a JSON object with a top-level string "status"; ok is
// false for anything else.
func parseHealth(body []byte) (h health, ok bool) {
	var doc map[string]json.RawMessage
	if json.Unmarshal(body, &doc) != nil {
		return health{}, false
	}
	var status string
	if json.Unmarshal(doc["status"], &status) != nil || status == "" {
		return health{}, false
	}
	h = health{status: status, level: statusLevel(status)}
	if h.level == healthy {
		return h, true
	}
	// Spring Boot 2.2+ nests components under "components", 2.0 and 2.1
	// under "details"; 1.x puts them at the top level.
	comps := doc
	for _, key := range []string{"components", "details"} {
		var m map[string]json.RawMessage
		if json.Unmarshal(doc[key], &m) == nil && len(m) > 0 {
			comps = m
			break
		}
	}
	for name, raw := range comps {
		var comp struct {
			Status string `json:"status"`
		}
		if json.Unmarshal(raw, &comp) != nil || comp.Status == "" {
			continue
		}
		if statusLevel(comp.Status) != healthy {
			h.unhealthy = append(h.unhealthy, name+": "+comp.Status)
		}
	}
	slices.Sort(h.unhealthy)
	const maxShown = 5
	if n := len(h.unhealthy); n > maxShown {
		h.unhealthy = append(h.unhealthy[:maxShown], fmt.Sprintf("+%d more", n-maxShown))
	}
	return h, true
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
