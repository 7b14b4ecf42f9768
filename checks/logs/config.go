package logs

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsbot/opsbot/internal/httpx"
)

// Config is the logs check's block of the configuration. The namespaces
// are not here: they belong to the environment and are passed to New.
type Config struct {
	// Window is how far back the logs are read (sinceSeconds). Zero (the
	// default) means the environment's window, which the caller copies
	// in; New uses DefaultWindow (24h) when it is still zero. SetDefaults
	// leaves it zero on purpose, so that an unset key can be told from a
	// set one.
	Window model.Duration `yaml:"window"`
	// LimitBytes is the most read from one container (limitBytes of the
	// log request), e.g. 10MiB or 10485760. Beware: the API returns the
	// *first* LimitBytes of the window, so a container that logs more
	// than this is read from the window's start and its latest lines are
	// missed; the summary says how many containers were cut. Default 10MiB.
	LimitBytes ByteSize `yaml:"limitBytes"`
	// Concurrency is how many log streams are read at once: each is one
	// request in flight at the API server (and its kubelet), so this
	// bounds the check's load there (with no client-side rate limit, the
	// default). Default 32 (see DefaultConcurrency).
	Concurrency int `yaml:"concurrency"`
	// Top is how many findings (error signatures) are reported; the rest
	// are counted in the summary. Default 10.
	Top int `yaml:"top"`
	// MinCount is the number of events a signature needs to be reported.
	// Default 1.
	MinCount int `yaml:"minCount"`
	// FailThreshold is the number of events that makes a signature Fail
	// rather than Warn (FATAL, CRITICAL and panics always Fail). Default
	// 100.
	FailThreshold int `yaml:"failThreshold"`
	// Timeout bounds the whole check (listing pods and reading every
	// log). Default 60s.
	Timeout model.Duration `yaml:"timeout"`
	// Containers, if set, are the only container names read (an
	// allow-list, e.g. [app] to skip sidecars).
	Containers []string `yaml:"containers"`
	// Exclude are regular expressions (RE2 syntax) of log lines to
	// ignore: an error event whose first line, exception line or "Caused
	// by" line matches one is not counted.
	Exclude []string `yaml:"exclude"`
	// Link, if set, is the findings' link: a URL template where
	// {namespace}, {pod} and {container} are replaced by their
	// query-escaped values (the pod the sample comes from), e.g.
	// https://grafana.example.com/explore?query={namespace}%2F{pod}
	Link string `yaml:"link"`
}

// Defaults of the configuration keys.
const (
	DefaultWindow     = 24 * time.Hour
	DefaultLimitBytes = ByteSize(10 << 20)
	// DefaultConcurrency is 32 log streams. Measured with bench/logspeed
	// on the 2-core test environment (issue 14), medians of interleaved
	// runs: 32 streams read 2,000 logs of 100 KiB in 30% less time than 8
	// (3.8 s against 5.5 s), 1,000 in 17% less, and 2,000 logs of 4 KiB (a
	// repeat run's) in 17-35% less; 64 were no faster than 32. A
	// controller that moved the number with the measured throughput (a
	// hill climb on bytes per second over quarter-second windows) was
	// tried and did no better than 8: at a fixed number of streams,
	// throughput swung by 2x from one window to the next on a busy
	// machine, more than the number of streams changed it.
	DefaultConcurrency   = 32
	DefaultTop           = 10
	DefaultMinCount      = 1
	DefaultFailThreshold = 100
	DefaultTimeout       = 60 * time.Second
)

// maxConcurrency bounds concurrency: each stream holds a connection and a
// scanner buffer.
const maxConcurrency = 64

