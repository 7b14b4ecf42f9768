// Package logstest writes realistic container logs, deterministically, for
// the logs check's tests and benchmarks: a Spring Boot style service (plain
// text or JSON) or a Kubernetes component (klog), mostly INFO lines with a
// given ratio of error events, some of them Java stack traces, and lines
// meant to fool a naive `grep -i error` ("0 errors", "error_count=0",
// "Mirror", a WARN with a stack trace).
//
// The same options and seed always give the same bytes, and the Stats of a
// run say exactly how many error events were written, by kind, so a test
// can compare them with what the scanner found.
package logstest

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// Format is the shape of the generated lines.
type Format int

const (
	// Plain is Spring Boot's default console format:
	// "2026-11-24T09:12:33.123Z ERROR 1 --- [exec-3] c.e.shop.Foo : message",
	// with Java stack traces on the lines after an error.
	Plain Format = iota
	// JSON is one logstash-logback-encoder object per line, with the
	// stack trace in the stack_trace field.
	JSON
	// Klog is the Kubernetes components' format:
	// "E1124 09:12:33.123456       1 reflector.go:158] message".
	Klog
)

// String returns the format's name.
func (f Format) String() string {
	switch f {
	case Plain:
		return "plain"
	case JSON:
		return "json"
	case Klog:
		return "klog"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// Options configure a generated log.
type Options struct {
	// Size is the exact number of bytes to write. The last line is filler
	// (an INFO line cut to fit, ending in a newline), so that every event
	// counted in Stats is whole.
	Size int64
	// Seed selects the sequence; the same options give the same bytes.
	Seed int64
	// ErrorRatio is the probability that a log statement is an error
	// event (0 to 1). An event may span many lines (a stack trace), so
	// the fraction of error *lines* is higher.
	ErrorRatio float64
	// Format of the lines; Plain by default.
	Format Format
	// Start is the time of the first line; 2026-11-24T00:00:00Z by
	// default. Lines are 0 to 40 ms apart, unless Gap is set.
	Start time.Time
	// Timestamps prefixes every line with an RFC 3339 timestamp and a
	// space, as `kubectl logs --timestamps` (and the kubelet with
	// timestamps=true) do.
	Timestamps bool

	// Gap, when set, lays the log on a clock, as a container's log is:
	// the time between two statements is drawn uniformly from 0 to
	// 2×Gap, in whole microseconds, so that Gap is the mean. The clock
	// is cut into the hours of Unix time, each drawn from the seed and
	// its hour alone, so that a Reader can begin anywhere without
	// generating the log's past: a statement's time and text depend on
	// the seed, the other options and the time, not on Start, Since or
	// Until. Gaps are at most 2×Gap, 4×Gap across an hour's end (for a
	// Gap up to half an hour; a longer one leaves some hours empty).
	// Start is then where the log begins: there is no statement before
	// it. GapFor gives the Gap that makes a log of a given size.
	//
	// With Timestamps, the lines of a statement at time t are stamped
	// t, t+1ns, t+2ns, ...: never in the next microsecond, so a
	// statement's lines are all in the second of its time.
	Gap time.Duration
	// Since and Until, when set, keep only the statements whose time is
	// in [Since, Until): the others are generated, so the same seed gives
	// the same statements whatever the filter, but not written (with
	// Gap, the hours before the one of Since are not generated either).
	// Stats count only what is written. With Until set, Size 0 means no
	// limit of size: the log ends before Until.
	Since, Until time.Time
}

// Stats describe what was generated.
type Stats struct {
	// Bytes and Lines written (the filler line included).
	Bytes, Lines int64
	// Statements is the number of log statements: events, non-error
	// lines and non-error stack traces, not counting the filler.
	Statements int64
	// Events is the number of error events; FatalEvents of them are
	// FATAL. Events by kind: see the Kind constants.
	Events, FatalEvents int64
	EventsByKind        map[string]int64
	// WarnStacks is the number of WARN lines followed by a stack trace:
	// not errors.
	WarnStacks int64
}

// The kinds of error events, the keys of Stats.EventsByKind. Each kind is
// one signature once normalised (numbers, ids and addresses vary).
const (
	KindPaymentTimeout = "payment-timeout" // one line, varying duration, IP, port, UUID
	KindOrderRejected  = "order-rejected"  // one line, varying ids
	KindDBConnection   = "db-connection"   // ERROR line + stack with Caused by
	KindNPE            = "npe"             // ERROR line + NullPointerException stack
	KindQueueFull      = "queue-full"      // a bare exception and its stack (printStackTrace)
	KindOOMThread      = "oom-thread"      // Exception in thread "pool-N-thread-N" ... OutOfMemoryError
	KindBrokerFatal    = "broker-fatal"    // one FATAL line
	KindKlogWatch      = "klog-watch"      // klog E line
	KindKlogFatal      = "klog-fatal"      // klog F line
)

// Generate writes size bytes of Plain logs to w (see Options).
func Generate(w io.Writer, size int64, seed int64, errorRatio float64) (Stats, error) {
	return GenerateWith(w, Options{Size: size, Seed: seed, ErrorRatio: errorRatio})
}

// GenerateWith writes o.Size bytes of logs to w.
func GenerateWith(w io.Writer, o Options) (Stats, error) {
	r := NewReader(o)
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return r.Stats(), werr
			}
		}
		if errors.Is(err, io.EOF) {
			return r.Stats(), nil
		}
	}
}

