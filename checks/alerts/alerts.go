// Package alerts is the runbook's look at the alerts channel: which alerts
// are firing right now in this environment. Rather than reading the Slack
// channel it asks Alertmanager's API v2 directly (GET /api/v2/alerts, only
// active alerts that are neither silenced nor inhibited), groups the alerts
// by alert name and reports one finding per group.
//
// Severity comes from the alert's `severity` label:
//
//	critical, page, error, high       → Fail
//	warning, warn, medium, any other  → Warn (a firing alert without a known
//	                                    severity still deserves a look)
//	info, informational, none, low    → left out (counted in the summary),
//	                                    or Warn with includeInfo: true
//
// The check decodes Alertmanager's JSON into its own small structs; it does
// not import Alertmanager's generated client.
package alerts

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/internal/httpx"
)

const (
	// maxBody bounds the size of Alertmanager's answer.
	maxBody = 16 << 20
	// maxSampleRunes bounds each annotation text kept in a finding.
	maxSampleRunes = 300
	// maxSamples is how many distinct annotation texts a finding shows.
	maxSamples = 3
)

// Check asks Alertmanager for the firing alerts of one environment.
type Check struct {
	cfg    Config
	api    string // the API base URL, as given
	link   string // the UI base URL, without credentials
	client *http.Client
	logger *zap.Logger
	ignore map[string]bool
}

// New returns the alerts check for the Alertmanager at baseURL (e.g.
// http://alertmanager.monitoring:9093, possibly with a path prefix). client
// carries any credentials (see internal/httpx); nil means a plain client.
// cfg is defaulted and validated.
func New(cfg Config, baseURL string, client *http.Client, logger *zap.Logger) (*Check, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := httpx.CheckURL(baseURL); err != nil {
		return nil, fmt.Errorf("alertmanager url: %w", err)
	}
	if client == nil {
		client = httpx.NewClient(httpx.Options{})
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	link := cfg.Link
	if link == "" {
		u, _ := url.Parse(baseURL) // checked above
		u.User = nil
		u.RawQuery, u.Fragment = "", ""
		link = u.String()
	}
	c := &Check{
		cfg:    cfg,
		api:    strings.TrimRight(baseURL, "/"),
		link:   strings.TrimRight(link, "/"),
		client: client,
		logger: logger.With(zap.String("check", "alerts")),
		ignore: make(map[string]bool, len(cfg.IgnoreAlertnames)),
	}
	for _, n := range cfg.IgnoreAlertnames {
		c.ignore[strings.TrimSpace(n)] = true
	}
	return c, nil
}

// Name returns "alerts".
func (c *Check) Name() string { return "alerts" }

// Timeout returns the check's deadline (config key timeout).
func (c *Check) Timeout() time.Duration { return time.Duration(c.cfg.Timeout) }

// alert is the part of Alertmanager's gettableAlert the check uses.
type alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
	Status       struct {
		State string `json:"state"` // unprocessed, active, suppressed
	} `json:"status"`
}

// Run fetches the firing alerts and reports one finding per alert name.
func (c *Check) Run(ctx context.Context) checks.Result {
	ctx, cancel := context.WithTimeoutCause(ctx, c.Timeout(),
		fmt.Errorf("no answer within %s", c.Timeout()))
	defer cancel()
	alerts, err := c.fetch(ctx)
	if err != nil {
		c.logger.Warn("could not fetch alerts", zap.Error(err))
		return checks.UnknownResult(err.Error())
	}
	return c.evaluate(alerts)
}

// query returns the query string of the alerts request.
func (c *Check) query() url.Values {
	q := url.Values{
		"active":      {"true"},
		"silenced":    {"false"},
		"inhibited":   {"false"},
		"unprocessed": {"false"},
	}
	for _, m := range c.cfg.Matchers {
		q.Add("filter", strings.TrimSpace(m))
	}
	return q
}

