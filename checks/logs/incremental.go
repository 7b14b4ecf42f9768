package logs

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/redact"
)

// Incremental reading.
//
// With a StateStore (WithState), the check remembers per container up to
// when its log was read and the error events found, placed in one-minute
// buckets. The next run within the window reads only what was logged
// since (sinceTime), drops the buckets that have left the window and adds
// the new events: its report is the one a full read would give. Every
// read then asks for timestamps (timestamps=true), which the check strips
// before the scanner sees the lines: they give each event its minute and
// each log its position, the time of the last line read.
//
// Precision: counts are kept per minute, so the minute in which the
// window starts is counted whole: events logged in it before the window's
// start are counted by a repeat run and not by a full one. A signature's
// sample is the first event of each hour that is kept; when the hour in
// which the window starts has lost its first event, a repeat run shows
// the first event of the next hour instead. Counts are exact for at most
// DefaultMaxSignatures signatures per container, as for a full read.
//
// A log is read in full again, and the summary says why, when
//   - it was not read by the last run (new);
//   - the container restarted (its restart count or container id changed);
//   - the last run is older than the window (gap);
//   - the last read reached limitBytes: its counts are of the window's
//     start only (limit);
//   - the configuration that shapes the counts (window, limitBytes,
//     containers, exclude) changed (config);
//   - the log was rotated or truncated (rotated). sinceTime is sent in
//     whole seconds and is inclusive, so a log that still holds the last
//     line read serves it again, with its exact time; a read that does not
//     start with it finds a log that lost its past: it is read in full.
//
// The previous instance of a restarted container does not change: while
// its container id is the same, its events are kept without a read.

// StateStore keeps the logs check's incremental state of an environment
// between runs: an opaque document the check writes and reads back.
type StateStore interface {
	// LoadLogState returns the state saved for env, nil if none.
	LoadLogState(ctx context.Context, env string) ([]byte, error)
	// SaveLogState replaces env's state.
	SaveLogState(ctx context.Context, env string, state []byte) error
}

// WithState makes the check read incrementally, keeping its state for
// environment env in st. The signatures and samples it keeps are redacted
// with red first (give it the redactor of the reports, so that what a
// repeat run reports is what a full read's report becomes once redacted);
// a signature keeps its identity, a hash of it as logged.
func WithState(st StateStore, env string, red redact.Redactor) Option {
	return func(c *Check) { c.state, c.env, c.redactor = st, env, red }
}

// stateVersion is the version of the state's encoding (state_codec.go):
// another makes every log read in full.
const stateVersion = 2

// bucketSeconds is the width of the time buckets of the counts.
const bucketSeconds = 60

// sampleSeconds is how often a signature keeps a new sample.
const sampleSeconds = 3600

// runState is the saved state of one environment (encoded by
// encodeState).
type runState struct {
	Version int
	// Config is the hash of the configuration the counts depend on.
	Config     string
	Containers map[string]*containerState
}

// containerState is what the last run found in one log.
type containerState struct {
	// ID and Restarts identify the container instance read.
	ID       string
	Restarts int32
	// Pos is the time of the last line read; zero when the log was empty.
	Pos time.Time
	// ReadAt is when the run that read it started.
	ReadAt time.Time
	// Cut is set when the read reached limitBytes.
	Cut bool
	// Signatures are the events by signature.
	Signatures []sigState
}

// sigState is the events of one signature in one log.
type sigState struct {
	// ID identifies the signature (signatureID); "" for the events of
	// signatures beyond DefaultMaxSignatures.
	ID        string
	Signature string // redacted
	Buckets   []bucket
	Samples   []sample
}

// bucket counts the events of a minute (Unix time / 60).
type bucket struct {
	Minute int64
	Count  int64
	Fatal  bool
}

// sample is the first event of a signature in an hour, redacted.
type sample struct {
	Minute int64
	Text   string
}

