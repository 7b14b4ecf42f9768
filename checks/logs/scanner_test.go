package logs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/opsbot/opsbot/checks/logs/logstest"
)

// scanString scans s as one stream and returns the groups by signature.
func scanString(t *testing.T, cfg ScannerConfig, s string) (map[string]Group, Stats) {
	t.Helper()
	sc := NewScanner(cfg)
	if err := sc.Scan(strings.NewReader(s)); err != nil {
		t.Fatalf("Scan: %v", err)
	}
	got := make(map[string]Group)
	for _, g := range sc.Top(0) {
		got[g.Signature] = g
	}
	return got, sc.Stats()
}

// want is an expected group: count, and F for fatal.
type want struct {
	n     int64
	fatal bool
}

func checkGroups(t *testing.T, got map[string]Group, wantGroups map[string]want) {
	t.Helper()
	for sig, w := range wantGroups {
		g, ok := got[sig]
		if !ok {
			t.Errorf("missing group %q", sig)
			continue
		}
		if g.Count != w.n || g.Fatal != w.fatal {
			t.Errorf("group %q: count %d fatal %v, want %d %v", sig, g.Count, g.Fatal, w.n, w.fatal)
		}
	}
	for sig, g := range got {
		if _, ok := wantGroups[sig]; !ok {
			t.Errorf("unexpected group %q (count %d, sample %q)", sig, g.Count, g.Sample)
		}
	}
}

