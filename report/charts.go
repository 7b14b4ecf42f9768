package report

import (
	"io"
)

// Charts is what `--charts DIR` wrote: the chart files, and the findings
// whose chart could not be drawn or written, with why.
type Charts struct {
	Dir     string
	Written []string // file names in Dir
	Failed  []ChartFailure
	// None counts the findings with a chart source that had nothing to
	// draw (no Prometheus, or the series is gone).
	None int
}

// ChartFailure is a finding whose chart was not written.
type ChartFailure struct {
	Fingerprint string
	Err         string
}

// WriteCharts says where the charts went, after the report.
func WriteCharts(w io.Writer, c Charts) error {
	e := &errWriter{w: w}
	switch n := len(c.Written); n {
	case 0:
		e.printf("\nCharts: none written to %s", Clean(c.Dir))
	case 1:
		e.printf("\nCharts: 1 written to %s", Clean(c.Dir))
	default:
		e.printf("\nCharts: %d written to %s", n, Clean(c.Dir))
	}
	if c.None > 0 {
		e.printf(" (%d with nothing to draw)", c.None)
	}
	e.printf("\n")
	for _, name := range c.Written {
		e.printf("  %s\n", Clean(name))
	}
	for _, f := range c.Failed {
		e.printf("  not drawn: %s: %s\n", Clean(f.Fingerprint), Clean(f.Err))
	}
	return e.err
}
