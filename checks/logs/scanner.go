package logs

import (
	"bytes"
	"cmp"
	"errors"
	"io"
	"regexp"
	"slices"
	"unicode/utf8"
)

// Defaults of ScannerConfig.
const (
	DefaultMaxLineBytes   = 64 << 10
	DefaultMaxSignatures  = 1000
	DefaultMaxSampleRunes = 300
)

// ScannerConfig configures a Scanner. The zero value gives the defaults.
type ScannerConfig struct {
	// MaxLineBytes is the longest line looked at: a longer line is looked
	// at through its first MaxLineBytes bytes and the rest is skipped.
	// Default 64 KiB.
	MaxLineBytes int
	// MaxSignatures bounds the distinct signatures an Aggregate tracks;
	// events of further signatures are counted in its Other group.
	// Default 1000.
	MaxSignatures int
	// MaxSampleRunes bounds a group's sample. Default 300.
	MaxSampleRunes int
	// Exclude: an event whose first line, exception or cause line matches
	// one of these is not counted (Stats.Excluded counts it).
	Exclude []*regexp.Regexp
}

func (c *ScannerConfig) setDefaults() {
	if c.MaxLineBytes <= 0 {
		c.MaxLineBytes = DefaultMaxLineBytes
	}
	if c.MaxSignatures <= 0 {
		c.MaxSignatures = DefaultMaxSignatures
	}
	if c.MaxSampleRunes <= 0 {
		c.MaxSampleRunes = DefaultMaxSampleRunes
	}
}

// Stats count what a Scanner has read.
type Stats struct {
	// Streams is the number of Scan calls.
	Streams int64
	// Bytes and Lines read (a last line without a newline counts).
	Bytes, Lines int64
	// Events is the number of error events counted; Excluded the number
	// left out by the Exclude patterns.
	Events, Excluded int64
	// LongLines is the number of lines longer than MaxLineBytes looked at
	// (through their first MaxLineBytes bytes; the rest is skipped).
	LongLines int64
}

// Scanner finds error events in logs and aggregates them by signature. It
// reads with a fixed buffer and keeps only a count, a flag and one sample
// per signature, so its memory does not grow with the size of the logs.
//
// A Scanner is not safe for concurrent use; use one per goroutine and
// merge their Aggregates.
type Scanner struct {
	cfg   ScannerConfig
	agg   *Aggregate
	stats Stats
	buf   []byte
	// hist is the start, in buf, of the line before the unread data, kept
	// to tell whether a stack trace follows an INFO or WARN line; -1 when
	// unknown.
	hist int
	// regionFrom is the start of the lines being looked at.
	regionFrom int

	// State of the stream being read.
	klog bool
	// detectLeft is how many more lines detect looks at.
	detectLeft int
	discard    bool // skipping the rest of a line longer than MaxLineBytes
	pre        prefilter
	ev         event

	// onEvent, if set, is told of each counted event: its signature, the
	// offset in the stream of its first line, whether it is fatal, and its
	// sample (the slices are only valid during the call). The incremental
	// reading uses it to place events in time.
	onEvent func(sig []byte, off int64, fatal bool, sample []byte)
	// scanned is how many bytes the current Scan has read, and end the end
	// of the data in buf: buf[i] is at offset scanned-end+i of the stream.
	scanned int64
	end     int
	// openAt is the start in buf of the line open looks at.
	openAt int

	// Scratch space.
	norm []byte
	jf   jsonFields
	jf2  jsonFields
}

// NewScanner returns a Scanner with an empty Aggregate.
func NewScanner(cfg ScannerConfig) *Scanner {
	cfg.setDefaults()
	size := max(256<<10, 2*cfg.MaxLineBytes)
	return &Scanner{
		cfg: cfg,
		agg: NewAggregate(cfg.MaxSignatures),
		buf: make([]byte, size),
	}
}

// Aggregate returns the scanner's aggregate of error events.
func (s *Scanner) Aggregate() *Aggregate { return s.agg }

