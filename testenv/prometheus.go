package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"
)

// PrometheusOptions configures StartPrometheus. The zero value is usable
// (a Prometheus scraping nothing).
type PrometheusOptions struct {
	// Path defaults to prometheus in $PATH or /usr/bin.
	Path string
	// Targets are host:port pairs scraped at /metrics (e.g. Exporter.Target),
	// in one job "testenv" with honor_labels: true.
	Targets []string
	// ScrapeInterval is also the rule evaluation interval (default 1s).
	ScrapeInterval time.Duration
	// Rules, if set, is the content of a rule file (YAML with "groups:").
	Rules string
	// ExtraArgs are appended to prometheus's flags.
	ExtraArgs []string
	// TempDir is the parent of the temporary directory (default: the
	// system temp dir).
	TempDir string
	// Backfill, if set, is history in the OpenMetrics text format (ending
	// with "# EOF"), written into the TSDB with `promtool tsdb
	// create-blocks-from openmetrics` before Prometheus starts: series with
	// known values at known past times, for range queries. Samples must be
	// older than the start (Prometheus's head owns the present).
	Backfill string
}

// Prometheus is a running Prometheus server on 127.0.0.1.
type Prometheus struct {
	dir      string
	url      string
	proc     *process
	http     *http.Client
	interval time.Duration
	rules    bool
	targets  []string // as last written to the config; guarded by mu

	mu       sync.Mutex // serialises SetTargets
	stopOnce sync.Once
	stopErr  error
}

// Sample is one element of an instant query's result.
type Sample struct {
	Labels Labels
	Value  float64
	Time   time.Time
}