func TestScanner(t *testing.T) {
	const javaStack = `2026-11-24T09:12:33.123Z ERROR 1 --- [shop-api] [http-nio-8080-exec-3] c.e.shop.order.OrderService : Failed to save order 1234
org.springframework.dao.DataAccessResourceFailureException: Unable to acquire JDBC Connection
	at com.example.shop.order.OrderRepository.save(OrderRepository.java:42)
	at com.example.shop.order.OrderService.placeOrder(OrderService.java:87)
Caused by: java.sql.SQLTransientConnectionException: pool timed out after 30000ms
	at com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)
	... 12 more
Caused by: java.net.ConnectException: Connection refused
	at java.base/sun.nio.ch.Net.connect0(Native Method)
	... 20 common frames omitted
`
	for _, tc := range []struct {
		name string
		in   string
		want map[string]want
	}{
		{
			name: "plain levels grouped by normalised message",
			in: `2026-11-24 09:12:33.123 ERROR [main] c.e.Foo - timeout after 1234ms talking to 10.0.0.3 id=5f3c9a2b1e7d
2026-11-24 09:12:34.001 ERROR [exec-7] c.e.Foo - timeout after 87ms talking to 10.0.0.4 id=0a1b2c3d4e5f
2026-11-24 09:12:35.000 INFO  [main] c.e.Foo - all good
[error] 7#7: *1 connect() failed (111: Connection refused) while connecting to upstream
level=error ts=2026-11-24T09:12:33Z msg="db down" attempt=3
E, [2026-11-24T09:12:33.123 #1] ERROR -- : Payment 42 failed
Error: connect ECONNREFUSED 127.0.0.1:5432
ERROR:root:could not reach queue
2026/11/24 09:12:33 error: config missing
`,
			want: map[string]want{
				"ERROR timeout after Nms talking to N.N.N.N id=<id>":                                  {2, false},
				"ERROR N#N: *N connect() failed (N: Connection refused) while connecting to upstream": {1, false},
				`ERROR msg="db down" attempt=N`:                                                       {1, false},
				"ERROR Payment N failed":                                                              {1, false},
				"ERROR connect ECONNREFUSED N.N.N.N:N":                                                {1, false},
				"ERROR root:could not reach queue":                                                    {1, false},
				"ERROR config missing":                                                                {1, false},
			},
		},
		{
			name: "fatal levels",
			in: `2026-11-24 09:12:33 FATAL Lost connection to broker
2026-11-24 09:12:33 CRITICAL:root:disk full
level=crit msg="out of memory"
[PANIC] giving up
SEVERE: servlet failed
`,
			want: map[string]want{
				"FATAL Lost connection to broker": {1, true},
				"CRITICAL root:disk full":         {1, true},
				`CRIT msg="out of memory"`:        {1, true},
				"PANIC giving up":                 {1, true},
				"SEVERE servlet failed":           {1, false},
			},
		},
		{
			name: "false positives",
			in: `2026-11-24 09:12:33 INFO Reconciled 3431 orders, 0 errors, 1 skipped
2026-11-24 09:12:33 INFO metrics error_count=0 retries=0
2026-11-24 09:12:33 INFO Mirror sync completed; entering critical section
2026-11-24 09:12:33 INFO GET /api/errors/recent 200 4ms
level=info msg="retrying" error="connection reset"
2026-11-24 09:12:33 WARN upstream said: ERROR 503
2026-11-24 09:12:33 INFO ErrorHandler registered, errorRate=0.1
result: error=nil fatal=false
2026-11-24 09:12:33 DEBUG call done err=<nil>
INFO completed with no error
INFO this is a non-fatal condition
{"level":"info","msg":"request failed with error 500, retrying"}
I1124 09:12:33.123456       1 controller.go:100] "Reconciled" errors=1 error="boom"
W1124 09:12:33.123456       1 reflector.go:561] watch error: too old resource version
mirror mirror on the wall, terror and horror
`,
			want: map[string]want{},
		},
		{
			name: "json lines",
			in: `{"level":"error","ts":1732440753.123,"caller":"payment/client.go:87","msg":"payment failed","order":1234,"error":"context deadline exceeded"}
{"level":"error","ts":1732440754.5,"caller":"payment/client.go:87","msg":"payment failed","order":99,"error":"context deadline exceeded"}
{"level":"info","msg":"payment ok"}
{"@timestamp":"2026-11-24T09:12:33.123Z","message":"Request failed","level":"ERROR","stack_trace":"java.lang.IllegalStateException: boom 42\n\tat com.foo.Bar.baz(Bar.java:42)\nCaused by: java.io.IOException: broken pipe\n\tat com.foo.Io.write(Io.java:7)"}
{"log":{"level":"error","logger":"x"},"message":"ecs nested","error":{"type":"java.lang.NullPointerException","message":"npe here"}}
{"log.level":"fatal","message":"ecs flat"}
{"severity":"CRITICAL","message":"gcp critical"}
{"@l":"Error","@mt":"Serilog {Thing} failed","@x":"System.InvalidOperationException: nope\n   at Foo.Bar() in /src/x.cs:line 42"}
{"levelname":"ERROR","message":"python json","exc_info":"Traceback (most recent call last):\n  File \"/app/x.py\", line 3, in <module>\n    1/0\nZeroDivisionError: division by zero"}
{"level":"error","msg":"truncated line with an error
`,
			want: map[string]want{
				"ERROR payment failed: context deadline exceeded":                                                {2, false},
				"ERROR Request failed | java.lang.IllegalStateException: boom N | caused by java.io.IOException": {1, false},
				"ERROR ecs nested: npe here | java.lang.NullPointerException":                                    {1, false},
				"FATAL ecs flat":     {1, true},
				"FATAL gcp critical": {1, true},
				"ERROR Serilog {Thing} failed | System.InvalidOperationException: nope": {1, false},
				"ERROR python json | ZeroDivisionError: division by zero":               {1, false},
				`ERROR msg":"truncated line with an error`:                              {1, false},
			},
		},
		{
			name: "json with numeric levels",
			in: `{"level":30,"time":1732440753123,"pid":1,"msg":"pino info"}
{"level":50,"time":1732440753123,"pid":1,"msg":"pino failure"}
{"level":60,"time":1732440753123,"pid":1,"msg":"pino fatal"}
{"level":30,"time":1732440753123,"pid":1,"msg":"pino info with error word"}
`,
			want: map[string]want{
				"ERROR pino failure": {1, false},
				"FATAL pino fatal":   {1, true},
			},
		},
		{
			name: "klog",
			in: `I1124 09:12:33.123456       1 controller.go:100] "Reconciled" object="shop/api-1"
E1124 09:12:33.123456       1 reflector.go:158] "Unhandled Error" err="failed to list *v1.Pod: connection refused"
E1124 09:12:34.000001       1 reflector.go:158] "Unhandled Error" err="failed to list *v1.Pod: connection refused"
F1124 09:12:35.000000       1 server.go:88] failed to start: bind: address already in use
panic: something broke

goroutine 1 [running]:
main.main()
	/app/main.go:12 +0x1d
`,
			want: map[string]want{
				`ERROR "Unhandled Error" err="failed to list *vN.Pod: connection refused"`: {2, false},
				"FATAL failed to start: bind: address already in use":                      {1, true},
				"panic: something broke at main.main":                                      {1, true},
			},
		},
		{
			name: "java stack trace after an ERROR line is one event, root cause kept",
			in:   javaStack + javaStack + "2026-11-24T09:12:34.000Z  INFO 1 --- [main] c.e.Foo : next\n",
			want: map[string]want{
				"ERROR Failed to save order N | org.springframework.dao.DataAccessResourceFailureException: Unable to acquire JDBC Connection | caused by java.net.ConnectException": {2, false},
			},
		},
		{
			name: "bare exceptions",
			in: `2026-11-24 09:12:33 INFO starting worker
java.lang.IllegalStateException: Queue full (capacity 1000)
	at com.example.Queue.offer(Queue.java:20)
	at com.example.Worker.run(Worker.java:5)
Exception in thread "pool-1-thread-3" java.lang.OutOfMemoryError: Java heap space
	at java.base/java.util.Arrays.copyOf(Arrays.java:3512)
java.lang.IllegalStateException: Queue full (capacity 4000)
	at com.example.Queue.offer(Queue.java:20)
Unhandled exception. System.InvalidOperationException: Sequence contains no elements
   at System.Linq.ThrowHelper.ThrowNoElementsException()
 ---> System.Exception: inner
`,
			want: map[string]want{
				"java.lang.IllegalStateException: Queue full (capacity N) at com.example.Queue.offer(Queue.java:N)":                                                  {2, false},
				"java.lang.OutOfMemoryError: Java heap space at java.base/java.util.Arrays.copyOf(Arrays.java:N)":                                                    {1, false},
				"System.InvalidOperationException: Sequence contains no elements at System.Linq.ThrowHelper.ThrowNoElementsException() | caused by System.Exception": {1, false},
			},
		},
		{
			name: "a stack trace logged at WARN is not an error",
			in: `2026-11-24 09:12:33 WARN 1 --- [main] c.e.Client : Retrying call (attempt 2 of 3)
java.net.SocketTimeoutException: Read timed out
	at java.base/java.net.SocketInputStream.read(SocketInputStream.java:168)
Caused by: java.io.IOException: Connection reset by peer
	at java.base/sun.nio.ch.SocketDispatcher.read0(Native Method)
	... 3 more
{"level":"warn","msg":"retrying"}
java.lang.RuntimeException: retry
	at com.foo.Bar.baz(Bar.java:1)
`,
			want: map[string]want{},
		},
		{
			name: "go panic and fatal error",
			in: `panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a3b2c]

goroutine 17 [running]:
net/http.(*conn).serve.func1()
	/usr/local/go/src/net/http/server.go:1898 +0xbe
panic({0x6c6f40?, 0x9d3c40?})
	/usr/local/go/src/runtime/panic.go:770 +0x132
main.handler(0xc000123456, 0x1)
	/app/main.go:42 +0x1d
created by net/http.(*Server).Serve in goroutine 1
	/usr/local/go/src/net/http/server.go:3285 +0x4b4
exit status 2
2026/11/24 09:12:33 http: panic serving 10.0.0.7:51234: runtime error: index out of range [3] with length 3
goroutine 88 [running]:
net/http.(*conn).serve.func1()
	/usr/local/go/src/net/http/server.go:1898 +0xbe
fatal error: all goroutines are asleep - deadlock!

goroutine 1 [chan receive]:
main.main()
	/app/main.go:9 +0x2d
2026-11-24 09:12:33 INFO restarted
`,
			want: map[string]want{
				"panic: runtime error: invalid memory address or nil pointer dereference at net/http.(*conn).serve.func1":            {1, true},
				"fatal error: all goroutines are asleep - deadlock! at main.main":                                                    {1, true},
				"http: panic serving N.N.N.N:N: runtime error: index out of range [N] with length N at net/http.(*conn).serve.func1": {1, true},
			},
		},
		{
			name: "python tracebacks",
			in: `Traceback (most recent call last):
  File "/app/worker.py", line 12, in handle
    value = int(raw)
ValueError: invalid literal for int() with base 10: 'abc'
ERROR:root:job 17 failed
Traceback (most recent call last):
  File "/app/jobs.py", line 3, in run
    1/0
ZeroDivisionError: division by zero

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/app/jobs.py", line 5, in run
    raise RuntimeError("job failed")
RuntimeError: job failed
INFO:root:next
`,
			want: map[string]want{
				`ValueError: invalid literal for int() with base N: 'abc' at File "/app/worker.py", line N, in handle`: {1, false},
				"ERROR root:job N failed | RuntimeError: job failed":                                                   {1, false},
			},
		},
		{
			name: "kubelet timestamps are stripped",
			in: `2026-11-24T09:12:33.123456789Z 2026-11-24 09:12:33 ERROR [main] c.e.Foo - boom 1
2026-11-24T09:12:34.000000001Z 2026-11-24 09:12:34 ERROR [main] c.e.Foo - boom 2
2026-11-24T09:12:34.000000001Z java.lang.IllegalStateException: x
2026-11-24T09:12:34.000000001Z 	at com.foo.Bar.baz(Bar.java:1)
2026-11-24T09:12:35.5Z E1124 09:12:35.000000       1 x.go:1] klog behind a timestamp
2026-11-24T09:12:36Z {"level":"error","msg":"json behind a timestamp"}
`,
			want: map[string]want{
				"ERROR boom N | java.lang.IllegalStateException: x": {1, false},
				"ERROR boom N":                  {1, false},
				"ERROR klog behind a timestamp": {1, false},
				"ERROR json behind a timestamp": {1, false},
			},
		},
		{
			name: "CRLF and colours",
			in:   "2026-11-24 09:12:33 \x1b[31mERROR\x1b[0m boom\r\n2026-11-24 09:12:33 ERROR boom\r\n",
			want: map[string]want{"ERROR boom": {2, false}},
		},
		{
			name: "last line without newline",
			in:   "INFO ok\nERROR cut by limitBytes at the end of the str",
			want: map[string]want{"ERROR cut by limitBytes at the end of the str": {1, false}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, st := scanString(t, ScannerConfig{}, tc.in)
			checkGroups(t, got, tc.want)
			var n int64
			for _, w := range tc.want {
				n += w.n
			}
			if st.Events != n {
				t.Errorf("Stats.Events = %d, want %d", st.Events, n)
			}
			// The same, a byte at a time: buffer boundaries change nothing.
			sc := NewScanner(ScannerConfig{})
			if err := sc.Scan(iotest.OneByteReader(strings.NewReader(tc.in))); err != nil {
				t.Fatal(err)
			}
			one := make(map[string]Group)
			for _, g := range sc.Top(0) {
				one[g.Signature] = g
			}
			checkGroups(t, one, tc.want)
		})
	}
}