// configHash is the hash of what the counts depend on.
func (c *Check) configHash() string {
	b, _ := json.Marshal(struct {
		V          int
		Window     time.Duration
		LimitBytes int64
		Containers []string
		Exclude    []string
		Max        int
	}{stateVersion, time.Duration(c.cfg.Window), int64(c.cfg.LimitBytes), c.cfg.Containers, c.cfg.Exclude, DefaultMaxSignatures})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// Reasons for a full read.
const (
	fullNew      = "new"
	fullRestart  = "restarted"
	fullGap      = "after a gap longer than the window"
	fullLimit    = "cut at limitBytes last time"
	fullConfig   = "configuration changed"
	fullRotated  = "rotated"
	fullNoState  = "state unreadable"
	fullVersion  = "state of another opsbot version"
	numFullKinds = 8
)

// fullOrder is the order of the reasons in the summary.
var fullOrder = [numFullKinds]string{fullNew, fullRestart, fullRotated, fullGap, fullLimit, fullConfig, fullVersion, fullNoState}

// loadState reads the environment's state; reason is set when none can
// be used.
func (c *Check) loadState(ctx context.Context) (st *runState, reason string) {
	data, err := c.state.LoadLogState(ctx, c.env)
	if err != nil {
		c.logger.Warn("could not load the logs state", zap.Error(err))
		return nil, fullNoState
	}
	if data == nil {
		return nil, fullNew
	}
	st, err = decodeState(data)
	switch {
	case err != nil:
		c.logger.Warn("could not parse the logs state", zap.Error(err))
		return nil, fullNoState
	case st.Version != stateVersion:
		return nil, fullVersion
	case st.Config != c.configHash():
		return nil, fullConfig
	}
	return st, ""
}

// stateKey names a log in the state.
func stateKey(t target) string {
	k := t.namespace + "/" + t.pod + "/" + t.container
	if t.previous {
		k += "/previous"
	}
	return k
}

// plan says how to read t: from prev (reason "") or in full (reason set).
func (c *Check) plan(t target, st *runState, stateReason string, windowStart time.Time) (prev *containerState, reason string) {
	if st == nil {
		return nil, stateReason
	}
	prev = st.Containers[stateKey(t)]
	switch {
	case prev == nil:
		return nil, fullNew
	case prev.ID != t.id || prev.Restarts != t.restarts:
		return nil, fullRestart
	case prev.ReadAt.Before(windowStart):
		return nil, fullGap
	case prev.Cut:
		return nil, fullLimit
	}
	return prev, ""
}

// tsReader strips the kubelet's timestamp from each line of a log read
// with timestamps=true, noting when each minute starts in the stripped
// stream and the time of the last line. Lines at or before after (if not
// zero) at the start of the stream are dropped: they were read before.
type tsReader struct {
	br      *bufio.Reader
	after   time.Time
	sawPos  bool // a line stamped exactly after was served
	started bool // a line after after has been passed on
	midLine bool // the next chunk continues a long line
	skip    bool // ... which is dropped
	pending []byte
	err     error
	raw     int64  // bytes read from the log
	out     int64  // bytes passed on
	lastTS  []byte // the time of the last line passed on, as served
	marks   []mark
}

// last is the time of the last line passed on (zero if none).
func (r *tsReader) last() time.Time {
	if len(r.lastTS) == 0 {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, string(r.lastTS))
	return t
}

// sameMinute reports whether two RFC 3339 times are of the same minute
// by their text: the same date, hour and minute in the same zone.
func sameMinute(a, b []byte) bool {
	return len(a) >= 19 && len(b) >= 19 && string(a[:16]) == string(b[:16]) && string(zone(a)) == string(zone(b))
}

// zone is the zone of an RFC 3339 time ("Z", "+02:00").
func zone(ts []byte) []byte {
	for i := len(ts) - 1; i >= 19; i-- {
		switch ts[i] {
		case 'Z', 'z', '+', '-':
			return ts[i:]
		}
	}
	return nil
}

// mark says that the lines from offset off of the stripped stream are of
// minute.
type mark struct {
	off    int64
	minute int64
}

func newTSReader(r io.Reader, after time.Time) *tsReader {
	return &tsReader{br: bufio.NewReaderSize(r, 64<<10), after: after}
}

// Read implements io.Reader.
func (r *tsReader) Read(p []byte) (int, error) {
	for len(r.pending) == 0 && r.err == nil {
		chunk, err := r.br.ReadSlice('\n')
		r.raw += int64(len(chunk))
		if len(chunk) > 0 {
			r.pending = r.line(chunk)
		}
		if err != nil && err != bufio.ErrBufferFull {
			r.err = err
		}
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	r.out += int64(n)
	if len(r.pending) == 0 && r.err != nil {
		return n, r.err
	}
	return n, nil
}

// line handles a chunk of a line (all of it, or a part of a long one),
// returning what to pass on.
func (r *tsReader) line(chunk []byte) []byte {
	if r.midLine {
		r.midLine = chunk[len(chunk)-1] != '\n'
		if r.skip {
			return nil
		}
		return chunk
	}
	r.midLine = chunk[len(chunk)-1] != '\n'
	r.skip = false
	n := timestampLen(chunk)
	if n == 0 || n >= len(chunk) || chunk[n] != ' ' {
		return chunk // not stamped: passed on as it is
	}
	ts := chunk[:n]
	if !r.started && !r.after.IsZero() {
		t, err := time.Parse(time.RFC3339Nano, string(ts))
		if err != nil {
			return chunk
		}
		if !t.After(r.after) {
			r.sawPos = r.sawPos || t.Equal(r.after)
			r.skip = true
			return nil
		}
	}
	// Most lines are of the minute of the line before: compare the text
	// of their times, parse only a new minute's.
	if len(r.marks) == 0 || !sameMinute(ts, r.lastTS) {
		t, err := time.Parse(time.RFC3339Nano, string(ts))
		if err != nil {
			return chunk
		}
		if m := minuteOf(t); len(r.marks) == 0 || r.marks[len(r.marks)-1].minute != m {
			r.marks = append(r.marks, mark{r.out, m})
		}
	}
	r.started = true
	r.lastTS = append(r.lastTS[:0], ts...)
	return chunk[n+1:]
}

func minuteOf(t time.Time) int64 {
	s := t.Unix()
	if s < 0 && s%bucketSeconds != 0 {
		return s/bucketSeconds - 1
	}
	return s / bucketSeconds
}

// history is the events of one log by signature, as they are read.
type history struct {
	sigs map[string]*sigState // by ID
	red  redact.Redactor
	// now is the minute of an event before any stamped line (the kubelet
	// stamps every line; a server that does not is taken to serve lines
	// of the run's minute).
	now  int64
	tr   *tsReader // whose marks place the events
	next int       // tr.marks[next-1] is the mark of the last event placed
}

func newHistory(prev *containerState, fromMinute, now int64, tr *tsReader, red redact.Redactor) *history {
	h := &history{sigs: make(map[string]*sigState), tr: tr, now: now, red: red}
	if prev == nil {
		return h
	}
	for _, s := range prev.Signatures {
		i, _ := slices.BinarySearchFunc(s.Buckets, fromMinute, func(b bucket, m int64) int { return cmp.Compare(b.Minute, m) })
		if i == len(s.Buckets) {
			continue
		}
		j, _ := slices.BinarySearchFunc(s.Samples, fromMinute, func(x sample, m int64) int { return cmp.Compare(x.Minute, m) })
		h.sigs[s.ID] = &sigState{ID: s.ID, Signature: s.Signature,
			Buckets: slices.Clone(s.Buckets[i:]), Samples: slices.Clone(s.Samples[j:])}
	}
	return h
}

// add places an event that starts at offset off of the stripped stream.
func (h *history) add(sig []byte, off int64, fatal bool, text []byte) {
	marks := h.tr.marks
	for h.next < len(marks) && marks[h.next].off <= off {
		h.next++
	}
	m := h.now
	if h.next > 0 {
		m = marks[h.next-1].minute
	}
	id := signatureID(string(sig))
	s := h.sigs[id]
	if s == nil && len(h.sigs) >= DefaultMaxSignatures {
		id = ""
		s = h.sigs[id]
	}
	if s == nil {
		s = &sigState{ID: id}
		if id != "" {
			s.Signature = h.red.Text(string(sig))
		}
		h.sigs[id] = s
	}
	// Buckets and samples stay in increasing minutes (newHistory searches
	// them, and the state's encoding codes them by their differences),
	// also when a log's timestamps went back (a clock step on the node):
	// such an event joins its minute, and is its hour's sample only if the
	// hour has none yet.
	i, found := slices.BinarySearchFunc(s.Buckets, m, func(b bucket, m int64) int { return cmp.Compare(b.Minute, m) })
	if found {
		s.Buckets[i].Count++
		s.Buckets[i].Fatal = s.Buckets[i].Fatal || fatal
	} else {
		s.Buckets = slices.Insert(s.Buckets, i, bucket{Minute: m, Count: 1, Fatal: fatal})
	}
	hour := m * bucketSeconds / sampleSeconds
	j, found := slices.BinarySearchFunc(s.Samples, hour, func(x sample, hour int64) int {
		return cmp.Compare(x.Minute*bucketSeconds/sampleSeconds, hour)
	})
	if !found {
		s.Samples = slices.Insert(s.Samples, j, sample{Minute: m, Text: h.red.Text(string(text))})
	}
}

// signatures returns the history's signatures, in the order of their first
// event (then by signature).
func (h *history) signatures() []sigState {
	out := make([]sigState, 0, len(h.sigs))
	for _, s := range h.sigs {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b sigState) int {
		return cmp.Or(cmp.Compare(a.Buckets[0].Minute, b.Buckets[0].Minute), strings.Compare(a.ID, b.ID))
	})
	return out
}

// aggregate is the history's events as a scanner would have counted them.
func aggregate(sigs []sigState) *Aggregate {
	a := NewAggregate(DefaultMaxSignatures)
	for _, s := range sigs {
		var n int64
		fatal := false
		for _, b := range s.Buckets {
			n += b.Count
			fatal = fatal || b.Fatal
		}
		text := ""
		if len(s.Samples) > 0 {
			text = s.Samples[0].Text
		}
		if s.ID == "" {
			a.events += n
			a.addOther(n, fatal, text, "")
			continue
		}
		a.add([]byte(s.Signature), n, fatal, []byte(text))
		if g := a.groups[s.Signature]; g != nil && g.ID == "" {
			g.ID = s.ID
		}
	}
	return a
}

// fullSummary says which logs were read in full, and why.
func fullSummary(incremental int, full map[string]int) string {
	total := 0
	var parts []string
	for _, r := range fullOrder {
		if n := full[r]; n > 0 {
			total += n
			parts = append(parts, fmt.Sprintf("%d %s", n, r))
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s read since the last run", plural(incremental, "log"))
	if total > 0 {
		fmt.Fprintf(&b, ", %s in full (%s)", plural(total, "log"), strings.Join(parts, ", "))
	}
	return b.String()
}
