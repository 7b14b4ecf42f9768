package grafana

import (
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/opsbot/opsbot/checks"
)

// stepStatus maps the colour of step i of n to a status. Grafana's named
// colours and CSS colours (#rrggbb, rgb(), rgba()) are read by hue: red is
// Fail, orange and yellow are Warn, green is OK. Any other colour (blue,
// purple, grey, "text", "transparent") counts by its position: the base
// step is OK, the last step is Fail, a step between is Warn.
func stepStatus(colour string, i, n int) (checks.Status, string) {
	if class := colourClass(colour); class != "" {
		switch class {
		case "red":
			return checks.Fail, class
		case "orange", "yellow":
			return checks.Warn, class
		case "green":
			return checks.OK, class
		}
	}
	name := colour
	switch {
	case i == 0:
		return checks.OK, name
	case i == n-1:
		return checks.Fail, name
	}
	return checks.Warn, name
}

var rgbRE = regexp.MustCompile(`^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)`)

// colourClass returns "red", "orange", "yellow" or "green" for a colour
// of those hues, "" for any other.
func colourClass(c string) string {
	c = strings.ToLower(strings.TrimSpace(c))
	for _, name := range []string{"red", "orange", "yellow", "green"} {
		// Grafana's palette: red, dark-red, semi-dark-red, light-red,
		// super-light-red, and the same for each hue.
		if c == name || strings.HasSuffix(c, "-"+name) {
			return name
		}
	}
	var r, g, b float64
	switch {
	case strings.HasPrefix(c, "#") && (len(c) == 7 || len(c) == 9):
		for i, p := range []*float64{&r, &g, &b} {
			v, err := strconv.ParseUint(c[1+2*i:3+2*i], 16, 8)
			if err != nil {
				return ""
			}
			*p = float64(v)
		}
	case strings.HasPrefix(c, "#") && len(c) == 4:
		for i, p := range []*float64{&r, &g, &b} {
			v, err := strconv.ParseUint(strings.Repeat(c[1+i:2+i], 2), 16, 8)
			if err != nil {
				return ""
			}
			*p = float64(v)
		}
	default:
		m := rgbRE.FindStringSubmatch(c)
		if m == nil {
			return ""
		}
		r, _ = strconv.ParseFloat(m[1], 64)
		g, _ = strconv.ParseFloat(m[2], 64)
		b, _ = strconv.ParseFloat(m[3], 64)
	}
	hi, lo := math.Max(r, math.Max(g, b)), math.Min(r, math.Min(g, b))
	if hi == 0 || (hi-lo)/hi < 0.25 {
		return "" // grey: no hue
	}
	var h float64
	switch hi {
	case r:
		h = math.Mod((g-b)/(hi-lo), 6)
	case g:
		h = (b-r)/(hi-lo) + 2
	default:
		h = (r-g)/(hi-lo) + 4
	}
	h *= 60
	if h < 0 {
		h += 360
	}
	switch {
	case h < 15 || h >= 340:
		return "red"
	case h < 42:
		return "orange"
	case h < 68:
		return "yellow"
	case h < 170:
		return "green"
	}
	return ""
}