func TestScannerSample(t *testing.T) {
	in := "2026-11-24 09:12:33 ERROR [main] c.e.Foo - Failed\njava.lang.IllegalStateException: boom\n\tat com.foo.Bar.baz(Bar.java:42)\n\tat com.foo.Bar.qux(Bar.java:43)\nCaused by: java.io.IOException: pipe\n\t... 3 more\n" +
		"2026-11-24 09:12:34 ERROR [main] c.e.Foo - Failed\njava.lang.IllegalStateException: boom\n"
	got, _ := scanString(t, ScannerConfig{}, in)
	g := got["ERROR Failed | java.lang.IllegalStateException: boom | caused by java.io.IOException"]
	wantSample := "2026-11-24 09:12:33 ERROR [main] c.e.Foo - Failed\njava.lang.IllegalStateException: boom\n\tat com.foo.Bar.baz(Bar.java:42)\nCaused by: java.io.IOException: pipe"
	if g.Sample != wantSample {
		t.Errorf("sample\n%q\nwant\n%q", g.Sample, wantSample)
	}
	if len(got) != 2 {
		t.Errorf("got %d groups, want 2 (with and without cause)", len(got))
	}

	long := "ERROR " + strings.Repeat("ü", 1000) + "\n"
	got, _ = scanString(t, ScannerConfig{}, long)
	for _, g := range got {
		// The ellipsis is within the bound, as Group.Sample says.
		if n := utf8.RuneCountInString(g.Sample); n != DefaultMaxSampleRunes || !strings.HasSuffix(g.Sample, "…") {
			t.Errorf("sample of %d runes (%q...), want %d, ending with an ellipsis", n, g.Sample[:20], DefaultMaxSampleRunes)
		}
		if !utf8.ValidString(g.Sample) || !utf8.ValidString(g.Signature) {
			t.Error("sample or signature cut inside a rune")
		}
	}
}