// Top returns the n largest groups of the scanner's aggregate.
func (s *Scanner) Top(n int) []Group { return s.agg.Top(n) }

// Stats returns what the scanner has read so far.
func (s *Scanner) Stats() Stats { return s.stats }

// Reset forgets the aggregate and the stats, keeping the buffers.
func (s *Scanner) Reset() {
	s.agg = NewAggregate(s.cfg.MaxSignatures)
	s.stats = Stats{}
}

// Scan reads one log stream to its end and adds its error events to the
// aggregate. Each call is a stream of its own: an event does not continue
// from one call to the next. A read error ends the stream and is returned
// (after counting what was read before it); a line longer than
// MaxLineBytes or a last line without a newline is not an error.
func (s *Scanner) Scan(r io.Reader) error {
	s.stats.Streams++
	s.klog, s.detectLeft, s.discard = false, 8, false
	s.pre.reset()
	s.ev.reset()
	s.hist = -1
	s.scanned, s.end = 0, 0
	maxLine := s.cfg.MaxLineBytes
	buf := s.buf
	start, end := 0, 0
	var rerr error
	empty := 0 // consecutive reads of nothing
	for {
		// Make room: keep the unread data and the line before it.
		if len(buf)-end < len(buf)/4 {
			keep := start
			if s.hist >= 0 && start-s.hist <= 4096 {
				keep = s.hist
			}
			n := copy(buf, buf[keep:end])
			if s.hist >= 0 {
				s.hist -= keep
				if s.hist < 0 {
					s.hist = -1
				}
			}
			start -= keep
			end = n
		}
		n, err := r.Read(buf[end:])
		if n < 0 || n > len(buf)-end {
			return errors.New("logs: reader returned an invalid count")
		}
		if n == 0 && err == nil {
			if empty++; empty >= 100 {
				err = io.ErrNoProgress
			}
		} else {
			empty = 0
		}
		end += n
		s.stats.Bytes += int64(n)
		s.scanned += int64(n)
		s.end = end
		eof := false
		if err != nil {
			eof = true
			if !errors.Is(err, io.EOF) {
				rerr = err
			}
		}
		if s.discard {
			nl := bytes.IndexByte(buf[start:end], '\n')
			if nl < 0 {
				start, s.hist = end, -1
				if eof {
					break
				}
				continue
			}
			start += nl + 1
			s.hist, s.discard = -1, false
		}
		if nl := bytes.LastIndexByte(buf[start:end], '\n'); nl >= 0 {
			s.region(start, start+nl+1)
			// The line before the unread data.
			prev := bytes.LastIndexByte(buf[start:start+nl], '\n')
			s.hist = start + prev + 1
			start += nl + 1
		}
		if eof {
			if start < end {
				// A last line without a newline: cut by limitBytes, or
				// the stream ended mid-line.
				s.stats.Lines++
				s.lastLine(start, end)
			}
			break
		}
		if end-start >= maxLine {
			// A line longer than maxLine: look at its beginning, skip
			// the rest.
			s.stats.Lines++
			s.stats.LongLines++
			s.lastLine(start, start+maxLine)
			start, s.hist, s.discard = end, -1, true
		}
	}
	s.closeEvent()
	return rerr
}

// lastLine looks at the line buf[from:to] (no newline): as a continuation
// of the pending event, or through the prefilter.
func (s *Scanner) lastLine(from, to int) {
	s.regionFrom = from
	line := s.buf[from:to]
	if s.ev.active() {
		if s.continueEvent(line) {
			return
		}
		s.closeEvent()
	}
	if s.candidateLine(line) {
		s.open(from, to)
	}
}