// GapFor returns the Gap that makes span of a log with o's Format and
// ErrorRatio about size bytes (without timestamps; size > 0). It measures
// the mean size of a statement on a megabyte of such a log.
func GapFor(o Options, size int64, span time.Duration) time.Duration {
	st, _ := GenerateWith(io.Discard, Options{Size: 1 << 20, Seed: o.Seed, ErrorRatio: o.ErrorRatio, Format: o.Format})
	if st.Statements == 0 || size <= 0 {
		return span
	}
	mean := float64(st.Bytes) / float64(st.Statements)
	return time.Duration(float64(span) * mean / float64(size))
}

// Reader generates logs as it is read, in constant memory: use it to feed
// hundreds of megabytes to a scanner or a stub kubelet.
type Reader struct {
	o     Options
	g     gen
	buf   []byte // generated, not yet read
	off   int
	done  bool
	stats Stats
	from  time.Time // no statement before: the later of Start and Since
}

// NewReader returns a Reader producing exactly o.Size bytes, or, with
// o.Until set and o.Size 0, the statements before o.Until.
func NewReader(o Options) *Reader {
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	}
	r := &Reader{o: o, from: o.Start}
	if o.Since.After(r.from) {
		r.from = o.Since
	}
	r.stats.EventsByKind = make(map[string]int64)
	r.g = gen{
		pcg: rand.NewPCG(uint64(o.Seed), 0x6f707362_6f745f6c),
		now: o.Start.UTC(),
		o:   &r.o,
	}
	r.g.rnd = rand.New(r.g.pcg)
	if o.Gap > 0 {
		r.g.gapMicros = max(1, o.Gap.Microseconds())
		r.g.enterHour(hourOf(r.from))
		r.g.drawn = true
	}
	return r
}

// sized reports whether the log ends after o.Size bytes.
func (r *Reader) sized() bool { return r.o.Size > 0 || r.o.Until.IsZero() }

// Stats returns what has been generated so far; complete once Read has
// returned io.EOF.
func (r *Reader) Stats() Stats {
	s := r.stats
	s.EventsByKind = make(map[string]int64, len(r.stats.EventsByKind))
	for k, v := range r.stats.EventsByKind {
		s.EventsByKind[k] = v
	}
	return s
}

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if r.off == len(r.buf) {
			if r.done {
				break
			}
			r.fill()
			continue
		}
		c := copy(p[n:], r.buf[r.off:])
		r.off += c
		n += c
	}
	if n == 0 && r.done {
		return 0, io.EOF
	}
	return n, nil
}

