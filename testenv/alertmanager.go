package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// DefaultAlertmanagerConfig is the configuration StartAlertmanager uses
// unless AlertmanagerOptions.Config is set: every alert goes to a receiver
// "null" that notifies nobody, and a critical alert inhibits warnings with
// the same alertname and namespace.
const DefaultAlertmanagerConfig = `route:
  receiver: "null"
  group_by: [alertname, namespace]
receivers:
  - name: "null"
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [alertname, namespace]
`

// Alert states reported by Alertmanager's API (AlertStatus.State).
const (
	AlertStateActive      = "active"
	AlertStateSuppressed  = "suppressed" // silenced or inhibited
	AlertStateUnprocessed = "unprocessed"
)

// AlertmanagerOptions configures StartAlertmanager. The zero value is
// usable.
type AlertmanagerOptions struct {
	// Path defaults to prometheus-alertmanager (Debian's name) or
	// alertmanager in $PATH or /usr/bin.
	Path string
	// Config replaces DefaultAlertmanagerConfig.
	Config string
	// ExtraArgs are appended to Alertmanager's flags.
	ExtraArgs []string
	// TempDir is the parent of the temporary directory (default: the
	// system temp dir).
	TempDir string
}

// Alertmanager is a running Alertmanager on 127.0.0.1, clustering off.
type Alertmanager struct {
	dir  string
	url  string
	proc *process
	http *http.Client

	stopOnce sync.Once
	stopErr  error
}

// Alert is an alert to post (the API's postableAlert).
type Alert struct {
	Labels      Labels
	Annotations map[string]string
	// StartsAt defaults to now; EndsAt to 24 hours from now (firing for the
	// whole test rather than resolving after resolve_timeout).
	StartsAt, EndsAt time.Time
	GeneratorURL     string
}

// ListedAlert is an alert as Alertmanager lists it (the API's gettableAlert).
type ListedAlert struct {
	Alert
	Fingerprint string
	UpdatedAt   time.Time
	Status      AlertStatus
	Receivers   []string
}

// AlertStatus says whether an alert is active or suppressed, and by what.
type AlertStatus struct {
	State       string   `json:"state"` // AlertStateActive, AlertStateSuppressed or AlertStateUnprocessed
	SilencedBy  []string `json:"silencedBy"`
	InhibitedBy []string `json:"inhibitedBy"`
}

// AlertQuery selects alerts for Alerts and WaitForAlerts. The zero value
// lists every alert, as the API does without parameters.
type AlertQuery struct {
	// Filter holds matchers such as `alertname="Foo"` or `namespace=~"a|b"`.
	Filter []string
	// Receiver is a regular expression on receiver names.
	Receiver string
	// Exclude* drop alerts in that state (the API's active=false, ...).
	ExcludeActive, ExcludeSilenced, ExcludeInhibited, ExcludeUnprocessed bool
}

// Matcher is one matcher of a silence.
type Matcher struct {
	Name, Value string
	IsRegex     bool
	NotEqual    bool // != or !~
}

// StartAlertmanager starts Alertmanager on a free port of 127.0.0.1 with
// clustering disabled and its storage in a temporary directory, and waits
// until it is ready. ctx bounds start-up only (default 90 s if it has no
// deadline).
func StartAlertmanager(ctx context.Context, opts AlertmanagerOptions) (_ *Alertmanager, err error) {
	bin, err := lookBinary(opts.Path, "prometheus-alertmanager", "prometheus-alertmanager", "alertmanager")
	if err != nil {
		return nil, fmt.Errorf("alertmanager: %w", err)
	}
	ctx, cancel := startContext(ctx, "alertmanager")
	defer cancel()
	dir, err := makeTempDir(opts.TempDir, "alertmanager")
	if err != nil {
		return nil, err
	}
	am := &Alertmanager{dir: dir, http: &http.Client{Timeout: 30 * time.Second}}
	defer func() {
		if err != nil {
			_ = am.Stop()
		}
	}()
	config := opts.Config
	if config == "" {
		config = DefaultAlertmanagerConfig
	}
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(config), 0o600); err != nil {
		return nil, fmt.Errorf("alertmanager: %w", err)
	}
	probe := &http.Client{Timeout: 2 * time.Second}
	am.proc, err = startWithPorts(ctx, 1, func(ports []int) (*process, error) {
		am.url = "http://127.0.0.1:" + itoa(ports[0])
		args := []string{
			"--config.file=" + filepath.Join(dir, "alertmanager.yml"),
			"--storage.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=127.0.0.1:" + itoa(ports[0]),
			"--cluster.listen-address=", // no gossip (it would bind *:9094)
		}
		return startProcess("alertmanager", bin, append(args, opts.ExtraArgs...), dir, filepath.Join(dir, "alertmanager.log"), nil)
	}, func(ctx context.Context) (bool, error) {
		ok, _, err := httpOK(ctx, probe, am.url+"/-/ready", "")
		return ok, err
	})
	if err != nil {
		return nil, err
	}
	return am, nil
}

