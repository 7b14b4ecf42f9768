package logs

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/opsbot/opsbot/redact"
)

// TestTSReader: the kubelet's timestamps are stripped from every line, a
// long line's continuation is passed on (or dropped) whole, the lines at
// or before the position are dropped and the position's own line noted,
// and each minute's start is marked in the stripped stream.
func TestTSReader(t *testing.T) {
	long := strings.Repeat("x", 100<<10)
	in := "2026-12-01T09:00:59.5Z old line\n" +
		"2026-12-01T09:01:00.25Z the last line read\n" +
		"2026-12-01T09:01:00.75Z ERROR first new\n" +
		"2026-12-01T09:01:30+00:00 " + long + "\n" +
		"2026-12-01T10:01:30.000000001+01:00 ERROR same minute, other zone\n" +
		"2026-12-01T09:02:00Z ERROR next minute\n" +
		"no timestamp\n"
	after := time.Date(2026, 12, 1, 9, 1, 0, 250_000_000, time.UTC)
	r := newTSReader(iotest.OneByteReader(strings.NewReader(in)), after)
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	want := "ERROR first new\n" + long + "\nERROR same minute, other zone\nERROR next minute\nno timestamp\n"
	if string(out) != want {
		t.Errorf("stripped stream (%d bytes) differs from want (%d bytes): %.120q", len(out), len(want), out)
	}
	if !r.sawPos {
		t.Error("the last line read was not noticed")
	}
	if r.raw != int64(len(in)) {
		t.Errorf("raw = %d, want %d", r.raw, len(in))
	}
	m := func(h, min int) int64 { return time.Date(2026, 12, 1, h, min, 0, 0, time.UTC).Unix() / 60 }
	off := int64(len("ERROR first new\n"))
	wantMarks := []mark{{0, m(9, 1)}, {off + int64(len(long)) + 1 + int64(len("ERROR same minute, other zone\n")), m(9, 2)}}
	if len(r.marks) != len(wantMarks) || r.marks[0] != wantMarks[0] || r.marks[1] != wantMarks[1] {
		t.Errorf("marks = %v, want %v", r.marks, wantMarks)
	}
	if got := r.last(); !got.Equal(time.Date(2026, 12, 1, 9, 2, 0, 0, time.UTC)) {
		t.Errorf("last = %v", got)
	}

	// A log rotated since: the last line read is not served again.
	r = newTSReader(strings.NewReader("2026-12-01T09:05:00Z ERROR after rotation\n"), after)
	if out, _ := io.ReadAll(r); !bytes.Equal(out, []byte("ERROR after rotation\n")) || r.sawPos {
		t.Errorf("rotated: %q, sawPos %v", out, r.sawPos)
	}
}

// TestHistoryWindow: a history keeps the buckets of the window and the
// samples of the hours it keeps, and its aggregate counts them as a scan
// of the window would.
func TestHistoryWindow(t *testing.T) {
	prev := &containerState{Signatures: []sigState{{
		ID: "sig:1", Signature: "ERROR boom",
		Buckets: []bucket{{Minute: 100, Count: 2, Fatal: true}, {Minute: 160, Count: 3}, {Minute: 170, Count: 1}},
		Samples: []sample{{Minute: 100, Text: "ERROR boom 1"}, {Minute: 160, Text: "ERROR boom 7"}},
	}, {
		ID: "sig:2", Signature: "ERROR gone",
		Buckets: []bucket{{Minute: 90, Count: 5}},
		Samples: []sample{{Minute: 90, Text: "ERROR gone 1"}},
	}}}
	h := newHistory(prev, 160, 0, nil, redact.Redactor{})
	sigs := h.signatures()
	if len(sigs) != 1 || sigs[0].ID != "sig:1" || len(sigs[0].Buckets) != 2 {
		t.Fatalf("kept %+v, want sig:1's last two buckets", sigs)
	}
	g := aggregate(sigs).Top(0)
	if len(g) != 1 || g[0].Count != 4 || g[0].Fatal || g[0].Sample != "ERROR boom 7" || g[0].ID != "sig:1" {
		t.Errorf("aggregate = %+v, want 4 events, not fatal (the fatal one left the window), the sample of minute 160", g)
	}
}

// TestHistoryTimeGoesBack: an event whose line's time went back (a clock
// step on the node) joins its minute, in order, and is its hour's sample
// only if the hour had none; the state of such a log encodes and decodes
// (the encoding codes minutes by their differences).
func TestHistoryTimeGoesBack(t *testing.T) {
	tr := &tsReader{marks: []mark{{off: 0, minute: 100}, {off: 10, minute: 30}, {off: 20, minute: 100}, {off: 30, minute: 20}}}
	h := newHistory(nil, 0, 0, tr, redact.Redactor{})
	for i, text := range []string{"ERROR x at 100", "ERROR x at 30", "ERROR x at 100 again", "ERROR x at 20"} {
		h.add([]byte("ERROR x"), int64(10*i), i == 1, []byte(text))
	}
	sigs := h.signatures()
	want := []sigState{{ID: signatureID("ERROR x"), Signature: "ERROR x",
		Buckets: []bucket{{Minute: 20, Count: 1}, {Minute: 30, Count: 1, Fatal: true}, {Minute: 100, Count: 2}},
		// Minutes 20 and 30 are of hour 0, whose first sample in the log
		// is minute 30's; minute 100 is of hour 1.
		Samples: []sample{{Minute: 30, Text: "ERROR x at 30"}, {Minute: 100, Text: "ERROR x at 100"}}}}
	if !reflect.DeepEqual(sigs, want) {
		t.Fatalf("signatures = %+v\nwant %+v", sigs, want)
	}
	st := &runState{Version: stateVersion, Containers: map[string]*containerState{"shop/a/app": {ReadAt: time.Unix(0, 1).UTC(), Signatures: sigs}}}
	data, err := encodeState(st)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := decodeState(data); err != nil || !reflect.DeepEqual(back, st) {
		t.Errorf("decodeState = %+v, %v\nwant %+v", back, err, st)
	}
}