// region looks at the complete lines buf[from:to] (to-1 is a newline).
func (s *Scanner) region(from, to int) {
	buf := s.buf
	s.regionFrom = from
	s.stats.Lines += int64(bytes.Count(buf[from:to], []byte{'\n'}))
	if s.detectLeft > 0 {
		s.detect(from, to)
	}
	i := s.continuation(from, to)
	if s.klog {
		s.regionByLine(i, to)
		return
	}
	s.pre.begin()
	for i < to {
		// The next candidate: the nearest match of any pattern.
		p := s.pre.find(buf, from, i, to)
		if p >= to {
			return
		}
		ls := max(i, lastNewline(buf, i, p)+1)
		le := p + bytes.IndexByte(buf[p:to], '\n')
		i = le + 1
		if s.open(ls, le) {
			i = s.continuation(i, to)
		}
	}
}

// regionByLine looks at every line of a klog stream: their severity is in
// the first byte, and lines without a klog header go through the
// prefilter.
func (s *Scanner) regionByLine(i, to int) {
	buf := s.buf
	for i < to {
		le := i + bytes.IndexByte(buf[i:to], '\n')
		if s.candidateLine(buf[i:le]) && s.open(i, le) {
			i = s.continuation(le+1, to)
			continue
		}
		i = le + 1
	}
}

// candidateLine reports whether a line of a klog stream may start an
// event: a klog E or F line, or a line without a klog header that passes
// the prefilter.
func (s *Scanner) candidateLine(line []byte) bool {
	if sev, _, ok := klogHeader(stripKubeTimestamp(line)); ok {
		return sev == 'E' || sev == 'F'
	}
	return s.pre.line(line)
}

// continuation feeds the lines from buf[i] to the pending event for as
// long as they continue it, and returns where the first line that does
// not starts (to if they all do). The event is closed at that line.
func (s *Scanner) continuation(i, to int) int {
	for s.ev.active() && i < to {
		le := i + bytes.IndexByte(s.buf[i:to], '\n')
		line := s.buf[i:le]
		long := len(line) > s.cfg.MaxLineBytes
		if long {
			line = line[:s.cfg.MaxLineBytes]
		}
		if !s.continueEvent(line) {
			s.closeEvent()
			return i // looked at again, and counted if long, by open
		}
		if long {
			s.stats.LongLines++
		}
		i = le + 1
	}
	return i
}

// detect looks at the first lines of a stream: klog streams are read line
// by line; JSON streams with numeric levels need more patterns.
func (s *Scanner) detect(from, to int) {
	for ; s.detectLeft > 0 && from < to; s.detectLeft-- {
		le := from + bytes.IndexByte(s.buf[from:to], '\n')
		t := stripKubeTimestamp(trimCR(s.buf[from:le]))
		from = le + 1
		if _, _, ok := klogHeader(t); ok {
			s.klog, s.detectLeft = true, 0
			return
		}
		if len(t) > 0 && t[0] == '{' && parseJSONLine(t, &s.jf) {
			if s.jf.levelNum {
				s.pre.addNumericLevels()
			}
			s.detectLeft = 0
			return
		}
	}
}

func trimCR(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		return b[:len(b)-1]
	}
	return b
}

// prevLine returns the line before buf[ls], if it is still in the buffer.
func (s *Scanner) prevLine(ls int) []byte {
	lo := s.hist
	if lo < 0 {
		lo = s.regionFrom
	}
	if ls <= lo {
		return nil
	}
	p := bytes.LastIndexByte(s.buf[lo:ls-1], '\n')
	return s.buf[lo+p+1 : ls-1]
}

