package statuspage

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

func TestPacerSpacesRequests(t *testing.T) {
	p := newPacer(2) // 500ms apart
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	steps := []struct {
		at   time.Duration // after t0
		want time.Duration // wait
	}{
		{0, 0},
		{0, 500 * time.Millisecond},
		{100 * time.Millisecond, 900 * time.Millisecond},
		{5 * time.Second, 0}, // idle for a while: no wait
		{5 * time.Second, 500 * time.Millisecond},
	}
	for i, s := range steps {
		got, err := p.reserve(t0.Add(s.at), time.Time{})
		if err != nil || got != s.want {
			t.Errorf("step %d: reserve = %s, %v; want %s", i, got, err, s.want)
		}
	}
}

func TestPacerRefusesSlotsPastTheDeadline(t *testing.T) {
	p := newPacer(1)
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	if _, err := p.reserve(t0, t0.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err := p.reserve(t0, t0.Add(500*time.Millisecond))
	if !errors.Is(err, errPacingDeadline) {
		t.Fatalf("reserve past the deadline = %v, want errPacingDeadline", err)
	}
	// The refused request booked nothing: the next one gets the same slot.
	if got, err := p.reserve(t0, time.Time{}); err != nil || got != time.Second {
		t.Errorf("reserve after a refusal = %s, %v; want 1s", got, err)
	}
}

func TestPacerBackoff(t *testing.T) {
	p := newPacer(1)
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	p.backoff(t0, 30*time.Second)
	if got, _ := p.reserve(t0.Add(time.Second), time.Time{}); got != 29*time.Second {
		t.Errorf("wait after a 30s backoff = %s, want 29s", got)
	}
	p.backoff(t0, time.Second) // an earlier backoff does not shorten the wait
	if got, _ := p.reserve(t0.Add(time.Second), time.Time{}); got != 30*time.Second {
		t.Errorf("wait = %s, want 30s", got)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", time.Second},
		{"0", 0},
		{"2", 2 * time.Second},
		{" 3 ", 3 * time.Second},
		{"0.25", 250 * time.Millisecond},
		{"-5", 0},
		{"Mon, 23 Nov 2026 09:00:10 GMT", 10 * time.Second},
		{"Mon, 23 Nov 2026 08:00:00 GMT", 0},
		{"soon", time.Second},
		{"999999", 24 * time.Hour},
	} {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestAPIMessage(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"error":"Could not authenticate"}`, "Could not authenticate"},
		{`{"error":["Name can't be blank","Status is invalid"]}`, "Name can't be blank; Status is invalid"},
		{`{"errors":{"name":["can't be blank"]}}`, "name can't be blank"},
		{`{"message":"Not found"}`, "Not found"},
		{`<html><body>Bad gateway</body></html>`, "<html><body>Bad gateway</body></html>"},
		{``, ""},
	} {
		if got := apiMessage([]byte(tc.body)); got != tc.want {
			t.Errorf("apiMessage(%s) = %q, want %q", tc.body, got, tc.want)
		}
	}
}

func TestAPIErrorRedactsTheKey(t *testing.T) {
	c := &Client{cfg: Config{APIKey: "k3y-value"}}
	if got := c.redact(`{"error":"bad key k3y-value"}`); strings.Contains(got, "k3y-value") {
		t.Errorf("redact left the key: %s", got)
	}
}

func validConfig() Config {
	c := Config{PageID: "abcd1234efgh", APIKey: "s3cr3t-k3y", Components: []string{"cmp1"}}
	c.SetDefaults()
	return c
}

func TestConfigDefaults(t *testing.T) {
	c := validConfig()
	if c.BaseURL != DefaultBaseURL || c.APIKeyEnv != "STATUSPAGE_API_KEY" || c.ComponentStatus != PartialOutage ||
		time.Duration(c.Timeout) != 30*time.Second || c.RequestsPerSecond != 1 {
		t.Errorf("defaults: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if s := fmt.Sprintf("%v %+v %#v", c, c, c); strings.Contains(s, "s3cr3t-k3y") {
		t.Errorf("the API key is printed: %s", s)
	}
}

func TestConfigValidateNamesKeys(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"no page", func(c *Config) { c.PageID = "" }, "pageID: required"},
		{"bad page", func(c *Config) { c.PageID = "a/b" }, "pageID: "},
		{"no key", func(c *Config) { c.APIKey = "" }, "apiKeyEnv: the environment variable STATUSPAGE_API_KEY is empty"},
		{"bad env name", func(c *Config) { c.APIKeyEnv = "1-X" }, "apiKeyEnv: "},
		{"bad url", func(c *Config) { c.BaseURL = "api.statuspage.io" }, "baseURL: "},
		{"credentials in url", func(c *Config) { c.BaseURL = "https://u:p@api.statuspage.io/v1" }, "baseURL: must not contain credentials"},
		{"bad component", func(c *Config) { c.Components = []string{"ok", ""} }, "components[1]: "},
		{"duplicate component", func(c *Config) { c.Components = []string{"a", "a"} }, "components[1]: \"a\" is listed twice"},
		{"bad component status", func(c *Config) { c.ComponentStatus = "down" }, "componentStatus: must be one of"},
		{"negative timeout", func(c *Config) { c.Timeout = model.Duration(-time.Second) }, "timeout: must be positive"},
		{"negative rate", func(c *Config) { c.RequestsPerSecond = -1 }, "requestsPerSecond: must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.modify(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "u:p@") {
				t.Errorf("credentials in the error: %v", err)
			}
		})
	}
}
