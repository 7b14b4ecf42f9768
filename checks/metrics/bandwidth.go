package metrics

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Bandwidth is a rate in bytes per second. In YAML it is a number of bytes
// per second or a string with a unit: bits ("1Gbit/s", "200Mbit/s",
// "500kbit/s", "bit/s") with SI prefixes, or bytes ("50MB/s" with SI
// prefixes, "64MiB/s" with binary ones, "B/s"). The "/s" may be left out.
type Bandwidth float64

// bandwidthUnits maps a unit, without "/s", to its size in bytes per
// second. Prefixes are case-sensitive as in SI: "Mbit" is a megabit, and
// "mbit" is refused rather than guessed.
var bandwidthUnits = map[string]float64{
	"bit": 1.0 / 8, "kbit": 1e3 / 8, "Mbit": 1e6 / 8, "Gbit": 1e9 / 8, "Tbit": 1e12 / 8,
	"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
}

// ParseBandwidth parses s as described on Bandwidth. The value must be
// positive.
func ParseBandwidth(s string) (Bandwidth, error) {
	in := strings.TrimSpace(s)
	// The number is the leading run of number characters. No unit starts
	// with e or E, so an exponent cannot swallow one.
	rest := strings.TrimLeft(in, "0123456789.eE+-")
	num := in[:len(in)-len(rest)]
	unit := strings.TrimSpace(strings.TrimSuffix(rest, "/s"))
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("want a bandwidth like 1Gbit/s, 200Mbit/s or 50MB/s, got %q", s)
	}
	scale := 1.0
	if unit != "" {
		var ok bool
		if scale, ok = bandwidthUnits[unit]; !ok {
			return 0, fmt.Errorf("unknown unit %q in %q: use bit/s, kbit/s, Mbit/s, Gbit/s, Tbit/s, B/s, kB/s, MB/s, GB/s, TB/s, KiB/s, MiB/s, GiB/s or TiB/s", unit, s)
		}
	}
	b := v * scale
	if !(b > 0) || math.IsInf(b, 0) {
		return 0, fmt.Errorf("want a positive bandwidth, got %q", s)
	}
	return Bandwidth(b), nil
}

// UnmarshalYAML implements the yaml.v2/v3 obsolete Unmarshaler interface,
// so it works with either package.
func (b *Bandwidth) UnmarshalYAML(unmarshal func(any) error) error {
	var n float64
	if err := unmarshal(&n); err == nil {
		if !(n > 0) || math.IsInf(n, 0) {
			return fmt.Errorf("want a positive bandwidth, got %v", n)
		}
		*b = Bandwidth(n)
		return nil
	}
	var s string
	if err := unmarshal(&s); err != nil {
		return fmt.Errorf("want a bandwidth like 1Gbit/s or a number of bytes per second: %w", err)
	}
	v, err := ParseBandwidth(s)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// String formats b in bits per second, as links are sold: "1 Gbit/s",
// "200 Mbit/s", "1.5 kbit/s".
func (b Bandwidth) String() string {
	bits := float64(b) * 8
	for _, u := range []struct {
		name string
		size float64
	}{{"Tbit/s", 1e12}, {"Gbit/s", 1e9}, {"Mbit/s", 1e6}, {"kbit/s", 1e3}} {
		if math.Abs(bits) >= u.size {
			return trimFloat(bits/u.size, 2) + " " + u.name
		}
	}
	return trimFloat(bits, 2) + " bit/s"
}
