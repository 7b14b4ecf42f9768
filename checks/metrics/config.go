package metrics

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsbot/opsbot/internal/httpx"
)

// Config is the metrics check's block of the configuration. The Prometheus
// URL, the namespaces and the Grafana link belong to the environment and
// are passed to New in Env.
type Config struct {
	// Defaults runs the built-in queries (cpu, memory, pvc, restarts,
	// http5xx, latencyP99; see DefaultQueryNames). Default true.
	Defaults *bool `yaml:"defaults"`
	// DisableDefaults names built-in queries not to run.
	DisableDefaults []string `yaml:"disableDefaults"`
	// HTTPMetrics picks the metric names of the http5xx and latencyP99
	// built-ins: "prometheus" (default: http_requests_total{code} and
	// http_request_duration_seconds_bucket, as client libraries name them)
	// or "micrometer" (Spring Boot: http_server_requests_seconds_count{status}
	// and http_server_requests_seconds_bucket). For anything else, write a
	// query of your own with the built-in's name: it replaces the built-in.
	HTTPMetrics string `yaml:"httpMetrics"`
	// Thresholds overrides the built-ins' thresholds.
	Thresholds Thresholds `yaml:"thresholds"`
	// NetworkLimit is the bandwidth a pod may use in each direction: its
	// share of the node's link, or what the cluster's bandwidth plugin
	// enforces. Setting it runs the networkReceive and networkTransmit
	// built-ins, each pod's rate against it (thresholds networkWarn and
	// networkFail). Written "1Gbit/s", "200Mbit/s", "50MB/s", "64MiB/s" or
	// a number of bytes per second. Unset: no network look.
	NetworkLimit Bandwidth `yaml:"networkLimit"`
	// Queries are queries of your own. One with a built-in's name replaces
	// the built-in.
	Queries []Query `yaml:"queries"`
	// MaxFindings caps the findings of one query; the summary says how many
	// more there were. Default 10.
	MaxFindings int `yaml:"maxFindings"`
	// Timeout bounds the whole check. Default 20s.
	Timeout model.Duration `yaml:"timeout"`
	// Concurrency is how many queries run at once. Default 4.
	Concurrency int `yaml:"concurrency"`
}

// Thresholds overrides the warn and fail thresholds of the built-in
// queries. Ratios are fractions (0.8 is 80%); latency is in seconds;
// restarts are per container per hour. Unset fields keep the defaults.
type Thresholds struct {
	CPUWarn        *float64 `yaml:"cpuWarn"`
	CPUFail        *float64 `yaml:"cpuFail"`
	MemoryWarn     *float64 `yaml:"memoryWarn"`
	MemoryFail     *float64 `yaml:"memoryFail"`
	PVCWarn        *float64 `yaml:"pvcWarn"`
	PVCFail        *float64 `yaml:"pvcFail"`
	RestartsWarn   *float64 `yaml:"restartsWarn"`
	RestartsFail   *float64 `yaml:"restartsFail"`
	HTTP5xxWarn    *float64 `yaml:"http5xxWarn"`
	HTTP5xxFail    *float64 `yaml:"http5xxFail"`
	LatencyP99Warn *float64 `yaml:"latencyP99Warn"`
	LatencyP99Fail *float64 `yaml:"latencyP99Fail"`
	// NetworkWarn and NetworkFail are fractions of NetworkLimit, for
	// receive and transmit alike.
	NetworkWarn *float64 `yaml:"networkWarn"`
	NetworkFail *float64 `yaml:"networkFail"`
}

