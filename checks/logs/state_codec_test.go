package logs

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestStateCodecRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 6, 12, 37, 31, 361527460, time.UTC)
	m := minuteOf(at)
	st := &runState{Version: stateVersion, Config: "c0ffee", Containers: map[string]*containerState{
		"shop/api-1/app": {ID: "containerd://aaa", Restarts: 2, Pos: at.Add(-time.Second), ReadAt: at, Signatures: []sigState{
			{ID: "sig:1", Signature: "ERROR Order N rejected", Buckets: []bucket{{Minute: m - 90, Count: 3}, {Minute: m - 2, Count: 1, Fatal: true}},
				Samples: []sample{{Minute: m - 90, Text: "2026-12-06 ERROR Order 12 rejected\n\tat x"}, {Minute: m - 2, Text: "\"quoted\" <&>"}}},
			{ID: "", Buckets: []bucket{{Minute: m, Count: 7}}, Samples: []sample{{Minute: m, Text: "other"}}},
		}},
		// The same signature in another container: one entry in the table.
		"shop/api-2/app": {ID: "containerd://bbb", ReadAt: at, Cut: true, Pos: at, Signatures: []sigState{
			{ID: "sig:1", Signature: "ERROR Order N rejected", Buckets: []bucket{{Minute: m, Count: 1}}},
		}},
		// An empty log: no position, no events.
		"shop/api-3/app/previous": {ID: "containerd://ccc", ReadAt: at},
	}}
	data, err := encodeState(st)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "ERROR Order N rejected"); n != 1 {
		t.Errorf("the signature is written %d times, want once:\n%s", n, data)
	}
	got, err := decodeState(data)
	if err != nil {
		t.Fatalf("decodeState: %v\n%s", err, data)
	}
	if !reflect.DeepEqual(got, st) {
		t.Errorf("round trip:\n got %+v\nwant %+v\nencoded %s", got, st, data)
	}
}

func TestDecodeStateRejectsDamage(t *testing.T) {
	for name, doc := range map[string]string{
		"not JSON":              `{"version": 2, "containers": {`,
		"signature index":       `{"version": 2, "signatures": [["sig:1", "x"]], "containers": {"a": {"readAt": 1, "events": [{"s": 1, "b": [5, 1]}]}}}`,
		"negative index":        `{"version": 2, "signatures": [["sig:1", "x"]], "containers": {"a": {"readAt": 1, "events": [{"s": -1, "b": [5, 1]}]}}}`,
		"no buckets":            `{"version": 2, "signatures": [["sig:1", "x"]], "containers": {"a": {"readAt": 1, "events": [{"s": 0, "b": []}]}}}`,
		"odd buckets":           `{"version": 2, "signatures": [["sig:1", "x"]], "containers": {"a": {"readAt": 1, "events": [{"s": 0, "b": [5, 1, 2]}]}}}`,
		"empty bucket":          `{"version": 2, "signatures": [["sig:1", "x"]], "containers": {"a": {"readAt": 1, "events": [{"s": 0, "b": [5, 0]}]}}}`,
		"buckets out of order":  `{"version": 2, "signatures": [["sig:1", "x"]], "containers": {"a": {"readAt": 1, "events": [{"s": 0, "b": [5, 1, 0, 1]}]}}}`,
		"samples out of order":  `{"version": 2, "signatures": [["sig:1", "x"]], "containers": {"a": {"readAt": 1, "events": [{"s": 0, "b": [5, 1], "sm": [5, -1], "st": ["a", "b"]}]}}}`,
		"samples without texts": `{"version": 2, "signatures": [["sig:1", "x"]], "containers": {"a": {"readAt": 1, "events": [{"s": 0, "b": [5, 1], "sm": [5]}]}}}`,
		"a string for a number": `{"version": 2, "containers": {"a": {"readAt": "2026-12-06T12:00:00Z"}}}`,
	} {
		if st, err := decodeState([]byte(doc)); err == nil {
			t.Errorf("%s: decodeState = %+v, want an error", name, st)
		}
	}
}

// A state written by an earlier opsbot decodes to its version alone, which
// makes loadState read every log in full ("state of another opsbot
// version") rather than fail.
func TestDecodeStateOtherVersion(t *testing.T) {
	v1 := `{"version":1,"config":"abc","containers":{"shop/a/app":{"id":"containerd://a","restarts":0,` +
		`"pos":"2026-12-06T12:35:16.016254Z","readAt":"2026-12-06T12:37:31.36152746Z","signatures":[{"id":"sig:1",` +
		`"sig":"ERROR x","buckets":[{"m":29941471,"n":1}],"samples":[{"m":29941471,"text":"ERROR x 1"}]}]}}}`
	for _, doc := range []string{v1, `{"version": 3, "containers": {}}`} {
		st, err := decodeState([]byte(doc))
		if err != nil {
			t.Fatalf("decodeState(%.40s…): %v", doc, err)
		}
		if st.Version == stateVersion || st.Containers != nil {
			t.Errorf("decodeState(%.40s…) = %+v, want the other version only", doc, st)
		}
	}
}