// fetch asks Alertmanager for the active, unsilenced, uninhibited alerts
// matching the configured matchers. Errors say what failed, with the URL's
// credentials redacted.
func (c *Check) fetch(ctx context.Context) ([]alert, error) {
	where := "alertmanager " + httpx.RedactURL(c.api)
	u := c.api + "/api/v2/alerts?" + c.query().Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		// Not err itself: a *url.Error quotes the URL, credentials and all.
		return nil, fmt.Errorf("%s: cannot build the request", where)
	}
	req.Header.Set("Accept", "application/json")
	c.logger.Debug("fetching alerts", zap.String("url", httpx.RedactURL(u)))
	resp, err := c.client.Do(req)
	if err != nil {
		_, msg := httpx.Classify(ctx, err)
		return nil, fmt.Errorf("%s: %s", where, msg)
	}
	defer resp.Body.Close()
	body, truncated, err := httpx.ReadBody(resp.Body, maxBody)
	if err != nil {
		_, msg := httpx.Classify(ctx, err)
		return nil, fmt.Errorf("%s: reading the answer: %s", where, msg)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("%s returned %d: %s", where, resp.StatusCode, httpx.Snippet(body, 200))
	}
	if truncated {
		return nil, fmt.Errorf("%s: answer larger than %d MiB", where, maxBody>>20)
	}
	var alerts []alert
	if err := json.Unmarshal(body, &alerts); err != nil {
		return nil, fmt.Errorf("%s: decoding the alerts: %w (answer starts %q)", where, err, httpx.Snippet(body, 80))
	}
	return alerts, nil
}

// level is how the check treats an alert's severity label.
type level int

const (
	levelInfo level = iota
	levelWarn
	levelFail
)

// severityLevel maps a severity label value to a level; see the package
// doc.
func severityLevel(sev string) level {
	switch strings.ToLower(strings.TrimSpace(sev)) {
	case "critical", "page", "error", "high":
		return levelFail
	case "info", "informational", "none", "low":
		return levelInfo
	default:
		return levelWarn
	}
}

// group is the alerts of one alert name.
type group struct {
	name   string
	alerts []alert
	worst  level
	sev    string // the severity label of the worst alert
}

// evaluate turns the alerts into a result.
func (c *Check) evaluate(alerts []alert) checks.Result {
	byName := map[string]*group{}
	infoLeftOut := 0
	for _, a := range alerts {
		if a.Status.State != "" && a.Status.State != "active" {
			continue // silenced, inhibited or not yet processed
		}
		name := a.Labels["alertname"]
		if c.ignore[name] {
			continue
		}
		lv := severityLevel(a.Labels["severity"])
		if lv == levelInfo && !c.cfg.IncludeInfo {
			infoLeftOut++
			continue
		}
		g := byName[name]
		if g == nil {
			g = &group{name: name, worst: -1}
			byName[name] = g
		}
		g.alerts = append(g.alerts, a)
		if lv > g.worst {
			g.worst, g.sev = lv, a.Labels["severity"]
		}
	}

	groups := make([]*group, 0, len(byName))
	for _, g := range byName {
		groups = append(groups, g)
	}
	// Worst first, then the biggest, then by name: a stable order.
	slices.SortFunc(groups, func(a, b *group) int {
		return cmp.Or(cmp.Compare(b.worst, a.worst), cmp.Compare(len(b.alerts), len(a.alerts)), strings.Compare(a.name, b.name))
	})

	var findings []checks.Finding
	total, critical := 0, 0
	for _, g := range groups {
		total += len(g.alerts)
		if g.worst == levelFail {
			for _, a := range g.alerts {
				if severityLevel(a.Labels["severity"]) == levelFail {
					critical++
				}
			}
		}
		findings = append(findings, c.finding(g))
	}

	res := checks.Result{Status: checks.Summarize(findings), Findings: findings}
	if total == 0 {
		res.Summary = "no firing alerts"
	} else {
		res.Summary = fmt.Sprintf("%d firing %s in %d %s", total, plural(total, "alert"), len(groups), plural(len(groups), "group"))
		if critical > 0 {
			res.Summary += fmt.Sprintf(" (%d critical)", critical)
		}
	}
	if infoLeftOut > 0 {
		res.Summary += fmt.Sprintf("; %d info-level %s not shown", infoLeftOut, plural(infoLeftOut, "alert"))
	}
	return res
}