// WriteTo implements io.WriterTo: it writes the rest of the log to w
// straight from the Reader's buffer (io.Copy uses it).
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for {
		if r.off == len(r.buf) {
			if r.done {
				return n, nil
			}
			r.fill()
			continue
		}
		c, err := w.Write(r.buf[r.off:])
		r.off += c
		n += int64(c)
		if err != nil {
			return n, err
		}
	}
}

// fill generates the next batch of statements into r.buf.
func (r *Reader) fill() {
	r.buf, r.off = r.buf[:0], 0
	for len(r.buf) < 32<<10 && !r.done {
		start := len(r.buf)
		r.g.advance()
		if !r.o.Until.IsZero() && !r.g.now.Before(r.o.Until) {
			r.done = true
			break
		}
		var st entryStats
		r.buf, st = r.g.entry(r.buf)
		if r.g.now.Before(r.from) {
			r.buf = r.buf[:start]
			continue
		}
		if r.sized() && r.stats.Bytes+int64(len(r.buf)) > r.o.Size {
			// It does not fit: fill up with an INFO line cut to size.
			r.buf = r.g.filler(r.buf[:start], int(r.o.Size-r.stats.Bytes-int64(start)))
			if len(r.buf) > start {
				r.stats.Lines++
			}
			r.done = true
			break
		}
		r.stats.Statements++
		r.stats.Lines += int64(st.lines)
		if st.kind != "" {
			r.stats.Events++
			r.stats.EventsByKind[st.kind]++
			if st.fatal {
				r.stats.FatalEvents++
			}
		}
		if st.warnStack {
			r.stats.WarnStacks++
		}
	}
	r.stats.Bytes += int64(len(r.buf))
	if r.sized() && r.stats.Bytes >= r.o.Size {
		r.done = true
	}
}

// entryStats describe one generated statement.
type entryStats struct {
	lines     int
	kind      string // error event kind, "" if none
	fatal     bool
	warnStack bool
}

// gen builds statements.
type gen struct {
	pcg *rand.PCG
	rnd *rand.Rand // of pcg
	now time.Time  // of the statement being built
	o   *Options
	// With a Gap: the mean gap, and the end of the hour of now.
	gapMicros int64
	hourEnd   time.Time
	drawn     bool // now is already the next statement's time
	lines     int  // lines of the statement being built
	// Scratch buffers, reused from statement to statement.
	msg, stack []byte
	// owner: the last line was a log line at WARN, DEBUG, ERROR or FATAL
	// without a stack trace: an exception after it would be read as its
	// stack trace (of a warning: not an error; of an error: the same
	// event), not as an event of its own.
	owner bool
}

func (g *gen) pick(list []string) string { return list[g.rnd.IntN(len(list))] }

// hourSalt tells an hour's sequence from the sequence of a log without
// a Gap.
const hourSalt = 0x686f7572_73616c74

// hourOf returns the start of the hour of Unix time that holds t.
func hourOf(t time.Time) time.Time {
	s := t.Unix()
	s -= s % 3600
	if s > t.Unix() {
		s -= 3600
	}
	return time.Unix(s, 0).UTC()
}

// enterHour starts the hour that begins at start: its sequence, and the
// time of its first statement. That time is drawn from the distribution
// of the time to the next statement seen from any point in time (the
// forward recurrence time: density (1-x/2g)/g on [0, 2g] for gaps
// uniform on [0, 2g]), so that the hours' statements come at the rate
// of one per Gap, boundaries included. A statement that would begin an
// hour is taken to follow one that might look like its owner (see
// bareException), whatever the hour before ended with.
func (g *gen) enterHour(start time.Time) {
	g.pcg.Seed(uint64(g.o.Seed), hourSalt^uint64(start.Unix()/3600))
	g.hourEnd = start.Add(time.Hour)
	g.owner = true
	x := 2 * float64(g.gapMicros) * (1 - math.Sqrt(1-g.rnd.Float64()))
	g.now = start.Add(time.Duration(x) * time.Microsecond)
}