// SetDefaults fills unset fields with their defaults, except Window (see
// its comment).
func (c *Config) SetDefaults() {
	if c.LimitBytes == 0 {
		c.LimitBytes = DefaultLimitBytes
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Top == 0 {
		c.Top = DefaultTop
	}
	if c.MinCount == 0 {
		c.MinCount = DefaultMinCount
	}
	if c.FailThreshold == 0 {
		c.FailThreshold = DefaultFailThreshold
	}
	if c.Timeout == 0 {
		c.Timeout = model.Duration(DefaultTimeout)
	}
}

// Validate checks the configuration. Errors name the offending key relative
// to the check's block, e.g. `exclude[1]: invalid regexp: ...`. It expects
// defaults to have been set.
func (c Config) Validate() error {
	if c.Window < 0 {
		return fmt.Errorf("window: must be positive, got %s", c.Window)
	}
	if c.Timeout <= 0 {
		return fmt.Errorf("timeout: must be positive, got %s", c.Timeout)
	}
	if c.LimitBytes < 1 {
		return fmt.Errorf("limitBytes: must be positive, got %d", int64(c.LimitBytes))
	}
	if c.Concurrency < 1 || c.Concurrency > maxConcurrency {
		return fmt.Errorf("concurrency: must be between 1 and %d, got %d", maxConcurrency, c.Concurrency)
	}
	for _, n := range []struct {
		key string
		v   int
	}{{"top", c.Top}, {"minCount", c.MinCount}, {"failThreshold", c.FailThreshold}} {
		if n.v < 1 {
			return fmt.Errorf("%s: must be at least 1, got %d", n.key, n.v)
		}
	}
	for i, name := range c.Containers {
		if strings.TrimSpace(name) == "" {
			return fmt.Errorf("containers[%d]: must not be empty", i)
		}
	}
	if _, err := compileExclude(c.Exclude); err != nil {
		return err
	}
	if c.Link != "" {
		if err := checkLink(c.Link); err != nil {
			return fmt.Errorf("link: %w", err)
		}
	}
	return nil
}

// compileExclude compiles the exclude patterns; errors name the key.
func compileExclude(patterns []string) ([]*regexp.Regexp, error) {
	var res []*regexp.Regexp
	for i, p := range patterns {
		if p == "" {
			return nil, fmt.Errorf("exclude[%d]: must not be empty (it would exclude every line)", i)
		}
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("exclude[%d]: invalid regexp: %w", i, err)
		}
		res = append(res, re)
	}
	return res, nil
}

var placeholderRE = regexp.MustCompile(`\{[^{}]*\}`)

// checkLink accepts an absolute http(s) URL template whose only
// placeholders are {namespace}, {pod} and {container}.
func checkLink(tmpl string) error {
	for _, p := range placeholderRE.FindAllString(tmpl, -1) {
		switch p {
		case "{namespace}", "{pod}", "{container}":
		default:
			return fmt.Errorf("unknown placeholder %s (want {namespace}, {pod} or {container})", p)
		}
	}
	return httpx.CheckURL(expandLink(tmpl, "namespace", "pod", "container"))
}

// expandLink fills a link template.
func expandLink(tmpl, namespace, pod, container string) string {
	return strings.NewReplacer(
		"{namespace}", url.QueryEscape(namespace),
		"{pod}", url.QueryEscape(pod),
		"{container}", url.QueryEscape(container),
	).Replace(tmpl)
}

// ByteSize is a number of bytes. In YAML it is an integer (bytes) or a
// number with a unit: B, KiB, MiB, GiB (or Ki, Mi, Gi: powers of 1024),
// kB, MB, GB (or k, K, M, G: powers of 1000).
type ByteSize int64

var byteUnits = map[string]int64{
	"": 1, "b": 1,
	"ki": 1 << 10, "kib": 1 << 10, "mi": 1 << 20, "mib": 1 << 20, "gi": 1 << 30, "gib": 1 << 30,
	"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9,
}

// UnmarshalText parses "10MiB", "512KiB", "1GB" or "10485760".
func (b *ByteSize) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	i := 0
	for i < len(s) && (isDigit(s[i]) || s[i] == '.') {
		i++
	}
	num, unit := s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
	mult, ok := byteUnits[unit]
	if num == "" || !ok {
		return fmt.Errorf("invalid size %q (want bytes, or a number with B, KiB, MiB, GiB, kB, MB or GB)", s)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v*float64(mult) > 1<<62 {
		return fmt.Errorf("invalid size %q", s)
	}
	*b = ByteSize(v * float64(mult))
	return nil
}

// MarshalText writes the size in the largest binary unit that divides it.
func (b ByteSize) MarshalText() ([]byte, error) {
	v := int64(b)
	for _, u := range []struct {
		name string
		n    int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if v != 0 && v%u.n == 0 {
			return []byte(strconv.FormatInt(v/u.n, 10) + u.name), nil
		}
	}
	return []byte(strconv.FormatInt(v, 10)), nil
}

// String returns the size for people: "10 MiB", "2000 B", "1.5 MiB".
func (b ByteSize) String() string {
	for _, u := range []struct {
		name string
		n    int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if v := int64(b); v >= u.n && (v%u.n == 0 || v*10%u.n == 0) {
			return strconv.FormatFloat(float64(v)/float64(u.n), 'f', -1, 64) + " " + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10) + " B"
}