// open looks at the candidate line buf[ls:le] and opens an event if it
// starts one. It reports whether it did.
func (s *Scanner) open(ls, le int) bool {
	s.openAt = ls
	line := s.buf[ls:le]
	if len(line) > s.cfg.MaxLineBytes {
		line = line[:s.cfg.MaxLineBytes]
		s.stats.LongLines++
	}
	t := stripKubeTimestamp(trimCR(line))
	if len(t) == 0 {
		return false
	}
	ev := &s.ev
	// A JSON object.
	if t[0] == '{' && quietJSON(t) {
		return false
	}
	if t[0] == '{' && parseJSONLine(t, &s.jf) {
		f := &s.jf
		isErr, fatal := jsonLevel(f.level, f.levelNum)
		if !isErr {
			return false
		}
		s.begin(evLine, line, fatal)
		if fatal {
			ev.head = append(ev.head, "FATAL"...)
		} else {
			ev.head = append(ev.head, "ERROR"...)
		}
		s.norm = unescapeJSON(s.norm[:0], f.msg, 4096)
		if len(s.norm) > 0 {
			ev.head = append(ev.head, ' ')
			ev.head = normalize(ev.head, s.norm)
		}
		n := len(s.norm)
		s.norm = unescapeJSON(s.norm, f.err, 4096)
		if e := s.norm[n:]; len(e) > 0 && !bytes.Contains(s.norm[:n], e) {
			ev.head = append(ev.head, ": "...)
			ev.head = normalize(ev.head, e)
		}
		s.checkExclude(t)
		if f.exception != nil {
			s.norm = unescapeJSON(s.norm[:0], f.exception, 16<<10)
			s.absorbStack(s.norm)
		} else if f.errType != nil {
			s.norm = unescapeJSON(s.norm[:0], f.errType, 256)
			ev.exc = normalize(ev.exc[:0], s.norm)
		}
		return true
	}
	// A klog line: its header says all.
	if sev, msg, ok := klogHeader(t); ok {
		if sev != 'E' && sev != 'F' {
			return false
		}
		s.begin(evLine, line, sev == 'F')
		if sev == 'F' {
			ev.head = append(ev.head, "FATAL "...)
		} else {
			ev.head = append(ev.head, "ERROR "...)
		}
		ev.head = normalize(ev.head, msg)
		s.checkExclude(t)
		return true
	}
	// A Go panic or fatal runtime error, or a panic net/http recovered.
	if bytes.HasPrefix(t, []byte("panic: ")) || bytes.HasPrefix(t, []byte("fatal error: ")) {
		s.begin(evPanic, line, true)
		ev.exc = normalize(ev.exc, t)
		ev.hasExc = true
		s.checkExclude(t)
		return true
	}
	if i := indexHTTPPanic(t); i >= 0 {
		s.begin(evPanic, line, true)
		ev.exc = normalize(ev.exc, t[i:])
		ev.hasExc = true
		s.checkExclude(t)
		return true
	}
	// A Python traceback.
	if bytes.HasPrefix(t, []byte("Traceback (most recent call last):")) {
		s.begin(evPython, line, false)
		return true
	}
	// A bare exception (printStackTrace, an uncaught exception).
	if cls, msg, ok := exceptionHeader(t); ok {
		s.begin(evLine, line, false)
		if stackOwner(s.prevLine(ls), &s.jf2) {
			// The stack trace of a WARN or DEBUG line.
			ev.suppressed = true
			return true
		}
		s.setException(cls, msg)
		s.checkExclude(t)
		return true
	}
	// A plain line with a level.
	cls, canon, _, e := lineLevel(t)
	if cls < levelError {
		return false
	}
	s.begin(evLine, line, cls == levelFatal)
	ev.head = append(ev.head, canon...)
	if m := t[messageStart(t, e):]; len(m) > 0 {
		ev.head = append(ev.head, ' ')
		ev.head = normalize(ev.head, m)
	}
	s.checkExclude(t)
	return true
}

// httpPanic is what net/http logs when it recovers a handler's panic, and
// httpPanicV the offset of its 'v'.
const (
	httpPanic  = "http: panic serving "
	httpPanicV = 15
)

// indexHTTPPanic is bytes.Index(t, httpPanic). It looks for the 'v' of
// "serving", rarer in log lines than the 'h' (http, thread, shop) from
// which bytes.Index starts, and this for every candidate line.
func indexHTTPPanic(t []byte) int {
	if len(t) < len(httpPanic) {
		return -1
	}
	for i := httpPanicV; ; {
		j := bytes.IndexByte(t[i:], 'v')
		if j < 0 {
			return -1
		}
		if p := i + j - httpPanicV; p+len(httpPanic) <= len(t) && string(t[p:p+len(httpPanic)]) == httpPanic {
			return p
		}
		i += j + 1
	}
}