// advance moves the clock to the time of the next statement.
func (g *gen) advance() {
	if g.gapMicros == 0 {
		g.now = g.now.Add(time.Duration(g.rnd.IntN(40_000)) * time.Microsecond)
		return
	}
	if g.drawn {
		g.drawn = false
	} else {
		g.now = g.now.Add(time.Duration(g.rnd.Int64N(2*g.gapMicros)) * time.Microsecond)
	}
	for !g.now.Before(g.hourEnd) {
		g.enterHour(g.hourEnd) // draws the next statement's time
	}
}

// entry appends one statement (one or more lines) at time g.now to b.
func (g *gen) entry(b []byte) ([]byte, entryStats) {
	g.lines = 0
	var st entryStats
	if g.rnd.Float64() < g.o.ErrorRatio {
		switch g.o.Format {
		case Klog:
			b, st = g.klogError(b)
		default:
			b, st = g.javaError(b)
		}
	} else {
		switch g.o.Format {
		case Klog:
			b = g.klogInfo(b)
		default:
			b, st = g.javaInfo(b)
		}
	}
	st.lines = g.lines
	return b, st
}

// filler appends an INFO line of exactly n bytes (newline included).
func (g *gen) filler(b []byte, n int) []byte {
	if n <= 0 {
		return b
	}
	start := len(b)
	b = g.prefix(b)
	b = append(b, "INFO filler: the log was cut here to reach the requested size "...)
	for len(b)-start < n {
		b = append(b, "padding "...)
	}
	b = b[:start+n]
	b[len(b)-1] = '\n'
	return b
}

// prefix appends the kubelet timestamp, when asked for.
func (g *gen) prefix(b []byte) []byte {
	if g.o.Timestamps && g.gapMicros > 0 {
		// Not drawn: the sequence must not depend on Timestamps.
		b = g.now.Add(time.Duration(min(g.lines, 999))).AppendFormat(b, time.RFC3339Nano)
		b = append(b, ' ')
	} else if g.o.Timestamps {
		b = g.now.Add(time.Duration(g.rnd.IntN(1000))).AppendFormat(b, time.RFC3339Nano)
		b = append(b, ' ')
	}
	return b
}

// ---- Spring Boot (plain and JSON) ----

var (
	loggers = []string{
		"c.e.shop.api.AccessLogFilter", "c.e.shop.order.OrderService", "c.e.shop.cart.CartService",
		"c.e.shop.payment.PaymentClient", "c.e.shop.jobs.Reconciler", "o.s.web.servlet.DispatcherServlet",
		"c.e.shop.catalog.CatalogMirror", "c.e.shop.metrics.Reporter",
	}
	methods  = []string{"GET", "GET", "GET", "POST", "PUT", "DELETE"}
	paths    = []string{"/api/orders/", "/api/carts/", "/api/products/", "/api/customers/", "/api/errors/recent?page="}
	statuses = []string{"200", "200", "200", "200", "201", "204", "304", "404"}
)

// javaLine is one Spring Boot log statement in the making.
type javaLine struct {
	level, logger, thread string
	msg                   []byte
	stack                 []byte // Java stack trace, lines separated by \n, no final newline
}

// thread returns a thread name such as http-nio-8080-exec-17.
func (g *gen) thread() string {
	switch g.rnd.IntN(4) {
	case 0:
		return "scheduling-1"
	default:
		return execThreads[g.rnd.IntN(len(execThreads))]
	}
}