// Query is one PromQL instant query with thresholds. Every series of its
// result that reaches a threshold is a finding.
type Query struct {
	// Name identifies the query in fingerprints and messages: letters,
	// digits, '-', '_', '.' and ':'.
	Name string `yaml:"name"`
	// Query is the PromQL expression. {{namespace}} or $namespace is
	// replaced by a regex of the environment's namespaces, for use as
	// namespace=~"{{namespace}}".
	Query string `yaml:"query"`
	// Description is a short phrase naming what is measured ("memory vs
	// limit"), used at the start of finding titles. Default: the name.
	Description string `yaml:"description"`
	// Warn and Fail are the thresholds; at least one must be set. A value
	// that reaches a threshold (>= for above, <= for below) counts.
	Warn *float64 `yaml:"warn"`
	Fail *float64 `yaml:"fail"`
	// Direction is "above" (default: high values are bad) or "below".
	Direction string `yaml:"direction"`
	// Unit formats values and thresholds: "none" (default), "percent"
	// (the value is already a percentage), "ratio" (a fraction shown as a
	// percentage), "seconds" or "bytes".
	Unit string `yaml:"unit"`
	// Labels name the labels that identify a series, in the finding's
	// object and fingerprint. Default: all labels but __name__ (and a few
	// volatile ones in fingerprints; see fingerprintLabels).
	Labels []string `yaml:"labels"`
	// Link is where a finding points (a Grafana dashboard). Default: the
	// environment's Grafana link, else the query in Prometheus's graph
	// page.
	Link string `yaml:"link"`
}

// The directions and units a Query accepts.
const (
	Above = "above"
	Below = "below"

	UnitNone    = "none"
	UnitPercent = "percent"
	UnitRatio   = "ratio"
	UnitSeconds = "seconds"
	UnitBytes   = "bytes"
)

// Defaults of the Config fields.
const (
	DefaultTimeout     = 20 * time.Second
	DefaultConcurrency = 4
	DefaultMaxFindings = 10
)

var (
	units    = []string{UnitNone, UnitPercent, UnitRatio, UnitSeconds, UnitBytes}
	queryRE  = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)
	httpKind = []string{"prometheus", "micrometer"}
)

