package logs

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The state's encoding.
//
// At 2,000 containers a state is thousands of signatures, buckets and
// samples, and it is read and written on every run (a file for the
// terminal, a row of the store for the bot). Version 1 was runState as
// encoding/json writes it: 4.8 MB for the benchmark's 1,940 containers,
// most of it the same signature text again in every container and a JSON
// object per one-minute bucket. Version 2 writes each signature once, in a
// table the containers point into, and a container's buckets and samples
// as arrays of numbers and strings: 3.5 MB instead of 4.8 for a state like
// the benchmark's (BenchmarkStateCodec; most of what is left is the sample
// texts, which is also where decoding spends its time, so decoding and
// encoding take only a sixth less).
//
//	{"version": 2, "config": "…",
//	 "signatures": [["sig:908fab40df58", "java.lang.OutOfMemoryError …"], …],
//	 "containers": {"shop/api-1/app": {
//	     "id": "containerd://…", "restarts": 1,
//	     "pos": 1765012516016254000, "readAt": 1765012651361527460,
//	     "events": [{"s": 0, "b": [29941471, 2, 3, -1], "sm": [29941471], "st": ["…"]}]}}}
//
// pos and readAt are Unix nanoseconds (pos 0: the log was empty). "s" is
// the signature's index in the table. "b" is the buckets, pairs of a
// minute and a count; the first minute is a Unix minute, each next one
// the minutes since the previous, and a negative count is a minute with a
// fatal event. "sm" is the samples' minutes, coded alike, and "st" their
// texts.

// stateDoc is runState as encoded.
type stateDoc struct {
	Version    int                     `json:"version"`
	Config     string                  `json:"config"`
	Signatures [][2]string             `json:"signatures"`
	Containers map[string]containerDoc `json:"containers"`
}

type containerDoc struct {
	ID       string      `json:"id,omitempty"`
	Restarts int32       `json:"restarts,omitempty"`
	Pos      int64       `json:"pos,omitempty"`
	ReadAt   int64       `json:"readAt"`
	Cut      bool        `json:"cut,omitempty"`
	Events   []eventsDoc `json:"events,omitempty"`
}

type eventsDoc struct {
	Sig     int      `json:"s"`
	Buckets []int64  `json:"b"`
	Minutes []int64  `json:"sm,omitempty"`
	Texts   []string `json:"st,omitempty"`
}

// encodeState encodes st.
func encodeState(st *runState) ([]byte, error) {
	doc := stateDoc{Version: st.Version, Config: st.Config, Signatures: [][2]string{},
		Containers: make(map[string]containerDoc, len(st.Containers))}
	index := make(map[[2]string]int)
	for key, c := range st.Containers {
		cd := containerDoc{ID: c.ID, Restarts: c.Restarts, ReadAt: c.ReadAt.UnixNano(), Cut: c.Cut}
		if !c.Pos.IsZero() {
			cd.Pos = c.Pos.UnixNano()
		}
		if len(c.Signatures) > 0 {
			cd.Events = make([]eventsDoc, 0, len(c.Signatures))
		}
		for _, s := range c.Signatures {
			sig := [2]string{s.ID, s.Signature}
			n, ok := index[sig]
			if !ok {
				n = len(doc.Signatures)
				index[sig] = n
				doc.Signatures = append(doc.Signatures, sig)
			}
			e := eventsDoc{Sig: n, Buckets: make([]int64, 0, 2*len(s.Buckets))}
			var last int64
			for j, b := range s.Buckets {
				m, count := b.Minute, b.Count
				if j > 0 {
					m -= last
				}
				if b.Fatal {
					count = -count
				}
				e.Buckets = append(e.Buckets, m, count)
				last = b.Minute
			}
			if len(s.Samples) > 0 {
				e.Minutes, e.Texts = make([]int64, len(s.Samples)), make([]string, len(s.Samples))
				for j, x := range s.Samples {
					e.Minutes[j], e.Texts[j] = x.Minute, x.Text
					if j > 0 {
						e.Minutes[j] -= s.Samples[j-1].Minute
					}
				}
			}
			cd.Events = append(cd.Events, e)
		}
		doc.Containers[key] = cd
	}
	return json.Marshal(doc)
}

// decodeState decodes a state of any version; what it cannot read it
// rejects whole, so that a damaged state makes a full read and never a
// wrong count. A state of another version has only its version set:
// loadState then reads every log in full.
func decodeState(data []byte) (*runState, error) {
	var doc stateDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		var version struct {
			Version int `json:"version"`
		}
		if json.Unmarshal(data, &version) == nil && version.Version != stateVersion {
			// Another version's layout (version 1's buckets are objects).
			return &runState{Version: version.Version}, nil
		}
		return nil, err
	}
	st := &runState{Version: doc.Version, Config: doc.Config}
	if doc.Version != stateVersion {
		return st, nil
	}
	st.Containers = make(map[string]*containerState, len(doc.Containers))
	for key, cd := range doc.Containers {
		c := &containerState{ID: cd.ID, Restarts: cd.Restarts, ReadAt: time.Unix(0, cd.ReadAt).UTC(), Cut: cd.Cut}
		if cd.Pos != 0 {
			c.Pos = time.Unix(0, cd.Pos).UTC()
		}
		if len(cd.Events) > 0 {
			c.Signatures = make([]sigState, len(cd.Events))
		}
		for i, e := range cd.Events {
			s, err := decodeEvents(e, doc.Signatures)
			if err != nil {
				return nil, fmt.Errorf("not a logs state: %s: %w", key, err)
			}
			c.Signatures[i] = s
		}
		st.Containers[key] = c
	}
	return st, nil
}

// decodeEvents decodes one signature's events of a container.
func decodeEvents(e eventsDoc, sigs [][2]string) (sigState, error) {
	if e.Sig < 0 || e.Sig >= len(sigs) {
		return sigState{}, fmt.Errorf("signature %d of %d", e.Sig, len(sigs))
	}
	if len(e.Buckets) == 0 || len(e.Buckets)%2 != 0 {
		return sigState{}, fmt.Errorf("%d bucket numbers: not pairs", len(e.Buckets))
	}
	if len(e.Minutes) != len(e.Texts) {
		return sigState{}, fmt.Errorf("%d sample minutes for %d texts", len(e.Minutes), len(e.Texts))
	}
	s := sigState{ID: sigs[e.Sig][0], Signature: sigs[e.Sig][1], Buckets: make([]bucket, len(e.Buckets)/2)}
	var m int64
	for i := range s.Buckets {
		step, count := e.Buckets[2*i], e.Buckets[2*i+1]
		if i > 0 && step <= 0 {
			return sigState{}, errors.New("buckets out of order")
		}
		m += step
		b := bucket{Minute: m, Count: count}
		if count < 0 {
			b.Count, b.Fatal = -count, true
		}
		if b.Count == 0 {
			return sigState{}, errors.New("an empty bucket")
		}
		s.Buckets[i] = b
	}
	if len(e.Minutes) > 0 {
		s.Samples = make([]sample, len(e.Minutes))
		m = 0
		for i, step := range e.Minutes {
			if i > 0 && step <= 0 {
				return sigState{}, errors.New("samples out of order")
			}
			m += step
			s.Samples[i] = sample{Minute: m, Text: e.Texts[i]}
		}
	}
	return s, nil
}