// execThreads are Tomcat's request threads, http-nio-8080-exec-1 to 200.
var execThreads = func() []string {
	out := make([]string, 200)
	for i := range out {
		out[i] = "http-nio-8080-exec-" + strconv.Itoa(i+1)
	}
	return out
}()

func (g *gen) num(b []byte, max int) []byte { return strconv.AppendInt(b, int64(g.rnd.IntN(max)), 10) }

func (g *gen) ip(b []byte) []byte {
	b = append(b, "10.0."...)
	b = g.num(b, 4)
	b = append(b, '.')
	return strconv.AppendInt(b, int64(1+g.rnd.IntN(254)), 10)
}

func (g *gen) uuid(b []byte) []byte {
	const hex = "0123456789abcdef"
	for i := range 36 {
		switch i {
		case 8, 13, 18, 23:
			b = append(b, '-')
		case 14:
			b = append(b, '4')
		default:
			b = append(b, hex[g.rnd.IntN(16)])
		}
	}
	return b
}

// frames appends n Java stack frames (each "\n\tat ...").
func (g *gen) frames(b []byte, n int, pkgs []string) []byte {
	for i := range n {
		p := pkgs[i%len(pkgs)]
		b = append(b, "\n\tat "...)
		b = append(b, p...)
		b = append(b, '(')
		// Class name from the last dotted element before the method.
		cls := p
		for j := len(p) - 1; j >= 0; j-- {
			if p[j] == '.' {
				cls = p[:j]
				break
			}
		}
		for j := len(cls) - 1; j >= 0; j-- {
			if cls[j] == '.' {
				cls = cls[j+1:]
				break
			}
		}
		b = append(b, cls...)
		b = append(b, ".java:"...)
		b = strconv.AppendInt(b, int64(20+(i*37)%400), 10)
		b = append(b, ')')
	}
	return b
}

var (
	springFrames = []string{
		"org.springframework.web.servlet.FrameworkServlet.processRequest",
		"org.springframework.web.servlet.FrameworkServlet.doPost",
		"jakarta.servlet.http.HttpServlet.service",
		"org.springframework.web.servlet.FrameworkServlet.service",
		"org.apache.catalina.core.ApplicationFilterChain.internalDoFilter",
		"org.apache.catalina.core.ApplicationFilterChain.doFilter",
		"org.springframework.web.filter.OncePerRequestFilter.doFilter",
		"org.apache.catalina.core.StandardWrapperValve.invoke",
		"org.apache.catalina.core.StandardContextValve.invoke",
		"org.apache.coyote.http11.Http11Processor.service",
		"org.apache.tomcat.util.net.NioEndpoint$SocketProcessor.doRun",
		"java.base/java.util.concurrent.ThreadPoolExecutor.runWorker",
		"java.base/java.lang.Thread.run",
	}
	orderFrames = []string{
		"com.example.shop.order.OrderRepository.save",
		"com.example.shop.order.OrderService.placeOrder",
		"com.example.shop.order.OrderController.create",
	}
	hikariFrames = []string{
		"com.zaxxer.hikari.pool.PoolBase.newConnection",
		"com.zaxxer.hikari.pool.HikariPool.createPoolEntry",
		"org.postgresql.core.PGStream.<init>",
		"java.base/sun.nio.ch.Net.connect",
	}
	cartFrames = []string{
		"com.example.shop.cart.CartController.add",
		"com.example.shop.cart.CartService.addItem",
	}
	queueFrames = []string{
		"com.example.shop.events.EventQueue.offer",
		"com.example.shop.events.OrderEvents.publish",
		"com.example.shop.order.OrderService.placeOrder",
		"java.base/java.util.concurrent.ThreadPoolExecutor.runWorker",
		"java.base/java.lang.Thread.run",
	}
)