// SetDefaults fills unset fields with their defaults. It sets the
// direction and unit of each query in c.Queries in place.
func (c *Config) SetDefaults() {
	if c.Defaults == nil {
		t := true
		c.Defaults = &t
	}
	if c.HTTPMetrics == "" {
		c.HTTPMetrics = "prometheus"
	}
	if c.MaxFindings == 0 {
		c.MaxFindings = DefaultMaxFindings
	}
	if c.Timeout == 0 {
		c.Timeout = model.Duration(DefaultTimeout)
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	for i := range c.Queries {
		c.Queries[i].setDefaults()
	}
}

func (q *Query) setDefaults() {
	if q.Direction == "" {
		q.Direction = Above
	}
	if q.Unit == "" {
		q.Unit = UnitNone
	}
}

// Validate checks the configuration. Errors name the offending key relative
// to the check's block, e.g. `queries[2].fail: must be >= warn (0.9) for
// direction above, got 0.5`. Zero values count as "use the default".
func (c Config) Validate() error {
	if c.Timeout < 0 {
		return fmt.Errorf("timeout: must be positive, got %s", c.Timeout)
	}
	if c.NetworkLimit < 0 || math.IsNaN(float64(c.NetworkLimit)) || math.IsInf(float64(c.NetworkLimit), 0) {
		return fmt.Errorf("networkLimit: must be a positive bandwidth, got %v", float64(c.NetworkLimit))
	}
	if c.Concurrency < 0 {
		return fmt.Errorf("concurrency: must be at least 1, got %d", c.Concurrency)
	}
	if c.MaxFindings < 0 {
		return fmt.Errorf("maxFindings: must be at least 1, got %d", c.MaxFindings)
	}
	if c.HTTPMetrics != "" && !slices.Contains(httpKind, c.HTTPMetrics) {
		return fmt.Errorf("httpMetrics: must be one of %s, got %q", strings.Join(httpKind, ", "), c.HTTPMetrics)
	}
	for i, n := range c.DisableDefaults {
		if !isBuiltin(n) {
			return fmt.Errorf("disableDefaults[%d]: no built-in query %q (built-ins: %s)", i, n, strings.Join(DefaultQueryNames(), ", "))
		}
	}
	if err := c.Thresholds.validate(); err != nil {
		return fmt.Errorf("thresholds.%w", err)
	}
	seen := map[string]int{}
	for i, q := range c.Queries {
		if err := q.validate(); err != nil {
			return fmt.Errorf("queries[%d]%w", i, err)
		}
		if j, dup := seen[q.Name]; dup {
			return fmt.Errorf("queries[%d].name: %q is already the name of queries[%d]", i, q.Name, j)
		}
		seen[q.Name] = i
	}
	return nil
}

// validate returns an error starting with ".key: " or ": ", to follow
// "queries[i]".
func (q Query) validate() error {
	switch {
	case strings.TrimSpace(q.Name) == "":
		return fmt.Errorf(".name: must not be empty")
	case !queryRE.MatchString(q.Name):
		return fmt.Errorf(".name: must be letters, digits, '-', '_', '.' or ':', got %q", q.Name)
	case strings.TrimSpace(q.Query) == "":
		return fmt.Errorf(".query: must not be empty")
	case q.Direction != "" && q.Direction != Above && q.Direction != Below:
		return fmt.Errorf(".direction: must be %q or %q, got %q", Above, Below, q.Direction)
	case q.Unit != "" && !slices.Contains(units, q.Unit):
		return fmt.Errorf(".unit: must be one of %s, got %q", strings.Join(units, ", "), q.Unit)
	case q.Warn == nil && q.Fail == nil:
		return fmt.Errorf(": set warn, fail or both")
	}
	for i, l := range q.Labels {
		if strings.TrimSpace(l) == "" {
			return fmt.Errorf(".labels[%d]: must not be empty", i)
		}
	}
	if q.Link != "" {
		if err := httpx.CheckURL(q.Link); err != nil {
			return fmt.Errorf(".link: %w", err)
		}
	}
	dir := q.Direction
	if dir == "" {
		dir = Above
	}
	return checkPair(".warn", ".fail", "warn", q.Warn, q.Fail, dir)
}

// checkPair checks a warn/fail pair: numbers, and fail at or beyond warn in
// the direction. warnKey and failKey are the keys as they appear in errors;
// warnName is how the fail error refers to the warn threshold.
func checkPair(warnKey, failKey, warnName string, warn, fail *float64, dir string) error {
	if warn != nil && math.IsNaN(*warn) {
		return fmt.Errorf("%s: must be a number, got NaN", warnKey)
	}
	if fail != nil && math.IsNaN(*fail) {
		return fmt.Errorf("%s: must be a number, got NaN", failKey)
	}
	if warn == nil || fail == nil {
		return nil
	}
	if dir == Above && *fail < *warn {
		return fmt.Errorf("%s: must be >= %s (%v) for direction above, got %v", failKey, warnName, *warn, *fail)
	}
	if dir == Below && *fail > *warn {
		return fmt.Errorf("%s: must be <= %s (%v) for direction below, got %v", failKey, warnName, *warn, *fail)
	}
	return nil
}

// validate checks each built-in's effective pair (override or default).
func (t Thresholds) validate() error {
	for _, d := range builtins {
		warn, fail := t.pair(d.Name)
		w, f := d.Warn, d.Fail
		if warn != nil {
			w = warn
		}
		if fail != nil {
			f = fail
		}
		key := d.Name
		if isNetwork(key) {
			key = "network" // one pair for both directions
		}
		if err := checkPair(key+"Warn", key+"Fail", key+"Warn", w, f, d.Direction); err != nil {
			return err
		}
	}
	return nil
}

// pair returns the overrides of the built-in named name.
func (t Thresholds) pair(name string) (warn, fail *float64) {
	switch name {
	case "cpu":
		return t.CPUWarn, t.CPUFail
	case "memory":
		return t.MemoryWarn, t.MemoryFail
	case "pvc":
		return t.PVCWarn, t.PVCFail
	case "restarts":
		return t.RestartsWarn, t.RestartsFail
	case "http5xx":
		return t.HTTP5xxWarn, t.HTTP5xxFail
	case "latencyP99":
		return t.LatencyP99Warn, t.LatencyP99Fail
	case "networkReceive", "networkTransmit":
		return t.NetworkWarn, t.NetworkFail
	}
	return nil, nil
}
