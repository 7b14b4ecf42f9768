package httpcheck

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsbot/opsbot/internal/httpx"
)

// Config is the http check's block of the configuration.
type Config struct {
	// Targets are the health URLs to probe, all at once.
	Targets []Target `yaml:"targets"`
}

// Target is one health URL.
type Target struct {
	// Name identifies the target in titles and fingerprints ("payments").
	Name string `yaml:"name"`
	// URL is an absolute http:// or https:// URL, e.g.
	// http://payments.shop:8080/actuator/health.
	URL string `yaml:"url"`
	// Timeout bounds the request. Default 5s.
	Timeout model.Duration `yaml:"timeout"`
	// ExpectStatus lists the acceptable status codes, as one code or a
	// list. Default: any 2xx.
	ExpectStatus StatusCodes `yaml:"expectStatus"`
	// Method is GET (default), HEAD, POST or OPTIONS. No body is sent.
	Method string `yaml:"method"`
	// Headers are sent with the request, verbatim.
	Headers map[string]string `yaml:"headers"`
	// InsecureSkipVerify disables TLS certificate verification.
	InsecureSkipVerify bool `yaml:"insecureSkipVerify"`
}

// StatusCodes is a list of HTTP status codes that unmarshals from YAML as
// one code (expectStatus: 200) or a list (expectStatus: [200, 204]).
type StatusCodes []int

// UnmarshalYAML implements the yaml.v2/v3 obsolete Unmarshaler interface,
// so it works with either package.
func (s *StatusCodes) UnmarshalYAML(unmarshal func(any) error) error {
	var one int
	if err := unmarshal(&one); err == nil {
		*s = StatusCodes{one}
		return nil
	}
	var list []int
	if err := unmarshal(&list); err != nil {
		return fmt.Errorf("want a status code or a list of them: %w", err)
	}
	*s = list
	return nil
}

// DefaultTimeout is a target's timeout when it sets none.
const DefaultTimeout = 5 * time.Second

var (
	methods      = []string{"GET", "HEAD", "POST", "OPTIONS"}
	headerNameRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
)

// SetDefaults fills each target's unset fields (timeout 5s, method GET) in
// place.
func (c *Config) SetDefaults() {
	for i := range c.Targets {
		t := &c.Targets[i]
		if t.Timeout == 0 {
			t.Timeout = model.Duration(DefaultTimeout)
		}
		if t.Method == "" {
			t.Method = "GET"
		}
	}
}

// Validate checks the configuration. Errors name the offending key relative
// to the check's block, e.g. `targets[1].url: ...`.
func (c Config) Validate() error {
	seen := map[string]int{}
	for i, t := range c.Targets {
		key := fmt.Sprintf("targets[%d]", i)
		name := strings.TrimSpace(t.Name)
		if name == "" {
			return fmt.Errorf("%s.name: must not be empty", key)
		}
		if strings.Contains(name, "/") {
			return fmt.Errorf("%s.name: must not contain '/', got %q", key, t.Name)
		}
		if j, dup := seen[name]; dup {
			return fmt.Errorf("%s.name: %q is already the name of targets[%d]", key, t.Name, j)
		}
		seen[name] = i
		if t.URL == "" {
			return fmt.Errorf("%s.url: must not be empty", key)
		}
		if err := httpx.CheckURL(t.URL); err != nil {
			return fmt.Errorf("%s.url: %w", key, err)
		}
		if t.Timeout < 0 {
			return fmt.Errorf("%s.timeout: must be positive, got %s", key, t.Timeout)
		}
		if t.Method != "" && !slices.Contains(methods, t.Method) {
			return fmt.Errorf("%s.method: must be one of %s, got %q", key, strings.Join(methods, ", "), t.Method)
		}
		for j, code := range t.ExpectStatus {
			if code < 100 || code > 599 {
				return fmt.Errorf("%s.expectStatus[%d]: must be an HTTP status code (100-599), got %d", key, j, code)
			}
		}
		for h := range t.Headers {
			if !headerNameRE.MatchString(h) {
				return fmt.Errorf("%s.headers: %q is not a valid header name", key, h)
			}
		}
	}
	return nil
}