// begin starts a new event with line as its first line.
func (s *Scanner) begin(kind evKind, line []byte, fatal bool) {
	s.ev.reset()
	s.ev.kind, s.ev.fatal, s.ev.lines = kind, fatal, 1
	s.ev.off = s.scanned - int64(s.end) + int64(s.openAt)
	s.addSample(line)
}

// checkExclude suppresses the pending event if t matches an Exclude
// pattern.
func (s *Scanner) checkExclude(t []byte) {
	if s.ev.suppressed || s.ev.excluded {
		return
	}
	for _, re := range s.cfg.Exclude {
		if re.Match(t) {
			s.ev.excluded = true
			return
		}
	}
}

// setException records an exception header (the first one of the event).
func (s *Scanner) setException(cls, msg []byte) {
	ev := &s.ev
	if ev.hasExc {
		return
	}
	ev.hasExc = true
	ev.exc = append(ev.exc[:0], cls...)
	if len(msg) > 0 {
		ev.exc = append(ev.exc, ": "...)
		ev.exc = normalize(ev.exc, msg)
	}
}

// absorbStack reads a stack trace carried inside a JSON field, line by
// line, as if its lines followed the event's first line.
func (s *Scanner) absorbStack(text []byte) {
	ev := &s.ev
	kind := ev.kind
	// The raw line, already in the sample, has it all.
	sample, runes := len(ev.sample), ev.sampleRunes
	defer func() { ev.sample, ev.sampleRunes = ev.sample[:sample], runes }()
	if bytes.HasPrefix(text, []byte("Traceback (most recent call last):")) {
		ev.kind = evPython
	}
	for len(text) > 0 {
		nl := bytes.IndexByte(text, '\n')
		line := text
		if nl >= 0 {
			line, text = text[:nl], text[nl+1:]
		} else {
			text = nil
		}
		if !s.continueEvent(line) && ev.kind != evPython {
			break
		}
	}
	ev.kind = kind
	ev.lines = 1
}

// continueEvent reports whether line continues the pending event, and if
// so adds what it says to it.
func (s *Scanner) continueEvent(line []byte) bool {
	ev := &s.ev
	t := stripKubeTimestamp(trimCR(line))
	ok := false
	switch ev.kind {
	case evPanic:
		ok = s.continuePanic(t)
	case evPython:
		ok = s.continuePython(t)
	default:
		ok = s.continueJava(t, line)
	}
	if ok {
		ev.lines++
	}
	return ok
}

// continueJava: stack frames, "... N more", "Caused by:", "Suppressed:",
// an exception right after the event's first line, .NET's "--->" and "---
// End of", a Python traceback after an error line.
func (s *Scanner) continueJava(t, line []byte) bool {
	ev := &s.ev
	if len(t) == 0 {
		return false
	}
	if t[0] == ' ' || t[0] == '\t' {
		u := bytes.TrimLeft(t, " \t")
		switch {
		case bytes.HasPrefix(u, []byte("at ")):
			if len(ev.frame) == 0 {
				ev.frame = normalize(ev.frame, u[3:])
				s.addSample(line)
			}
		case bytes.HasPrefix(u, []byte("...")), bytes.HasPrefix(u, []byte("--- End of")),
			bytes.HasPrefix(u, []byte("Suppressed: ")):
		case bytes.HasPrefix(u, []byte("Caused by: ")):
			s.cause(u[len("Caused by: "):], line)
		case bytes.HasPrefix(u, []byte("---> ")):
			s.cause(u[len("---> "):], line)
		default:
			return false
		}
		return true
	}
	switch {
	case bytes.HasPrefix(t, []byte("Caused by: ")):
		s.cause(t[len("Caused by: "):], line)
		return true
	case bytes.HasPrefix(t, []byte("Wrapped by: ")):
		return true
	case ev.lines == 1 && bytes.HasPrefix(t, []byte("Traceback (most recent call last):")):
		ev.kind = evPython
		return true
	case ev.lines == 1 && !ev.hasExc:
		if cls, msg, ok := exceptionHeader(t); ok {
			s.setException(cls, msg)
			s.addSample(line)
			s.checkExclude(t)
			return true
		}
	}
	return false
}

