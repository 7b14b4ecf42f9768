package logstest

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

func TestGenerateDeterministicAndExact(t *testing.T) {
	for _, f := range []Format{Plain, JSON, Klog} {
		for _, size := range []int64{0, 1, 100, 1 << 20} {
			o := Options{Size: size, Seed: 42, ErrorRatio: 0.05, Format: f}
			var a, b bytes.Buffer
			sa, err := GenerateWith(&a, o)
			if err != nil {
				t.Fatal(err)
			}
			sb, _ := GenerateWith(&b, o)
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Errorf("%s/%d: two runs differ", f, size)
			}
			if int64(a.Len()) != size || sa.Bytes != size {
				t.Errorf("%s/%d: wrote %d bytes (stats %d)", f, size, a.Len(), sa.Bytes)
			}
			if n := int64(bytes.Count(a.Bytes(), []byte{'\n'})); n != sa.Lines {
				t.Errorf("%s/%d: %d newlines, stats say %d lines", f, size, n, sa.Lines)
			}
			if size > 0 && !bytes.HasSuffix(a.Bytes(), []byte("\n")) {
				t.Errorf("%s/%d: does not end with a newline", f, size)
			}
			var byKind int64
			for _, n := range sa.EventsByKind {
				byKind += n
			}
			if byKind != sa.Events || sb.Events != sa.Events {
				t.Errorf("%s/%d: events %d, by kind %d", f, size, sa.Events, byKind)
			}
		}
	}
}

func TestGenerateSeedsDiffer(t *testing.T) {
	var a, b bytes.Buffer
	Generate(&a, 10000, 1, 0.02)
	Generate(&b, 10000, 2, 0.02)
	if bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("seeds 1 and 2 give the same log")
	}
}

func TestGenerateRatio(t *testing.T) {
	st, err := Generate(io.Discard, 8<<20, 1, 0.02)
	if err != nil {
		t.Fatal(err)
	}
	ratio := float64(st.Events) / float64(st.Statements)
	if ratio < 0.015 || ratio > 0.025 {
		t.Errorf("error ratio %.4f, want about 0.02 (%+v)", ratio, st)
	}
	if st.FatalEvents == 0 || st.WarnStacks == 0 || len(st.EventsByKind) != 7 {
		t.Errorf("stats %+v: want every kind of event, fatal ones and WARN stack traces", st)
	}
}

func TestFormats(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		o      Options
		prefix string
	}{
		{Options{Format: Plain, Start: start}, "2026-01-02T03:04:05"},
		{Options{Format: JSON, Start: start}, `{"@timestamp":"2026-01-02T03:04:05`},
		{Options{Format: Klog, Start: start}, "I0102 03:04:05"},
		{Options{Format: Klog, Start: start, Timestamps: true}, "2026-01-02T03:04:05"},
	} {
		tc.o.Size, tc.o.Seed = 4096, 1
		var b bytes.Buffer
		if _, err := GenerateWith(&b, tc.o); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(b.String(), tc.prefix) {
			t.Errorf("%s (timestamps %v): starts %q, want %q", tc.o.Format, tc.o.Timestamps, b.String()[:40], tc.prefix)
		}
	}
}

func TestReaderSmallReads(t *testing.T) {
	o := Options{Size: 100000, Seed: 9, ErrorRatio: 0.1}
	var whole bytes.Buffer
	GenerateWith(&whole, o)
	r := NewReader(o)
	var got bytes.Buffer
	buf := make([]byte, 7)
	for {
		n, err := r.Read(buf)
		got.Write(buf[:n])
		if err == io.EOF {
			break
		}
	}
	if !bytes.Equal(got.Bytes(), whole.Bytes()) {
		t.Error("7-byte reads differ from Generate")
	}
	var copied bytes.Buffer
	if n, err := NewReader(o).WriteTo(&copied); err != nil || n != o.Size || !bytes.Equal(copied.Bytes(), whole.Bytes()) {
		t.Errorf("WriteTo wrote %d bytes (%v), differing from Generate: %v", n, err, !bytes.Equal(copied.Bytes(), whole.Bytes()))
	}
	if r.Stats().Bytes != o.Size {
		t.Errorf("stats %+v", r.Stats())
	}
}

