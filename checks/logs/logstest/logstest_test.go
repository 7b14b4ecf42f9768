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
	if r.Stats().Bytes != o.Size {
		t.Errorf("stats %+v", r.Stats())
	}
}
