package metrics

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestParseBandwidth(t *testing.T) {
	for in, want := range map[string]float64{
		"1Gbit/s":    125e6,
		"200Mbit/s":  25e6,
		"500kbit":    62.5e3,
		"8bit/s":     1,
		"50MB/s":     50e6,
		"1.5 GB/s":   1.5e9,
		"64MiB/s":    64 << 20,
		"2GiB":       2 << 30,
		"1000":       1000,
		"1e3B/s":     1000,
		" 10 Mbit/s": 1.25e6,
	} {
		got, err := ParseBandwidth(in)
		if err != nil || float64(got) != want {
			t.Errorf("ParseBandwidth(%q) = %v, %v; want %v", in, float64(got), err, want)
		}
	}
	for in, wantErr := range map[string]string{
		"":          "want a bandwidth like",
		"fast":      "want a bandwidth like",
		"1mbit/s":   `unknown unit "mbit"`,
		"1Gbps":     `unknown unit "Gbps"`,
		"0Mbit/s":   "want a positive bandwidth",
		"-5MB/s":    "want a positive bandwidth",
		"1e400MB/s": "want a bandwidth like",
	} {
		if _, err := ParseBandwidth(in); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("ParseBandwidth(%q) error %v, want one containing %q", in, err, wantErr)
		}
	}
}

func TestBandwidthYAMLAndString(t *testing.T) {
	var c struct {
		A Bandwidth `yaml:"a"`
		B Bandwidth `yaml:"b"`
	}
	if err := yaml.Unmarshal([]byte("a: 1Gbit/s\nb: 1500\n"), &c); err != nil {
		t.Fatal(err)
	}
	if c.A != 125e6 || c.B != 1500 {
		t.Errorf("got %v and %v", float64(c.A), float64(c.B))
	}
	if got := c.A.String(); got != "1 Gbit/s" {
		t.Errorf("String() = %q", got)
	}
	if got := c.B.String(); got != "12 kbit/s" {
		t.Errorf("String() = %q", got)
	}
	if got := Bandwidth(31.25).String(); got != "250 bit/s" {
		t.Errorf("String() = %q", got)
	}
	for _, doc := range []string{"a: -1\n", "a: 3 parsecs\n", "a: [1]\n"} {
		if err := yaml.Unmarshal([]byte(doc), &c); err == nil {
			t.Errorf("%q: no error", doc)
		}
	}
}