// cause records a "Caused by:" exception: the last one is the root cause.
func (s *Scanner) cause(t, line []byte) {
	ev := &s.ev
	if cls, _, ok := exceptionHeader(t); ok {
		ev.cause = append(ev.cause[:0], cls...)
	}
	s.addSample(line)
	s.checkExclude(t)
}

// continuePanic: the goroutine dump after "panic: ".
func (s *Scanner) continuePanic(t []byte) bool {
	ev := &s.ev
	switch {
	case len(t) == 0, t[0] == ' ', t[0] == '\t':
		return true
	case bytes.HasPrefix(t, []byte("goroutine ")):
		ev.goroutine = true
		return true
	case bytes.HasPrefix(t, []byte("[signal ")), bytes.HasPrefix(t, []byte("created by ")),
		bytes.HasPrefix(t, []byte("panic: ")), bytes.HasPrefix(t, []byte("exit status ")),
		bytes.HasPrefix(t, []byte("...")):
		return true
	case ev.goroutine && goFrame(t):
		if fn := t[:goFrameParen(t)]; len(ev.frame) == 0 && string(fn) != "panic" {
			ev.frame = append(ev.frame, fn...)
		}
		return true
	}
	return false
}

// goFrame reports whether t is the function line of a goroutine's stack
// frame: "main.handler(0xc000123456, 0x1)", "net/http.(*conn).serve(...)".
func goFrame(t []byte) bool {
	p := goFrameParen(t)
	return p > 0 && t[len(t)-1] == ')' && bytes.IndexByte(t[:p], ' ') < 0
}

// goFrameParen is the index of the parenthesis opening a Go frame's
// arguments: the first '(' not followed by '*' ("(*conn)" is a receiver).
func goFrameParen(t []byte) int {
	for i := 0; i < len(t); i++ {
		if t[i] == '(' {
			if i+1 < len(t) && t[i+1] == '*' {
				continue
			}
			return i
		}
	}
	return -1
}

// continuePython: frames (indented), chained tracebacks, and the
// exception line that ends a traceback.
func (s *Scanner) continuePython(t []byte) bool {
	ev := &s.ev
	switch {
	case len(t) == 0:
		return true
	case t[0] == ' ' || t[0] == '\t':
		if ev.pyDone {
			return false
		}
		if u := bytes.TrimLeft(t, " \t"); bytes.HasPrefix(u, []byte("File ")) {
			ev.frame = normalize(ev.frame[:0], u)
		}
		return true
	case bytes.HasPrefix(t, []byte("Traceback (most recent call last):")),
		bytes.HasPrefix(t, []byte("During handling of the above exception")),
		bytes.HasPrefix(t, []byte("The above exception was the direct cause")):
		ev.pyDone = false
		return true
	case !ev.pyDone && pythonException(t):
		// The last exception of a chain is the one raised.
		ev.hasExc, ev.pyDone = false, true
		ev.exc = ev.exc[:0]
		if i := bytes.IndexByte(t, ':'); i >= 0 {
			s.setException(t[:i], bytes.TrimSpace(t[i+1:]))
		} else {
			s.setException(t, nil)
		}
		s.addSample(t)
		s.checkExclude(t)
		return true
	}
	return false
}