// javaInfo appends a non-error statement.
func (g *gen) javaInfo(b []byte) ([]byte, entryStats) {
	l := javaLine{level: "INFO", logger: loggers[0], thread: g.thread(), stack: g.stack[:0]}
	var st entryStats
	m := g.msg[:0]
	switch k := g.rnd.IntN(100); {
	case k < 55:
		m = append(m, g.pick(methods)...)
		m = append(m, ' ')
		m = append(m, g.pick(paths)...)
		m = g.num(m, 100000)
		m = append(m, ' ')
		m = append(m, g.pick(statuses)...)
		m = append(m, ' ')
		m = g.num(m, 300)
		m = append(m, "ms"...)
	case k < 68:
		l.logger = loggers[1]
		m = append(m, "Processed order "...)
		m = g.num(m, 1000000)
		m = append(m, " for customer "...)
		m = g.num(m, 100000)
		m = append(m, " in "...)
		m = g.num(m, 500)
		m = append(m, "ms"...)
	case k < 76:
		l.level, l.logger = "DEBUG", loggers[2]
		m = append(m, "Cart "...)
		m = g.uuid(m)
		m = append(m, " has "...)
		m = g.num(m, 20)
		m = append(m, " items, total 0x"...)
		m = strconv.AppendInt(m, int64(g.rnd.IntN(1<<30)), 16)
	case k < 81:
		l.logger, l.thread = loggers[4], "scheduling-1"
		m = append(m, "Reconciled "...)
		m = g.num(m, 5000)
		m = append(m, " orders, 0 errors, "...)
		m = g.num(m, 10)
		m = append(m, " skipped"...)
	case k < 86:
		l.logger, l.thread = loggers[7], "scheduling-1"
		m = append(m, "metrics flush: requests="...)
		m = g.num(m, 100000)
		m = append(m, " error_count=0 latency_p99="...)
		m = g.num(m, 900)
		m = append(m, "ms"...)
	case k < 89:
		l.logger, l.thread = loggers[6], "scheduling-1"
		m = append(m, "Mirror sync of catalog completed ("...)
		m = g.num(m, 90000)
		m = append(m, " items); entering critical section for index swap"...)
	case k < 99:
		l.level, l.logger = "WARN", loggers[3]
		m = append(m, "Slow response from inventory-service at "...)
		m = g.ip(m)
		m = append(m, ":8080 took "...)
		m = g.num(m, 5000)
		m = append(m, "ms"...)
	default:
		// A WARN with a stack trace: not an error.
		l.level, l.logger = "WARN", loggers[3]
		m = append(m, "Retrying call to "...)
		m = g.ip(m)
		m = append(m, ":8443 (attempt 2 of 3)"...)
		l.stack = append(l.stack[:0], "java.net.SocketTimeoutException: Read timed out"...)
		l.stack = g.frames(l.stack, 6, hikariFrames)
		st.warnStack = true
	}
	l.msg, g.msg, g.stack = m, m, l.stack
	return g.javaEmit(b, &l), st
}

