package testenv

import (
	"bufio"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Labels are the labels of one series.
type Labels map[string]string

// Exporter is an in-process Prometheus target on 127.0.0.1 serving series
// planted by the test in the text exposition format at /metrics. Prometheus
// (StartPrometheus with Target in its targets, honor_labels on) keeps the
// labels as planted. Safe for concurrent use.
type Exporter struct {
	srv     *httptest.Server
	scrapes atomic.Int64

	mu       sync.Mutex
	families map[string]*family
}

type family struct {
	counter bool
	series  map[string]*series // by labels' canonical form
}

type series struct {
	labels    string // rendered {a="b",...}
	value     float64
	perSecond float64
	since     time.Time
}

var (
	metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelNameRE  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// NewExporter starts an exporter on a free port of 127.0.0.1.
func NewExporter() *Exporter {
	e := &Exporter{families: make(map[string]*family)}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	return e
}

// Target is the exporter's host:port, for PrometheusOptions.Targets.
func (e *Exporter) Target() string { return strings.TrimPrefix(e.srv.URL, "http://") }

// URL is the exporter's metrics URL.
func (e *Exporter) URL() string { return e.srv.URL + "/metrics" }

// Scrapes is how many times the exporter has been scraped.
func (e *Exporter) Scrapes() int64 { return e.scrapes.Load() }

// Close stops the exporter.
func (e *Exporter) Close() { e.srv.Close() }

// Set sets a gauge series to value. A metric name is either a gauge or a
// counter: the type of its last Set or SetCounter wins. It fails only on an
// invalid metric or label name.
func (e *Exporter) Set(name string, labels Labels, value float64) error {
	return e.set(name, labels, false, value, 0)
}

// SetCounter sets a counter series that is value now and grows by perSecond
// every second (computed at each scrape), so rate() and increase() over it
// give about perSecond once Prometheus has scraped it twice.
func (e *Exporter) SetCounter(name string, labels Labels, value, perSecond float64) error {
	return e.set(name, labels, true, value, perSecond)
}

// Delete removes a series; Prometheus marks it stale at its next scrape.
func (e *Exporter) Delete(name string, labels Labels) {
	key := renderLabels(labels)
	e.mu.Lock()
	defer e.mu.Unlock()
	if f := e.families[name]; f != nil {
		delete(f.series, key)
		if len(f.series) == 0 {
			delete(e.families, name)
		}
	}
}

// Reset removes every series.
func (e *Exporter) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.families = make(map[string]*family)
}

func (e *Exporter) set(name string, labels Labels, counter bool, value, perSecond float64) error {
	if !metricNameRE.MatchString(name) {
		return fmt.Errorf("exporter: invalid metric name %q", name)
	}
	for l := range labels {
		if !labelNameRE.MatchString(l) || strings.HasPrefix(l, "__") {
			return fmt.Errorf("exporter: invalid label name %q on %s", l, name)
		}
	}
	key := renderLabels(labels)
	e.mu.Lock()
	defer e.mu.Unlock()
	f := e.families[name]
	if f == nil {
		f = &family{series: make(map[string]*series)}
		e.families[name] = f
	}
	f.counter = counter
	f.series[key] = &series{labels: key, value: value, perSecond: perSecond, since: time.Now()}
	return nil
}

func (e *Exporter) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/metrics" {
		http.NotFound(w, r)
		return
	}
	e.scrapes.Add(1)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	now := time.Now()
	bw := bufio.NewWriter(w)
	e.mu.Lock()
	names := make([]string, 0, len(e.families))
	for n := range e.families {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		f := e.families[n]
		typ := "gauge"
		if f.counter {
			typ = "counter"
		}
		fmt.Fprintf(bw, "# TYPE %s %s\n", n, typ)
		keys := make([]string, 0, len(f.series))
		for k := range f.series {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			s := f.series[k]
			v := s.value + s.perSecond*now.Sub(s.since).Seconds()
			fmt.Fprintf(bw, "%s%s %s\n", n, s.labels, formatFloat(v))
		}
	}
	e.mu.Unlock()
	_ = bw.Flush()
}

// renderLabels renders labels as {a="b",c="d"} sorted by name ("" if none).
func renderLabels(labels Labels) string {
	if len(labels) == 0 {
		return ""
	}
	names := make([]string, 0, len(labels))
	for n := range labels {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n)
		b.WriteString(`="`)
		b.WriteString(labelValueEscaper.Replace(labels[n]))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

var labelValueEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