// addSample appends a line to the pending event's sample, within
// MaxSampleRunes.
func (s *Scanner) addSample(line []byte) {
	ev := &s.ev
	budget := s.cfg.MaxSampleRunes - ev.sampleRunes
	if len(ev.sample) > 0 {
		budget-- // the newline
	}
	if budget <= 0 {
		return
	}
	if len(ev.sample) > 0 {
		ev.sample = append(ev.sample, '\n')
		ev.sampleRunes++
	}
	line = trimCR(line)
	if utf8.RuneCount(line) > budget {
		// Cut, and the "…" that says so is within the budget too.
		budget--
	}
	i, n := 0, 0
	for i < len(line) && n < budget {
		_, size := utf8.DecodeRune(line[i:])
		i += size
		n++
	}
	ev.sample = append(ev.sample, line[:i]...)
	ev.sampleRunes += n
	if i < len(line) {
		ev.sample = append(ev.sample, "…"...)
		ev.sampleRunes = s.cfg.MaxSampleRunes
	}
}

// closeEvent counts the pending event, if any.
func (s *Scanner) closeEvent() {
	ev := &s.ev
	if !ev.active() {
		return
	}
	defer ev.reset()
	switch {
	case ev.suppressed:
		return
	case ev.excluded:
		s.stats.Excluded++
		return
	case ev.kind == evPython && !ev.hasExc:
		// A traceback without its exception line (cut short).
		ev.exc = append(ev.exc[:0], "Traceback"...)
	}
	sig := s.norm[:0]
	if len(ev.head) > 0 {
		sig = append(sig, ev.head...)
		if len(ev.exc) > 0 {
			sig = append(sig, " | "...)
			sig = append(sig, ev.exc...)
		}
	} else {
		sig = append(sig, ev.exc...)
		if len(ev.frame) > 0 {
			sig = append(sig, " at "...)
			sig = append(sig, ev.frame...)
		}
	}
	if len(ev.cause) > 0 {
		sig = append(sig, " | caused by "...)
		sig = append(sig, ev.cause...)
	}
	sig = cutSignature(sig, 0)
	s.norm = sig
	s.stats.Events++
	s.agg.add(sig, 1, ev.fatal, ev.sample)
	if s.onEvent != nil {
		s.onEvent(sig, ev.off, ev.fatal, ev.sample)
	}
}

// evKind is the shape of an event, which says which lines continue it.
type evKind uint8

const (
	evNone   evKind = iota
	evLine          // a log line or an exception, maybe with a stack trace
	evPanic         // a Go panic and its goroutine dump
	evPython        // a Python traceback
)

// event is the error event being read.
type event struct {
	kind       evKind
	suppressed bool // the stack trace of a non-error line: skipped
	excluded   bool // matched an Exclude pattern
	fatal      bool
	lines      int
	off        int64  // offset of the first line in the stream
	head       []byte // normalised first line, from its level
	hasExc     bool
	exc        []byte // normalised "Class: message" of the first exception
	cause      []byte // class of the last "Caused by"
	frame      []byte // first stack frame, normalised
	goroutine  bool   // panic: the goroutine dump has started
	pyDone     bool   // Python: the exception line has been read
	sample     []byte
	// sampleRunes is the length of sample in runes.
	sampleRunes int
}

func (e *event) active() bool { return e.kind != evNone }

// reset empties the event, keeping its buffers.
func (e *event) reset() {
	*e = event{
		head:   e.head[:0],
		exc:    e.exc[:0],
		cause:  e.cause[:0],
		frame:  e.frame[:0],
		sample: e.sample[:0],
	}
}

// Group is the error events of one signature.
type Group struct {
	// Signature is the normalised form shared by the events (see
	// Normalize); empty for the Other group.
	Signature string
	// Count is the number of events.
	Count int64
	// Fatal is set when an event was FATAL, CRITICAL, a panic or a klog F
	// line.
	Fatal bool
	// Sample is one event's text as logged: its first line and, for a
	// stack trace, the exception, first frame and causes, at most
	// MaxSampleRunes runes. A Scanner keeps the first event's; Merge keeps
	// the one of the smallest Source.
	Sample string
	// Source says where the sample comes from (set by Merge, e.g. a pod
	// name).
	Source string
	// ID, if set, is the signature's identity in the finding's
	// fingerprint, in place of one computed from Signature: the
	// incremental state keeps signatures redacted, and their identity.
	ID string
}