func TestScannerLongLines(t *testing.T) {
	const max = 1024
	cfg := ScannerConfig{MaxLineBytes: max}
	in := "ERROR first " + strings.Repeat("x", 5*max) + "\n" + // seen through its start
		strings.Repeat("y", 3*max) + " ERROR too far\n" + // error beyond the cap: not seen
		"ERROR after the long lines\n" +
		"ERROR " + strings.Repeat("z", 100*max) // a long last line, cut
	for _, r := range []struct {
		name string
		r    io.Reader
	}{
		{"whole", strings.NewReader(in)},
		{"one byte at a time", iotest.OneByteReader(strings.NewReader(in))},
		{"half reads", iotest.HalfReader(strings.NewReader(in))},
	} {
		t.Run(r.name, func(t *testing.T) {
			sc := NewScanner(cfg)
			if err := sc.Scan(r.r); err != nil {
				t.Fatal(err)
			}
			st := sc.Stats()
			if st.Events != 3 {
				t.Errorf("events = %d, want 3: %+v", st.Events, sc.Top(0))
			}
			if st.LongLines < 2 {
				t.Errorf("LongLines = %d, want at least 2", st.LongLines)
			}
			if st.Lines != 4 {
				t.Errorf("Lines = %d, want 4", st.Lines)
			}
			if st.Bytes != int64(len(in)) {
				t.Errorf("Bytes = %d, want %d", st.Bytes, len(in))
			}
			for _, g := range sc.Top(0) {
				if len(g.Signature) > maxSignatureBytes {
					t.Errorf("signature of %d bytes", len(g.Signature))
				}
			}
		})
	}
}