// stampedLines splits a log generated with Timestamps into its lines and
// the times of their statements (the stamp to the microsecond).
func stampedLines(t *testing.T, log []byte) (lines []string, times []time.Time) {
	t.Helper()
	for _, l := range strings.SplitAfter(string(log), "\n") {
		if l == "" {
			continue
		}
		ts, _, ok := strings.Cut(l, " ")
		if !ok {
			t.Fatalf("line %q has no timestamp", l)
		}
		tm, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		lines, times = append(lines, l), append(times, tm.Truncate(time.Microsecond))
	}
	return lines, times
}

func generate(t *testing.T, o Options) ([]byte, Stats) {
	t.Helper()
	var b bytes.Buffer
	st, err := GenerateWith(&b, o)
	if err != nil {
		t.Fatal(err)
	}
	if st.Bytes != int64(b.Len()) || st.Lines != int64(bytes.Count(b.Bytes(), []byte{'\n'})) {
		t.Fatalf("stats %+v for %d bytes, %d lines", st, b.Len(), bytes.Count(b.Bytes(), []byte{'\n'}))
	}
	return b.Bytes(), st
}

func TestGapFilterGivesTheSameStatements(t *testing.T) {
	start := time.Date(2026, 12, 6, 9, 40, 0, 0, time.UTC)
	end := start.Add(3 * time.Hour)
	for _, f := range []Format{Plain, JSON, Klog} {
		o := Options{Seed: 11, ErrorRatio: 0.2, Format: f, Gap: 700 * time.Millisecond, Start: start, Until: end, Timestamps: true}
		whole, wst := generate(t, o)
		lines, times := stampedLines(t, whole)
		if len(lines) < 1000 || wst.Events == 0 {
			t.Fatalf("%s: %d lines, stats %+v: want a few thousand lines with events", f, len(lines), wst)
		}
		if !times[0].After(start) && !times[0].Equal(start) || !times[len(times)-1].Before(end) {
			t.Errorf("%s: lines from %s to %s, want them in [%s, %s)", f, times[0], times[len(times)-1], start, end)
		}
		// Filters that cut mid-hour, on hour boundaries, and exactly at a
		// statement's time (Since keeps it, Until drops it).
		exact := times[len(times)/2]
		for _, w := range [][2]time.Time{
			{start.Add(7 * time.Minute), start.Add(95 * time.Minute)},
			{start.Add(20 * time.Minute), start.Add(80 * time.Minute)},
			{exact, end},
			{start, exact},
			{exact, exact.Add(time.Microsecond)},
			{start.Add(2*time.Hour + 59*time.Minute), end.Add(time.Hour)},
		} {
			var want []string
			for i, l := range lines {
				if !times[i].Before(w[0]) && times[i].Before(w[1]) && times[i].Before(end) {
					want = append(want, l)
				}
			}
			fo := o
			fo.Since, fo.Until = w[0], w[1]
			if fo.Until.After(end) {
				fo.Until = end
			}
			got, st := generate(t, fo)
			if string(got) != strings.Join(want, "") {
				t.Errorf("%s [%s, %s): %d bytes, want the %d bytes of those lines of the whole log", f, w[0], w[1], len(got), len(strings.Join(want, "")))
			}
			if w[0] == exact && !strings.HasPrefix(string(got), exact.Format(time.RFC3339Nano)) {
				t.Errorf("%s: since a statement's time, the log starts %q", f, string(got[:min(len(got), 40)]))
			}
			// Start is where the log begins: the same cut.
			so := fo
			so.Start, so.Since = fo.Since, time.Time{}
			if again, _ := generate(t, so); !bytes.Equal(again, got) {
				t.Errorf("%s [%s, %s): Start gives another log than Since", f, w[0], w[1])
			}
			var byKind int64
			for _, n := range st.EventsByKind {
				byKind += n
			}
			if byKind != st.Events {
				t.Errorf("%s: %d events, %d by kind", f, st.Events, byKind)
			}
		}
		// Without timestamps: the same lines, unstamped.
		plain := o
		plain.Timestamps = false
		got, _ := generate(t, plain)
		var want strings.Builder
		for _, l := range lines {
			_, rest, _ := strings.Cut(l, " ")
			want.WriteString(rest)
		}
		if string(got) != want.String() {
			t.Errorf("%s: without timestamps, another log", f)
		}
	}
}