// Aggregate counts error events by signature, tracking at most a fixed
// number of distinct signatures: events of further signatures are counted
// in Other. The zero value is not usable; use NewAggregate.
type Aggregate struct {
	max    int
	groups map[string]*Group
	other  Group
	events int64
}

// NewAggregate returns an empty aggregate tracking at most maxSignatures
// signatures (DefaultMaxSignatures if maxSignatures <= 0).
func NewAggregate(maxSignatures int) *Aggregate {
	if maxSignatures <= 0 {
		maxSignatures = DefaultMaxSignatures
	}
	return &Aggregate{max: maxSignatures, groups: make(map[string]*Group)}
}

// add counts n events of signature sig.
func (a *Aggregate) add(sig []byte, n int64, fatal bool, sample []byte) {
	a.events += n
	if g, ok := a.groups[string(sig)]; ok {
		g.Count += n
		g.Fatal = g.Fatal || fatal
		return
	}
	if len(a.groups) >= a.max {
		a.addOther(n, fatal, string(sample), "")
		return
	}
	a.groups[string(sig)] = &Group{Signature: string(sig), Count: n, Fatal: fatal, Sample: string(sample)}
}

// Merge adds b's groups to a, b's groups without a Source getting source
// as theirs. Groups are taken by decreasing count, so which of them fit
// under a's signature cap does not depend on map order; a group found in
// both keeps the sample of the smaller Source, so that the result does not
// depend on the order of the merges either.
func (a *Aggregate) Merge(b *Aggregate, source string) {
	for _, g := range b.sorted() {
		src := cmp.Or(g.Source, source)
		a.events += g.Count
		if h, ok := a.groups[g.Signature]; ok {
			h.Count += g.Count
			h.Fatal = h.Fatal || g.Fatal
			if src < h.Source {
				h.Sample, h.Source = g.Sample, src
			}
			continue
		}
		if len(a.groups) < a.max {
			h := *g
			h.Source = src
			a.groups[g.Signature] = &h
			continue
		}
		a.addOther(g.Count, g.Fatal, g.Sample, src)
	}
	if o := b.other; o.Count > 0 {
		a.events += o.Count
		a.addOther(o.Count, o.Fatal, o.Sample, cmp.Or(o.Source, source))
	}
}

func (a *Aggregate) addOther(n int64, fatal bool, sample, source string) {
	a.other.Count += n
	a.other.Fatal = a.other.Fatal || fatal
	if a.other.Sample == "" || (source != "" && source < a.other.Source) {
		a.other.Sample, a.other.Source = sample, source
	}
}

// sorted returns the groups by decreasing count, then signature.
func (a *Aggregate) sorted() []*Group {
	gs := make([]*Group, 0, len(a.groups))
	for _, g := range a.groups {
		gs = append(gs, g)
	}
	slices.SortFunc(gs, func(x, y *Group) int {
		if c := cmp.Compare(y.Count, x.Count); c != 0 {
			return c
		}
		return cmp.Compare(x.Signature, y.Signature)
	})
	return gs
}

// Top returns the n groups with the most events (all of them if n <= 0),
// by decreasing count, ties by signature. The Other group is not included.
func (a *Aggregate) Top(n int) []Group {
	gs := a.sorted()
	if n > 0 && len(gs) > n {
		gs = gs[:n]
	}
	out := make([]Group, len(gs))
	for i, g := range gs {
		out[i] = *g
	}
	return out
}

// Len is the number of distinct signatures tracked.
func (a *Aggregate) Len() int { return len(a.groups) }

// Events is the number of events counted, Other's included.
func (a *Aggregate) Events() int64 { return a.events }

// Other is the group of the events whose signatures were not tracked
// because MaxSignatures were already; its Signature is empty.
func (a *Aggregate) Other() Group { return a.other }