// BenchmarkStateCodec encodes and decodes a state the size of the
// checklist benchmark's at 2,000 pods (1,940 containers, a few error
// signatures each, a sample an hour), as version 1 did (runState through
// encoding/json, the baseline) and as encodeState and decodeState do.
func BenchmarkStateCodec(b *testing.B) {
	st := benchState(1940)
	v1 := toV1(st)
	v1data, err := json.Marshal(v1)
	if err != nil {
		b.Fatal(err)
	}
	v2data, err := encodeState(st)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("v1/encode", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(v1); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(v1data)), "state-bytes")
	})
	b.Run("v2/encode", func(b *testing.B) {
		for b.Loop() {
			if _, err := encodeState(st); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(v2data)), "state-bytes")
	})
	b.Run("v1/decode", func(b *testing.B) {
		b.SetBytes(int64(len(v1data)))
		for b.Loop() {
			var out stateV1
			if err := json.Unmarshal(v1data, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("v2/decode", func(b *testing.B) {
		b.SetBytes(int64(len(v2data)))
		for b.Loop() {
			if _, err := decodeState(v2data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchState is a state of n containers like the checklist benchmark's:
// 0 to 6 of 7 signatures each (stack traces among them), their events in
// one to three minutes of the last day, the first of each hour sampled.
func benchState(n int) *runState {
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Date(2026, 12, 6, 12, 37, 31, 361527460, time.UTC)
	sigs := make([]string, 7)
	for i := range sigs {
		sigs[i] = fmt.Sprintf("java.lang.IllegalStateException: order N failed in step %d at com.example.shop.order.OrderService.place(OrderService.java:N)", i)
	}
	st := &runState{Version: stateVersion, Config: "c0ffee", Containers: make(map[string]*containerState, n)}
	for i := range n {
		c := &containerState{ID: fmt.Sprintf("containerd://%064x", rng.Uint64()), Pos: now.Add(-time.Duration(rng.IntN(60)) * time.Second), ReadAt: now}
		for _, k := range rng.Perm(len(sigs))[:rng.IntN(7)] {
			s := sigState{ID: fmt.Sprintf("sig:%012x", k), Signature: sigs[k]}
			m := minuteOf(now) - 24*60 + int64(rng.IntN(12*60))
			for range 1 + rng.IntN(3) {
				s.Buckets = append(s.Buckets, bucket{Minute: m, Count: 1 + int64(rng.IntN(3)), Fatal: rng.IntN(50) == 0})
				if len(s.Samples) == 0 || s.Samples[len(s.Samples)-1].Minute/60 != m/60 {
					s.Samples = append(s.Samples, sample{Minute: m, Text: fmt.Sprintf(
						"2026-12-06T%02d:%02d:17.194Z ERROR 1 --- [shop-api] [http-nio-8080-exec-%d] c.e.shop.order.OrderService : order %d failed\n"+
							"java.lang.IllegalStateException: order %d failed in step %d\n\tat com.example.shop.order.OrderService.place(OrderService.java:%d)",
						m/60%24, m%60, rng.IntN(200), rng.IntN(1e6), rng.IntN(1e6), k, rng.IntN(400))})
				}
				m += 1 + int64(rng.IntN(300))
			}
			c.Signatures = append(c.Signatures, s)
		}
		st.Containers[fmt.Sprintf("shop/svc-%03d-%08x/app", i/20, rng.Uint32())] = c
	}
	return st
}

// stateV1 is version 1's encoding: runState with these JSON names.
type stateV1 struct {
	Version    int                     `json:"version"`
	Config     string                  `json:"config"`
	Containers map[string]*containerV1 `json:"containers"`
}

type containerV1 struct {
	ID         string    `json:"id"`
	Restarts   int32     `json:"restarts"`
	Pos        time.Time `json:"pos"`
	ReadAt     time.Time `json:"readAt"`
	Cut        bool      `json:"cut,omitempty"`
	Signatures []sigV1   `json:"signatures"`
}

type sigV1 struct {
	ID        string     `json:"id"`
	Signature string     `json:"sig"`
	Buckets   []bucketV1 `json:"buckets"`
	Samples   []sampleV1 `json:"samples"`
}

type bucketV1 struct {
	Minute int64 `json:"m"`
	Count  int64 `json:"n"`
	Fatal  bool  `json:"f,omitempty"`
}

type sampleV1 struct {
	Minute int64  `json:"m"`
	Text   string `json:"text"`
}

func toV1(st *runState) *stateV1 {
	out := &stateV1{Version: 1, Config: st.Config, Containers: make(map[string]*containerV1, len(st.Containers))}
	for k, c := range st.Containers {
		cv := &containerV1{ID: c.ID, Restarts: c.Restarts, Pos: c.Pos, ReadAt: c.ReadAt, Cut: c.Cut}
		for _, s := range c.Signatures {
			sv := sigV1{ID: s.ID, Signature: s.Signature}
			for _, b := range s.Buckets {
				sv.Buckets = append(sv.Buckets, bucketV1(b))
			}
			for _, x := range s.Samples {
				sv.Samples = append(sv.Samples, sampleV1(x))
			}
			cv.Signatures = append(cv.Signatures, sv)
		}
		out.Containers[k] = cv
	}
	return out
}

// FuzzDecodeState: no input makes decodeState panic, and a state it
// accepts is one encodeState writes back to the same state.
func FuzzDecodeState(f *testing.F) {
	seed, err := encodeState(benchState(3))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"version":1,"config":"abc","containers":{"a":{"pos":"2026-12-06T12:35:16Z","signatures":[]}}}`))
	f.Add([]byte(`{"version":2,"signatures":[["sig:1","x"]],"containers":{"a":{"readAt":1,"events":[{"s":0,"b":[5,-1,2,3],"sm":[5,2],"st":["a","b"]}]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := decodeState(data)
		if err != nil || st.Version != stateVersion {
			return
		}
		again, err := encodeState(st)
		if err != nil {
			t.Fatalf("encodeState of a decoded state: %v", err)
		}
		back, err := decodeState(again)
		if err != nil {
			t.Fatalf("decodeState of its own encoding: %v\n%s", err, again)
		}
		if !reflect.DeepEqual(back, st) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", back, st)
		}
	})
}
