package logs

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

func TestConfigDefaults(t *testing.T) {
	var c Config
	c.SetDefaults()
	want := Config{
		LimitBytes:    10 << 20,
		Concurrency:   32,
		Top:           10,
		MinCount:      1,
		FailThreshold: 100,
		Timeout:       model.Duration(time.Minute),
	}
	if c.Window != 0 {
		t.Errorf("Window = %s, want 0 (the environment's)", c.Window)
	}
	if c.LimitBytes != want.LimitBytes || c.Concurrency != want.Concurrency || c.Top != want.Top ||
		c.MinCount != want.MinCount || c.FailThreshold != want.FailThreshold || c.Timeout != want.Timeout {
		t.Errorf("defaults %+v, want %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"negative window", func(c *Config) { c.Window = -1 }, "window: must be positive"},
		{"zero timeout", func(c *Config) { c.Timeout = -1 }, "timeout: must be positive"},
		{"negative limit", func(c *Config) { c.LimitBytes = -5 }, "limitBytes: must be positive, got -5"},
		{"concurrency", func(c *Config) { c.Concurrency = 65 }, "concurrency: must be between 1 and 64, got 65"},
		{"top", func(c *Config) { c.Top = -1 }, "top: must be at least 1, got -1"},
		{"minCount", func(c *Config) { c.MinCount = -1 }, "minCount: must be at least 1, got -1"},
		{"failThreshold", func(c *Config) { c.FailThreshold = -3 }, "failThreshold: must be at least 1, got -3"},
		{"empty container", func(c *Config) { c.Containers = []string{"app", " "} }, "containers[1]: must not be empty"},
		{"bad regexp", func(c *Config) { c.Exclude = []string{"ok", "(unclosed"} }, "exclude[1]: invalid regexp: error parsing regexp: missing closing )"},
		{"empty regexp", func(c *Config) { c.Exclude = []string{""} }, "exclude[0]: must not be empty"},
		{"link placeholder", func(c *Config) { c.Link = "https://x.example.com/{pod}/{object}" }, "link: unknown placeholder {object}"},
		{"link not absolute", func(c *Config) { c.Link = "/logs?pod={pod}" }, "link: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c Config
			c.SetDefaults()
			tc.mod(&c)
			err := c.Validate()
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error starting %q", err, tc.want)
			}
		})
	}
	c := Config{Link: "https://grafana.example.com/explore?ns={namespace}&pod={pod}&c={container}", Exclude: []string{`health(z|check)`}}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func TestConfigYAML(t *testing.T) {
	in := `
window: 12h
limitBytes: 512KiB
concurrency: 4
top: 5
minCount: 3
failThreshold: 50
timeout: 90s
containers: [app]
exclude: ['health check']
link: https://grafana.example.com/explore?pod={pod}
`
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(in))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if c.Window != model.Duration(12*time.Hour) || c.LimitBytes != 512<<10 || c.Concurrency != 4 || c.Top != 5 ||
		c.MinCount != 3 || c.FailThreshold != 50 || c.Timeout != model.Duration(90*time.Second) ||
		len(c.Containers) != 1 || len(c.Exclude) != 1 || c.Link == "" {
		t.Errorf("decoded %+v", c)
	}
	if err := yaml.Unmarshal([]byte("limitBytes: 10485760"), &c); err != nil || c.LimitBytes != 10<<20 {
		t.Errorf("integer limitBytes: %v %d", err, c.LimitBytes)
	}
	if err := yaml.Unmarshal([]byte("limitBytes: lots"), &c); err == nil {
		t.Error("limitBytes: lots accepted")
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{
		"10485760": 10 << 20, "10MiB": 10 << 20, "10 MiB": 10 << 20, "10Mi": 10 << 20, "512KiB": 512 << 10,
		"1GiB": 1 << 30, "1.5MiB": 3 << 19, "100B": 100, "2kB": 2000, "1MB": 1e6, "1G": 1e9,
	} {
		var b ByteSize
		if err := b.UnmarshalText([]byte(in)); err != nil || b != want {
			t.Errorf("%q: %d, %v; want %d", in, b, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "10 parsecs", "-1", "1e3"} {
		var b ByteSize
		if err := b.UnmarshalText([]byte(in)); err == nil {
			t.Errorf("%q accepted as %d", in, b)
		}
	}
	for b, want := range map[ByteSize]string{10 << 20: "10MiB", 1000: "1000", 3 << 10: "3KiB", 0: "0"} {
		if got, _ := b.MarshalText(); string(got) != want {
			t.Errorf("MarshalText(%d) = %q, want %q", b, got, want)
		}
	}
	for b, want := range map[ByteSize]string{10 << 20: "10 MiB", 2000: "2000 B", 3 << 19: "1.5 MiB", 1 << 30: "1 GiB"} {
		if got := b.String(); got != want {
			t.Errorf("String(%d) = %q, want %q", b, got, want)
		}
	}
}

func TestExpandLink(t *testing.T) {
	got := expandLink("https://x.example.com/?q={namespace}/{pod}&c={container}", "shop", "a b&c", "app")
	if want := "https://x.example.com/?q=shop/a+b%26c&c=app"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}