func TestScannerSignatureCap(t *testing.T) {
	var b strings.Builder
	for i := range 50 {
		fmt.Fprintf(&b, "ERROR distinct error %c%c\n", 'a'+i%26, 'a'+i/26)
		fmt.Fprintf(&b, "FATAL distinct fatal %c%c\n", 'a'+i%26, 'a'+i/26)
	}
	sc := NewScanner(ScannerConfig{MaxSignatures: 10})
	if err := sc.Scan(strings.NewReader(b.String())); err != nil {
		t.Fatal(err)
	}
	agg := sc.Aggregate()
	if agg.Len() != 10 {
		t.Errorf("Len = %d, want 10", agg.Len())
	}
	if o := agg.Other(); o.Count != 90 || !o.Fatal || o.Sample == "" {
		t.Errorf("Other = %+v, want 90 events, fatal, a sample", o)
	}
	if agg.Events() != 100 {
		t.Errorf("Events = %d, want 100", agg.Events())
	}

	// Merging respects the cap too, deterministically.
	a := NewAggregate(5)
	a.Merge(agg, "pod-a")
	a.Merge(agg, "pod-b")
	if a.Len() != 5 || a.Events() != 200 || a.Other().Count != 200-10 {
		t.Errorf("merged: Len %d Events %d Other %d", a.Len(), a.Events(), a.Other().Count)
	}
	for _, g := range a.Top(0) {
		if g.Source != "pod-a" || g.Count != 2 {
			t.Errorf("merged group %+v: want source pod-a, count 2", g)
		}
	}
}

func TestScannerExclude(t *testing.T) {
	cfg := ScannerConfig{Exclude: []*regexp.Regexp{regexp.MustCompile(`ClientAbortException`), regexp.MustCompile(`^ERROR health`)}}
	in := `ERROR Request failed
org.apache.catalina.connector.ClientAbortException: java.io.IOException: Broken pipe
	at org.apache.catalina.connector.OutputBuffer.realWriteBytes(OutputBuffer.java:341)
ERROR health probe failed
ERROR real problem
`
	got, st := scanString(t, cfg, in)
	checkGroups(t, got, map[string]want{"ERROR real problem": {1, false}})
	if st.Excluded != 2 {
		t.Errorf("Excluded = %d, want 2", st.Excluded)
	}
}