// javaError appends an error event.
func (g *gen) javaError(b []byte) ([]byte, entryStats) {
	l := javaLine{level: "ERROR", logger: loggers[3], thread: g.thread(), stack: g.stack[:0]}
	st := entryStats{}
	m := g.msg[:0]
	switch k := g.rnd.IntN(100); {
	case k < 40:
		st.kind = KindPaymentTimeout
		m = append(m, "Payment authorization failed: timeout after "...)
		m = g.num(m, 5000)
		m = append(m, "ms talking to "...)
		m = g.ip(m)
		m = append(m, ":8443 requestId="...)
		m = g.uuid(m)
	case k < 60:
		st.kind = KindOrderRejected
		l.logger = loggers[1]
		m = append(m, "Order "...)
		m = g.num(m, 1000000)
		m = append(m, " rejected: customer "...)
		m = g.num(m, 100000)
		m = append(m, " has no billing address"...)
	case k < 75:
		st.kind = KindDBConnection
		l.logger = loggers[1]
		m = append(m, "Failed to save order "...)
		m = g.num(m, 1000000)
		s := append(l.stack[:0], "org.springframework.dao.DataAccessResourceFailureException: Unable to acquire JDBC Connection"...)
		s = g.frames(s, 3, orderFrames)
		s = g.frames(s, 13, springFrames)
		s = append(s, "\nCaused by: java.net.ConnectException: Connection refused"...)
		s = g.frames(s, 4, hikariFrames)
		s = append(s, "\n\t... 16 common frames omitted"...)
		l.stack = s
	case k < 88:
		st.kind = KindNPE
		l.logger = loggers[5]
		m = append(m, "Servlet.service() for servlet [dispatcherServlet] in context with path [] threw exception"...)
		s := append(l.stack[:0], `java.lang.NullPointerException: Cannot invoke "String.length()" because "name" is null`...)
		s = g.frames(s, 2, cartFrames)
		s = g.frames(s, 13, springFrames)
		l.stack = s
	case k < 95:
		// printStackTrace: no log line, only the exception.
		st.kind = KindQueueFull
		m = append(m, "java.lang.IllegalStateException: Queue full (capacity "...)
		m = strconv.AppendInt(m, int64(1000*(1+g.rnd.IntN(4))), 10)
		m = append(m, ')')
		g.msg = m
		return g.bareException(b, m, queueFrames), st
	case k < 98:
		st.kind = KindOOMThread
		m = append(m, `Exception in thread "pool-`...)
		m = strconv.AppendInt(m, int64(1+g.rnd.IntN(9)), 10)
		m = append(m, "-thread-"...)
		m = strconv.AppendInt(m, int64(1+g.rnd.IntN(50)), 10)
		m = append(m, `" java.lang.OutOfMemoryError: Java heap space`...)
		g.msg = m
		return g.bareException(b, m, queueFrames[3:]), st
	default:
		st.kind, st.fatal = KindBrokerFatal, true
		l.level, l.logger, l.thread = "FATAL", "c.e.shop.events.BrokerConnection", "main"
		m = append(m, "Lost connection to message broker amqp://"...)
		m = g.ip(m)
		m = append(m, ":5672 after "...)
		m = g.num(m, 100)
		m = append(m, " retries, shutting down"...)
	}
	l.msg, g.msg, g.stack = m, m, l.stack
	return g.javaEmit(b, &l), st
}

// bareException appends an exception printed without a log line.
func (g *gen) bareException(b []byte, header []byte, frames []string) []byte {
	if g.owner {
		// Not right after such a line: it would look like its stack trace.
		l := javaLine{level: "INFO", logger: loggers[1], thread: g.thread(), msg: handingMsg}
		b = g.javaEmit(b, &l)
	}
	// A JSON service prints these (to stderr) as plain text too.
	b = g.prefix(b)
	b = append(b, header...)
	b = append(b, '\n')
	g.lines++
	g.owner = false
	g.stack = g.frames(g.stack[:0], len(frames), frames)
	s := g.stack[1:] // without its leading newline
	for len(s) > 0 {
		line := s
		if i := bytes.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			s = nil
		}
		b = g.prefix(b)
		b = append(b, line...)
		b = append(b, '\n')
		g.lines++
	}
	return b
}

var handingMsg = []byte("Handing the order to the event queue")

// javaEmit appends l in the configured format.
func (g *gen) javaEmit(b []byte, l *javaLine) []byte {
	g.owner = l.level != "INFO" && len(l.stack) == 0
	if g.o.Format == JSON {
		return g.jsonEmit(b, l)
	}
	b = g.prefix(b)
	b = g.now.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, ' ')
	for i := len(l.level); i < 5; i++ {
		b = append(b, ' ')
	}
	b = append(b, l.level...)
	b = append(b, " 1 --- [shop-api] ["...)
	b = append(b, l.thread...)
	b = append(b, "] "...)
	b = append(b, l.logger...)
	for i := len(l.logger); i < 36; i++ {
		b = append(b, ' ')
	}
	b = append(b, " : "...)
	b = append(b, l.msg...)
	b = append(b, '\n')
	g.lines++
	if len(l.stack) > 0 {
		s := l.stack
		start := 0
		for i := 0; i <= len(s); i++ {
			if i == len(s) || s[i] == '\n' {
				b = g.prefix(b)
				b = append(b, s[start:i]...)
				b = append(b, '\n')
				g.lines++
				start = i + 1
			}
		}
	}
	return b
}