// StartPrometheus starts Prometheus on a free port of 127.0.0.1 with its
// TSDB in a temporary directory, and waits until it is ready. ctx bounds
// start-up only (default 90 s if it has no deadline).
func StartPrometheus(ctx context.Context, opts PrometheusOptions) (_ *Prometheus, err error) {
	bin, err := lookBinary(opts.Path, "prometheus", "prometheus")
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	ctx, cancel := startContext(ctx, "prometheus")
	defer cancel()
	dir, err := makeTempDir(opts.TempDir, "prometheus")
	if err != nil {
		return nil, err
	}
	p := &Prometheus{dir: dir, http: &http.Client{Timeout: 30 * time.Second}, interval: opts.ScrapeInterval, rules: opts.Rules != ""}
	defer func() {
		if err != nil {
			_ = p.Stop()
		}
	}()
	if p.interval <= 0 {
		p.interval = time.Second
	}
	if p.rules {
		if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(opts.Rules), 0o600); err != nil {
			return nil, fmt.Errorf("prometheus: %w", err)
		}
	}
	if err := p.writeConfig(opts.Targets); err != nil {
		return nil, err
	}
	if opts.Backfill != "" {
		if err := backfill(ctx, dir, opts.Backfill); err != nil {
			return nil, err
		}
	}
	probe := &http.Client{Timeout: 2 * time.Second}
	p.proc, err = startWithPorts(ctx, 1, func(ports []int) (*process, error) {
		p.url = "http://127.0.0.1:" + itoa(ports[0])
		args := []string{
			"--config.file=" + filepath.Join(dir, "prometheus.yml"),
			"--storage.tsdb.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=127.0.0.1:" + itoa(ports[0]),
			"--web.enable-lifecycle", // POST /-/reload for SetTargets
		}
		return startProcess("prometheus", bin, append(args, opts.ExtraArgs...), dir, filepath.Join(dir, "prometheus.log"), nil)
	}, func(ctx context.Context) (bool, error) {
		ok, _, err := httpOK(ctx, probe, p.url+"/-/ready", "")
		return ok, err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// backfill writes the OpenMetrics history om into dir/data as TSDB blocks.
func backfill(ctx context.Context, dir, om string) error {
	bin, err := lookBinary("", "prometheus", "promtool")
	if err != nil {
		return fmt.Errorf("prometheus backfill: %w", err)
	}
	src := filepath.Join(dir, "backfill.om")
	if err := os.WriteFile(src, []byte(om), 0o600); err != nil {
		return fmt.Errorf("prometheus backfill: %w", err)
	}
	cmd := exec.CommandContext(ctx, bin, "tsdb", "create-blocks-from", "openmetrics", src, filepath.Join(dir, "data"))
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("prometheus backfill: promtool: %w: %s", err, firstLines(out, 5))
	}
	return nil
}

func (p *Prometheus) writeConfig(targets []string) error {
	targets = append([]string{}, targets...)
	p.targets = targets
	list, err := json.Marshal(targets) // a JSON array is a YAML flow sequence
	if err != nil {
		return fmt.Errorf("prometheus: %w", err)
	}
	iv := model.Duration(p.interval).String()
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\n", iv, iv, iv)
	if p.rules {
		b.WriteString("rule_files: [\"rules.yml\"]\n")
	}
	fmt.Fprintf(&b, "scrape_configs:\n  - job_name: testenv\n    honor_labels: true\n    static_configs:\n      - targets: %s\n", list)
	// Write and rename, so a reload never reads half a file.
	tmp := filepath.Join(p.dir, ".prometheus.yml.tmp")
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("prometheus: write config: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(p.dir, "prometheus.yml")); err != nil {
		return fmt.Errorf("prometheus: write config: %w", err)
	}
	return nil
}

// URL is Prometheus's base URL (http://127.0.0.1:<port>).
func (p *Prometheus) URL() string { return p.url }

// Dir is the temporary directory (config, TSDB, prometheus.log), removed by
// Stop.
func (p *Prometheus) Dir() string { return p.dir }

// SetTargets replaces the scraped targets and reloads the configuration.
func (p *Prometheus) SetTargets(ctx context.Context, targets ...string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.writeConfig(targets); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url+"/-/reload", nil)
	if err != nil {
		return err
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return fmt.Errorf("prometheus: reload: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("prometheus: reload: %s: %s", resp.Status, firstLines(body, 3))
	}
	return nil
}

// WaitForTargets waits until Prometheus has scraped every configured
// target successfully. Prometheus applies new targets in batches every 5
// seconds (at start-up and after SetTargets; not configurable in 2.42), so
// the first scrape comes up to ~5 s after either; call this once (e.g. in
// TestMain) rather than making each WaitForQuery absorb the delay. Without
// a deadline in ctx it gives up after 60 s.
func (p *Prometheus) WaitForTargets(ctx context.Context) error {
	ctx, cancel := waitContext(ctx, "prometheus: wait for targets")
	defer cancel()
	p.mu.Lock()
	want := append([]string{}, p.targets...)
	p.mu.Unlock()
	return poll(ctx, nil, func(ctx context.Context) (bool, error) {
		var body struct {
			Data struct {
				ActiveTargets []struct {
					ScrapeURL string `json:"scrapeUrl"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"activeTargets"`
			} `json:"data"`
		}
		ok, raw, err := httpOK(ctx, p.http, p.url+"/api/v1/targets?state=active", "")
		if !ok {
			return false, err
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			return false, fmt.Errorf("decode targets: %w", err)
		}
		up := map[string]bool{}
		var notUp []string
		for _, t := range body.Data.ActiveTargets {
			u, err := url.Parse(t.ScrapeURL)
			if err != nil {
				continue
			}
			if t.Health == "up" {
				up[u.Host] = true
			} else {
				notUp = append(notUp, fmt.Sprintf("%s %s %s", u.Host, t.Health, t.LastError))
			}
		}
		for _, w := range want {
			if !up[w] {
				return false, fmt.Errorf("target %s not scraped yet (not up: %v)", w, notUp)
			}
		}
		return true, nil
	})
}

// Query runs an instant query now and returns its result: the samples of a
// vector, or one unlabelled sample for a scalar.
func (p *Prometheus) Query(ctx context.Context, query string) ([]Sample, error) {
	u := p.url + "/api/v1/query?" + url.Values{"query": {query}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("prometheus: query %q: %w", query, err)
	}
	defer resp.Body.Close()
	var body struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
		Data      struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&body); err != nil {
		return nil, fmt.Errorf("prometheus: query %q: %s: decode: %w", query, resp.Status, err)
	}
	if body.Status != "success" {
		err := fmt.Errorf("prometheus: query %q: %s: %s: %s", query, resp.Status, body.ErrorType, body.Error)
		if body.ErrorType == "bad_data" {
			return nil, &badQueryError{err}
		}
		return nil, err
	}
	switch body.Data.ResultType {
	case "vector":
		var vec []struct {
			Metric Labels `json:"metric"`
			Value  [2]any `json:"value"`
		}
		if err := json.Unmarshal(body.Data.Result, &vec); err != nil {
			return nil, fmt.Errorf("prometheus: query %q: decode vector: %w", query, err)
		}
		out := make([]Sample, 0, len(vec))
		for _, v := range vec {
			s, err := parsePoint(v.Value)
			if err != nil {
				return nil, fmt.Errorf("prometheus: query %q: %w", query, err)
			}
			s.Labels = v.Metric
			out = append(out, s)
		}
		return out, nil
	case "scalar":
		var pt [2]any
		if err := json.Unmarshal(body.Data.Result, &pt); err != nil {
			return nil, fmt.Errorf("prometheus: query %q: decode scalar: %w", query, err)
		}
		s, err := parsePoint(pt)
		if err != nil {
			return nil, fmt.Errorf("prometheus: query %q: %w", query, err)
		}
		return []Sample{s}, nil
	default:
		return nil, fmt.Errorf("prometheus: query %q: result type %q not supported (use an instant vector)", query, body.Data.ResultType)
	}
}

// parsePoint decodes [<unix seconds>, "<value>"].
func parsePoint(pt [2]any) (Sample, error) {
	ts, ok1 := pt[0].(float64)
	vs, ok2 := pt[1].(string)
	if !ok1 || !ok2 {
		return Sample{}, fmt.Errorf("bad sample %v", pt)
	}
	v, err := strconv.ParseFloat(vs, 64)
	if err != nil {
		return Sample{}, fmt.Errorf("bad sample value %q: %w", vs, err)
	}
	sec := int64(ts)
	return Sample{Value: v, Time: time.Unix(sec, int64((ts-float64(sec))*1e9))}, nil
}

// WaitForQuery polls query until its result is not empty and returns it.
// An invalid query (Prometheus's bad_data) fails at once. Without a
// deadline in ctx it gives up after 60 s.
func (p *Prometheus) WaitForQuery(ctx context.Context, query string) ([]Sample, error) {
	ctx, cancel := waitContext(ctx, fmt.Sprintf("prometheus: query %q", query))
	defer cancel()
	var out []Sample
	var bad *badQueryError
	err := poll(ctx, nil, func(ctx context.Context) (bool, error) {
		var err error
		out, err = p.Query(ctx, query)
		switch {
		case errors.As(err, &bad):
			return true, nil // no point retrying; reported below
		case err != nil:
			return false, err
		case len(out) == 0:
			return false, fmt.Errorf("query %q: empty result", query)
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if bad != nil {
		return nil, bad
	}
	return out, nil
}

// badQueryError is a query Prometheus rejected as invalid.
type badQueryError struct{ err error }

func (e *badQueryError) Error() string { return e.err.Error() }
func (e *badQueryError) Unwrap() error { return e.err }

// Stop stops Prometheus and removes its temporary directory. Idempotent.
func (p *Prometheus) Stop() error {
	p.stopOnce.Do(func() {
		if p.proc != nil {
			p.proc.stop(stopGrace)
		}
		if err := os.RemoveAll(p.dir); err != nil {
			p.stopErr = fmt.Errorf("prometheus: remove %s: %w", p.dir, err)
		}
	})
	return p.stopErr
}

// Close is Stop, for io.Closer.
func (p *Prometheus) Close() error { return p.Stop() }