func TestScannerReadError(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("ERROR one\nERROR two\nERROR thr"), iotest.ErrReader(boom))
	sc := NewScanner(ScannerConfig{})
	if err := sc.Scan(r); !errors.Is(err, boom) {
		t.Fatalf("Scan = %v, want %v", err, boom)
	}
	if n := sc.Stats().Events; n != 3 {
		t.Errorf("events = %d, want 3 (what was read before the error counts)", n)
	}
	// The next stream starts afresh.
	if err := sc.Scan(strings.NewReader("\tat com.foo.Bar(Bar.java:1)\n")); err != nil {
		t.Fatal(err)
	}
	if n := sc.Stats().Events; n != 3 || sc.Stats().Streams != 2 {
		t.Errorf("after a second stream: %+v", sc.Stats())
	}
}

// TestScannerGenerated scans generated logs of every format, in one go and
// in random chunks, and checks the events against what the generator says
// it wrote: one group per kind of event, with its exact count.
func TestScannerGenerated(t *testing.T) {
	for _, format := range []logstest.Format{logstest.Plain, logstest.JSON, logstest.Klog} {
		for _, ts := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/timestamps=%v", format, ts), func(t *testing.T) {
				var buf bytes.Buffer
				stats, err := logstest.GenerateWith(&buf, logstest.Options{Size: 4 << 20, Seed: 7, ErrorRatio: 0.03, Format: format, Timestamps: ts})
				if err != nil {
					t.Fatal(err)
				}
				sc := NewScanner(ScannerConfig{})
				if err := sc.Scan(bytes.NewReader(buf.Bytes())); err != nil {
					t.Fatal(err)
				}
				st := sc.Stats()
				if st.Events != stats.Events || st.Lines != stats.Lines || st.Bytes != stats.Bytes {
					t.Errorf("scanner %+v, generator %+v", st, stats)
				}
				groups := sc.Top(0)
				if len(groups) != len(stats.EventsByKind) {
					for _, g := range groups {
						t.Logf("%6d %s", g.Count, g.Signature)
					}
					t.Errorf("%d groups, want %d (one per kind: %v)", len(groups), len(stats.EventsByKind), stats.EventsByKind)
				}
				var counts, kinds []int64
				var fatal int64
				for _, g := range groups {
					counts = append(counts, g.Count)
					if g.Fatal {
						fatal += g.Count
					}
				}
				for _, n := range stats.EventsByKind {
					kinds = append(kinds, n)
				}
				if !sameCounts(counts, kinds) {
					t.Errorf("group counts %v, generated %v", counts, stats.EventsByKind)
				}
				if fatal != stats.FatalEvents {
					t.Errorf("fatal events %d, want %d", fatal, stats.FatalEvents)
				}

				// Random chunk sizes give the same result.
				sc2 := NewScanner(ScannerConfig{})
				if err := sc2.Scan(&chunkReader{data: buf.Bytes(), rnd: rand.New(rand.NewPCG(1, 2))}); err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(sc2.Top(0)) != fmt.Sprint(groups) || sc2.Stats() != st {
					t.Errorf("chunked reads differ: %+v", sc2.Stats())
				}
			})
		}
	}
}

func sameCounts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	seen := make(map[int64]int)
	for _, n := range a {
		seen[n]++
	}
	for _, n := range b {
		seen[n]--
	}
	for _, v := range seen {
		if v != 0 {
			return false
		}
	}
	return true
}