// jsonEmit appends l as a logstash-logback-encoder JSON line.
func (g *gen) jsonEmit(b []byte, l *javaLine) []byte {
	b = g.prefix(b)
	b = append(b, `{"@timestamp":"`...)
	b = g.now.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, `","@version":"1","message":`...)
	b = appendJSONString(b, l.msg)
	b = append(b, `,"logger_name":"`...)
	b = append(b, l.logger...)
	b = append(b, `","thread_name":"`...)
	b = append(b, l.thread...)
	b = append(b, `","level":"`...)
	b = append(b, l.level...)
	b = append(b, `","level_value":`...)
	switch l.level {
	case "DEBUG":
		b = append(b, "10000"...)
	case "INFO":
		b = append(b, "20000"...)
	case "WARN":
		b = append(b, "30000"...)
	default:
		b = append(b, "40000"...)
	}
	if len(l.stack) > 0 {
		b = append(b, `,"stack_trace":`...)
		b = appendJSONString(b, l.stack)
	}
	b = append(b, "}\n"...)
	g.lines++
	return b
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// ---- klog ----

func (g *gen) klogHeader(b []byte, sev byte, file string) []byte {
	b = g.prefix(b)
	b = append(b, sev)
	b = g.now.AppendFormat(b, "0102 15:04:05.000000")
	b = append(b, "       1 "...)
	b = append(b, file...)
	return append(b, "] "...)
}

func (g *gen) klogInfo(b []byte) []byte {
	switch k := g.rnd.IntN(10); {
	case k < 6:
		b = g.klogHeader(b, 'I', "controller.go:"+strconv.Itoa(100+g.rnd.IntN(3)))
		b = append(b, `"Reconciled" object="shop/api-`...)
		b = g.num(b, 1000)
		b = append(b, `" duration="`...)
		b = g.num(b, 900)
		b = append(b, `ms" errors=0`...)
	case k < 9:
		b = g.klogHeader(b, 'I', "leaderelection.go:258")
		b = append(b, "successfully renewed lease kube-system/opsbot-controller"...)
	default:
		b = g.klogHeader(b, 'W', "reflector.go:561")
		b = append(b, `"Watch ended" reason="very short watch" duration="`...)
		b = g.num(b, 60)
		b = append(b, `s"`...)
	}
	g.lines++
	return append(b, '\n')
}

func (g *gen) klogError(b []byte) ([]byte, entryStats) {
	// g.lines counts the line once written: its stamp is the statement's
	// time plus the lines before it.
	defer func() { g.lines++ }()
	if g.rnd.IntN(50) == 0 {
		b = g.klogHeader(b, 'F', "server.go:88")
		b = append(b, "failed to start the controller manager: listen tcp 0.0.0.0:"...)
		b = g.num(b, 65536)
		b = append(b, ": bind: address already in use\n"...)
		return b, entryStats{kind: KindKlogFatal, fatal: true}
	}
	b = g.klogHeader(b, 'E', "reflector.go:158")
	b = append(b, `"Unhandled Error" err="failed to list *v1.Pod: Get \"https://10.96.0.1:443/api/v1/pods?limit=500&resourceVersion=`...)
	b = g.num(b, 10000000)
	b = append(b, `\": dial tcp 10.96.0.1:443: connect: connection refused" logger="UnhandledError"`...)
	return append(b, '\n'), entryStats{kind: KindKlogWatch}
}