func TestGapStampsStayInTheMicrosecond(t *testing.T) {
	o := Options{Seed: 3, ErrorRatio: 0.5, Gap: time.Second, Until: time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC), Timestamps: true}
	log, _ := generate(t, o)
	var prev time.Time
	for _, l := range strings.SplitAfter(string(log), "\n") {
		if l == "" {
			continue
		}
		ts, _, _ := strings.Cut(l, " ")
		tm, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			t.Fatal(err)
		}
		if !tm.After(prev) {
			t.Fatalf("stamp %s after %s: want strictly increasing stamps", tm, prev)
		}
		if tm.Nanosecond()%1000 > 100 {
			t.Fatalf("stamp %s: a statement's lines should stay within its microsecond", tm)
		}
		prev = tm
	}
}

func TestGapRate(t *testing.T) {
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, gap := range []time.Duration{10 * time.Second, 25 * time.Minute, 3 * time.Hour} {
		span := 48 * time.Hour
		if gap > time.Hour {
			span = 2000 * time.Hour
		}
		log, st := generate(t, Options{Seed: 5, Gap: gap, Start: start, Until: start.Add(span), Timestamps: true})
		want := float64(span) / float64(gap)
		if got := float64(st.Statements); got < 0.95*want || got > 1.05*want {
			t.Errorf("gap %s: %d statements in %s, want about %.0f", gap, st.Statements, span, want)
		}
		if 2*gap > time.Hour {
			continue // hours may have no statement
		}
		_, times := stampedLines(t, log)
		prev := start
		for _, tm := range times {
			if tm.Sub(prev) > 4*gap {
				t.Fatalf("gap %s: %s between statements at %s and %s, want at most 2×Gap (4×Gap across an hour's end)", gap, tm.Sub(prev), prev, tm)
			}
			prev = tm
		}
	}
}

func TestGapSizeLimit(t *testing.T) {
	start := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	o := Options{Size: 50000, Seed: 2, ErrorRatio: 0.05, Gap: time.Second, Start: start, Until: start.Add(24 * time.Hour)}
	log, st := generate(t, o)
	if st.Bytes != o.Size || !bytes.HasSuffix(log, []byte("\n")) {
		t.Errorf("%d bytes (stats %+v), want exactly %d ending in a newline", len(log), st, o.Size)
	}
	o.Until = o.Start.Add(time.Minute) // a minute is less than 50000 bytes
	_, st = generate(t, o)
	if st.Bytes >= o.Size || st.Statements == 0 {
		t.Errorf("a minute of the log: stats %+v, want what the minute holds", st)
	}
}

func TestGapFor(t *testing.T) {
	start := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	for _, f := range []Format{Plain, JSON, Klog} {
		for _, size := range []int64{100 << 10, 2 << 20} {
			o := Options{Seed: 17, ErrorRatio: 0.01, Format: f}
			o.Gap = GapFor(o, size, 24*time.Hour)
			o.Start, o.Until = start, start.Add(24*time.Hour)
			_, st := generate(t, o)
			if float64(st.Bytes) < 0.9*float64(size) || float64(st.Bytes) > 1.1*float64(size) {
				t.Errorf("%s: a day with GapFor(%d bytes a day) is %d bytes", f, size, st.Bytes)
			}
		}
	}
}

// BenchmarkReader: what the stub kubelet spends generating a log, per byte
// written: a sized log as before, a day of a log on a clock, and its last
// hour (which generates the part of the hour before it skips).
func BenchmarkReader(b *testing.B) {
	start := time.Date(2026, 12, 5, 10, 30, 0, 0, time.UTC)
	clock := Options{Seed: 1, ErrorRatio: 0.01, Start: start.Add(-time.Hour), Until: start.Add(24 * time.Hour)}
	clock.Gap = GapFor(clock, 4<<20, 24*time.Hour)
	day := clock
	day.Since = start
	hour := clock
	hour.Since = clock.Until.Add(-time.Hour)
	for _, bc := range []struct {
		name string
		o    Options
	}{
		{"sized", Options{Size: 4 << 20, Seed: 1, ErrorRatio: 0.01}},
		{"clock-day", day},
		{"clock-last-hour", hour},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var n int64
			for b.Loop() {
				w, err := NewReader(bc.o).WriteTo(io.Discard)
				if err != nil {
					b.Fatal(err)
				}
				n = w
			}
			b.SetBytes(n)
		})
	}
}