// URL is Alertmanager's base URL (http://127.0.0.1:<port>).
func (am *Alertmanager) URL() string { return am.url }

// Dir is the temporary directory (config, storage, alertmanager.log),
// removed by Stop.
func (am *Alertmanager) Dir() string { return am.dir }

// postableAlert is the JSON of a posted alert.
type postableAlert struct {
	Labels       Labels            `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     *time.Time        `json:"startsAt,omitempty"`
	EndsAt       *time.Time        `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// wireAlert is the JSON of a listed alert.
type wireAlert struct {
	postableAlert
	Fingerprint string      `json:"fingerprint,omitempty"`
	UpdatedAt   *time.Time  `json:"updatedAt,omitempty"`
	Status      AlertStatus `json:"status"`
	Receivers   []struct {
		Name string `json:"name"`
	} `json:"receivers,omitempty"`
}

// PostAlerts posts alerts (POST /api/v2/alerts). Alertmanager processes
// them asynchronously: use WaitForAlerts to see their resulting state.
func (am *Alertmanager) PostAlerts(ctx context.Context, alerts ...Alert) error {
	now := time.Now()
	wire := make([]postableAlert, 0, len(alerts))
	for _, a := range alerts {
		starts, ends := a.StartsAt, a.EndsAt
		if starts.IsZero() {
			starts = now
		}
		if ends.IsZero() {
			ends = now.Add(24 * time.Hour)
		}
		wire = append(wire, postableAlert{Labels: a.Labels, Annotations: a.Annotations, StartsAt: &starts, EndsAt: &ends, GeneratorURL: a.GeneratorURL})
	}
	return am.do(ctx, http.MethodPost, "/api/v2/alerts", wire, nil)
}

// Alerts lists alerts (GET /api/v2/alerts).
func (am *Alertmanager) Alerts(ctx context.Context, q AlertQuery) ([]ListedAlert, error) {
	v := url.Values{}
	for _, f := range q.Filter {
		v.Add("filter", f)
	}
	if q.Receiver != "" {
		v.Set("receiver", q.Receiver)
	}
	for _, p := range []struct {
		name    string
		exclude bool
	}{{"active", q.ExcludeActive}, {"silenced", q.ExcludeSilenced}, {"inhibited", q.ExcludeInhibited}, {"unprocessed", q.ExcludeUnprocessed}} {
		if p.exclude {
			v.Set(p.name, "false")
		}
	}
	var wire []wireAlert
	if err := am.do(ctx, http.MethodGet, "/api/v2/alerts?"+v.Encode(), nil, &wire); err != nil {
		return nil, err
	}
	out := make([]ListedAlert, 0, len(wire))
	for _, w := range wire {
		la := ListedAlert{
			Alert:       Alert{Labels: w.Labels, Annotations: w.Annotations, GeneratorURL: w.GeneratorURL},
			Fingerprint: w.Fingerprint,
			Status:      w.Status,
		}
		if w.StartsAt != nil {
			la.StartsAt = *w.StartsAt
		}
		if w.EndsAt != nil {
			la.EndsAt = *w.EndsAt
		}
		if w.UpdatedAt != nil {
			la.UpdatedAt = *w.UpdatedAt
		}
		for _, r := range w.Receivers {
			la.Receivers = append(la.Receivers, r.Name)
		}
		out = append(out, la)
	}
	return out, nil
}

// WaitForAlerts polls Alerts until exactly n alerts match q, and returns
// them. Without a deadline in ctx it gives up after 60 s.
func (am *Alertmanager) WaitForAlerts(ctx context.Context, q AlertQuery, n int) ([]ListedAlert, error) {
	return am.WaitForAlertsFunc(ctx, q, func(alerts []ListedAlert) bool { return len(alerts) == n })
}

// WaitForAlertsFunc polls Alerts until cond holds for the alerts matching q,
// and returns them. Inhibition is asynchronous (the inhibitor must have seen
// the source alert), so wait for it rather than reading once. Without a
// deadline in ctx it gives up after 60 s.
func (am *Alertmanager) WaitForAlertsFunc(ctx context.Context, q AlertQuery, cond func([]ListedAlert) bool) ([]ListedAlert, error) {
	ctx, cancel := waitContext(ctx, "alertmanager: wait for alerts")
	defer cancel()
	var alerts []ListedAlert
	err := poll(ctx, nil, func(ctx context.Context) (bool, error) {
		var err error
		if alerts, err = am.Alerts(ctx, q); err != nil {
			return false, err
		}
		if !cond(alerts) {
			return false, fmt.Errorf("condition not met by %d alert(s): %s", len(alerts), describeAlerts(alerts))
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return alerts, nil
}

func describeAlerts(alerts []ListedAlert) string {
	var b bytes.Buffer
	for i, a := range alerts {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s %s", renderLabels(a.Labels), a.Status.State)
	}
	return b.String()
}

// Silence creates a silence for d from now (POST /api/v2/silences) and
// returns its ID.
func (am *Alertmanager) Silence(ctx context.Context, matchers []Matcher, d time.Duration) (string, error) {
	type wireMatcher struct {
		Name    string `json:"name"`
		Value   string `json:"value"`
		IsRegex bool   `json:"isRegex"`
		IsEqual bool   `json:"isEqual"`
	}
	now := time.Now()
	body := struct {
		Matchers  []wireMatcher `json:"matchers"`
		StartsAt  time.Time     `json:"startsAt"`
		EndsAt    time.Time     `json:"endsAt"`
		CreatedBy string        `json:"createdBy"`
		Comment   string        `json:"comment"`
	}{StartsAt: now, EndsAt: now.Add(d), CreatedBy: "testenv", Comment: "silence from opsbot testenv"}
	for _, m := range matchers {
		body.Matchers = append(body.Matchers, wireMatcher{Name: m.Name, Value: m.Value, IsRegex: m.IsRegex, IsEqual: !m.NotEqual})
	}
	var resp struct {
		SilenceID string `json:"silenceID"`
	}
	if err := am.do(ctx, http.MethodPost, "/api/v2/silences", body, &resp); err != nil {
		return "", err
	}
	return resp.SilenceID, nil
}

// ExpireSilence expires a silence (DELETE /api/v2/silence/{id}).
func (am *Alertmanager) ExpireSilence(ctx context.Context, id string) error {
	return am.do(ctx, http.MethodDelete, "/api/v2/silence/"+url.PathEscape(id), nil, nil)
}

// do sends a JSON request and decodes a JSON answer into out (if not nil).
func (am *Alertmanager) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("alertmanager: %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, am.url+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := am.http.Do(req)
	if err != nil {
		return fmt.Errorf("alertmanager: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("alertmanager: %s %s: %s: %s", method, path, resp.Status, firstLines(b, 3))
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("alertmanager: %s %s: decode: %w", method, path, err)
	}
	return nil
}

// Stop stops Alertmanager and removes its temporary directory. Idempotent.
func (am *Alertmanager) Stop() error {
	am.stopOnce.Do(func() {
		if am.proc != nil {
			am.proc.stop(stopGrace)
		}
		if err := os.RemoveAll(am.dir); err != nil {
			am.stopErr = fmt.Errorf("alertmanager: remove %s: %w", am.dir, err)
		}
	})
	return am.stopErr
}

// Close is Stop, for io.Closer.
func (am *Alertmanager) Close() error { return am.Stop() }