// chunkReader returns data in chunks of random sizes (1 byte to 100 KiB).
type chunkReader struct {
	data []byte
	rnd  *rand.Rand
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(r.data), 1+r.rnd.IntN(100<<10))
	if r.rnd.IntN(4) == 0 {
		n = min(n, 1+r.rnd.IntN(16))
	}
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// TestScannerMemoryBounded scans 100 MB of generated logs through a
// reader and checks that the scanner keeps no more than its groups: the
// heap grows by a small, fixed amount, whatever the size of the input.
func TestScannerMemoryBounded(t *testing.T) {
	size := int64(100 << 20)
	if testing.Short() {
		size = 20 << 20
	}
	sc := NewScanner(ScannerConfig{MaxSignatures: 50})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := logstest.NewReader(logstest.Options{Size: size, Seed: 3, ErrorRatio: 0.05})
	if err := sc.Scan(r); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if sc.Stats().Bytes != size {
		t.Fatalf("read %d bytes, want %d", sc.Stats().Bytes, size)
	}
	if n := sc.Aggregate().Len(); n > 50 {
		t.Errorf("%d groups tracked, want at most 50", n)
	}
	if sc.Stats().Events < 1000 {
		t.Errorf("only %d events: the input is not what the test expects", sc.Stats().Events)
	}
	// Live heap after the scan: the groups and a few buffers, nowhere near
	// the input's size.
	t.Logf("%d bytes, %d lines, %d events: live heap %+d bytes, %d allocations, %d bytes allocated",
		size, sc.Stats().Lines, sc.Stats().Events, int64(after.HeapAlloc)-int64(before.HeapAlloc), after.Mallocs-before.Mallocs, after.TotalAlloc-before.TotalAlloc)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 4<<20 {
		t.Errorf("live heap grew by %d bytes scanning %d bytes", grew, size)
	}
	// Allocations during the scan (the generator's included): a few per
	// group, not per line or per event (about 100 here).
	if mallocs := after.Mallocs - before.Mallocs; mallocs > 2000 {
		t.Errorf("%d allocations scanning %d lines", mallocs, sc.Stats().Lines)
	}
	if total := after.TotalAlloc - before.TotalAlloc; total > 4<<20 {
		t.Errorf("%d bytes allocated scanning %d bytes", total, size)
	}
}

func TestScannerAllocsPerStream(t *testing.T) {
	var buf bytes.Buffer
	if _, err := logstest.GenerateWith(&buf, logstest.Options{Size: 1 << 20, Seed: 5, ErrorRatio: 0.05}); err != nil {
		t.Fatal(err)
	}
	sc := NewScanner(ScannerConfig{})
	sc.Scan(bytes.NewReader(buf.Bytes())) // groups exist from now on
	allocs := testing.AllocsPerRun(5, func() {
		sc.Scan(bytes.NewReader(buf.Bytes()))
	})
	// The reader, and nothing per line or per event once groups exist.
	if allocs > 5 {
		t.Errorf("%.0f allocations per 1 MiB stream with known signatures", allocs)
	}
}

// BenchmarkScanner measures the scanner's throughput on generated logs
// (2% of the statements are error events, many with stack traces, plus
// lines that fool grep). Compare with `grep -c -i error` on the same
// bytes: logstest.Generate writes them.
func BenchmarkScanner(b *testing.B) {
	for _, bc := range []struct {
		name string
		o    logstest.Options
	}{
		{"plain", logstest.Options{Format: logstest.Plain}},
		{"json", logstest.Options{Format: logstest.JSON}},
		{"klog", logstest.Options{Format: logstest.Klog}},
		{"plain+timestamps", logstest.Options{Format: logstest.Plain, Timestamps: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			o := bc.o
			o.Size, o.Seed, o.ErrorRatio = 32<<20, 1, 0.02
			var buf bytes.Buffer
			buf.Grow(int(o.Size))
			if _, err := logstest.GenerateWith(&buf, o); err != nil {
				b.Fatal(err)
			}
			data := buf.Bytes()
			sc := NewScanner(ScannerConfig{})
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				sc.Reset()
				if err := sc.Scan(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestIndexHTTPPanic(t *testing.T) {
	for _, s := range []string{
		"", "http: panic serving", "http: panic serving ", "x http: panic serving 10.0.0.7:1: boom",
		"level=v vv http: panic servin http: panic serving v", "serving http: panic serving",
		"http: panic serving http: panic serving ", "vvvvvvvvvvvvvvvvvvvvvvvvv", "ttp: panic serving x",
	} {
		if got, want := indexHTTPPanic([]byte(s)), strings.Index(s, httpPanic); got != want {
			t.Errorf("indexHTTPPanic(%q) = %d, want %d", s, got, want)
		}
	}
}

// emptyReader returns nothing, forever.
type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

func TestScannerNoProgress(t *testing.T) {
	if err := NewScanner(ScannerConfig{}).Scan(emptyReader{}); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("Scan = %v, want io.ErrNoProgress", err)
	}
}