// finding builds the finding of one group.
func (c *Check) finding(g *group) checks.Finding {
	slices.SortFunc(g.alerts, func(a, b alert) int {
		return cmp.Or(a.StartsAt.Compare(b.StartsAt), strings.Compare(a.Fingerprint, b.Fingerprint))
	})
	sev := checks.Warn
	if g.worst == levelFail {
		sev = checks.Fail
	}
	name := g.name
	if name == "" {
		name = "(no alertname)"
	}
	title := name
	if n := len(g.alerts); n > 1 {
		title += fmt.Sprintf(" ×%d", n)
	}
	if g.sev != "" {
		title += " (" + g.sev + ")"
	}

	// The fingerprint: the alert name and the grouping labels every alert
	// of the group agrees on (e.g. namespace=shop). A label whose value
	// differs between the alerts, or that is missing, is left out. Never
	// Alertmanager's fingerprint or startsAt: they change with each new
	// occurrence.
	parts := []string{g.name}
	object := name
	for _, l := range c.cfg.FingerprintLabels {
		if v, ok := common(g.alerts, l); ok {
			parts = append(parts, l+"="+v)
			if l == "namespace" {
				object = v + "/" + name
			}
		}
	}

	return checks.Finding{
		Fingerprint: checks.Fingerprint("alerts", parts...),
		Severity:    sev,
		Object:      object,
		Title:       title,
		Detail:      detail(g.alerts),
		Count:       len(g.alerts),
		Link:        c.groupLink(g),
		Labels:      commonLabels(g.alerts),
	}
}

// commonLabels returns the labels every alert has with the same non-empty
// value: what identifies the group, and what a silence of it matches.
func commonLabels(alerts []alert) map[string]string {
	labels := map[string]string{}
	for l := range alerts[0].Labels {
		if v, ok := common(alerts, l); ok {
			labels[l] = v
		}
	}
	return labels
}

// common returns the value of label l if every alert has it with the same
// non-empty value.
func common(alerts []alert, l string) (string, bool) {
	v := alerts[0].Labels[l]
	if v == "" {
		return "", false
	}
	for _, a := range alerts[1:] {
		if a.Labels[l] != v {
			return "", false
		}
	}
	return v, true
}

// detail returns the summary (else description, else message) annotation
// of the first few alerts, followed by the description when there is both,
// distinct texts only, each truncated. The text is
// kept verbatim: escaping is the renderer's job.
func detail(alerts []alert) string {
	var texts []string
	more := 0
	seen := map[string]bool{}
	for _, a := range alerts {
		t := strings.TrimSpace(cmp.Or(a.Annotations["summary"], a.Annotations["description"], a.Annotations["message"]))
		// The description carries the detail a summary leaves out: both,
		// the whole cut to the sample's length.
		if d := strings.TrimSpace(a.Annotations["description"]); d != "" && t != d {
			t += " — " + d
		}
		if t == "" || seen[t] {
			continue
		}
		seen[t] = true
		if len(texts) == maxSamples {
			more++
			continue
		}
		texts = append(texts, httpx.Truncate(t, maxSampleRunes))
	}
	if more > 0 {
		texts = append(texts, fmt.Sprintf("(and %d more)", more))
	}
	return strings.Join(texts, "\n")
}

// groupLink returns the Alertmanager UI's alerts page filtered by the
// group's alert name and the configured matchers. A group without an alert
// name (which Prometheus never sends) links to its first alert's
// generatorURL instead.
func (c *Check) groupLink(g *group) string {
	if g.name == "" {
		return g.alerts[0].GeneratorURL
	}
	ms := []string{`alertname="` + escapeValue(g.name) + `"`}
	for _, m := range c.cfg.Matchers {
		ms = append(ms, strings.TrimSpace(m))
	}
	q := url.Values{
		"silenced":  {"false"},
		"inhibited": {"false"},
		"active":    {"true"},
		"filter":    {"{" + strings.Join(ms, ",") + "}"},
	}
	return c.link + "/#/alerts?" + q.Encode()
}

// escapeValue escapes s for a double-quoted matcher value.
func escapeValue(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
