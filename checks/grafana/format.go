package grafana

import (
	"math"
	"strconv"
	"strings"
)

// formatValue formats v in a Grafana unit as the panel shows it, for the
// common units: s, ms, percent, percentunit, bytes (IEC), decbytes (SI),
// reqps, short and none; any other unit is written after the number.
func formatValue(v float64, unit string) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	switch unit {
	case "", "none":
		return number(v)
	case "short":
		return scaled(v, 1000, []string{"", " K", " Mil", " Bil", " Tri"})
	case "percent":
		return number(v) + "%"
	case "percentunit":
		return number(v*100) + "%"
	case "s":
		return seconds(v)
	case "ms":
		return seconds(v / 1e3)
	case "µs", "us":
		return seconds(v / 1e6)
	case "bytes":
		return scaled(v, 1024, []string{" B", " KiB", " MiB", " GiB", " TiB", " PiB"})
	case "decbytes":
		return scaled(v, 1000, []string{" B", " kB", " MB", " GB", " TB", " PB"})
	case "reqps":
		return number(v) + " req/s"
	case "ops":
		return number(v) + " ops/s"
	}
	return number(v) + " " + unit
}

// number writes v with up to three significant decimals, no trailing zeros.
func number(v float64) string {
	a := math.Abs(v)
	decimals := 0
	switch {
	case a == 0:
		return "0"
	case a < 1:
		decimals = 3
	case a < 10:
		decimals = 2
	case a < 100:
		decimals = 1
	}
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func scaled(v, base float64, units []string) string {
	i := 0
	for math.Abs(v) >= base && i < len(units)-1 {
		v /= base
		i++
	}
	return number(v) + units[i]
}

// seconds writes a duration given in seconds as Grafana's "s" unit does:
// ms below a second, s below a minute, then min, hour, day.
func seconds(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0 s"
	case a < 1e-3:
		return number(v*1e6) + " µs"
	case a < 1:
		return number(v*1e3) + " ms"
	case a < 60:
		return number(v) + " s"
	case a < 3600:
		return number(v/60) + " min"
	case a < 86400:
		return number(v/3600) + " hour"
	}
	return number(v/86400) + " day"
}
