// Package logs is the runbook's "read the logs" look: what errors did the
// environment's containers log over the window (yesterday 9am to now)?
// Instead of `kubectl logs ... | grep -i error` pod by pod, it streams
// every container's log through a Scanner that groups error events by
// signature, and reports the largest groups per workload.
//
// # Which logs
//
// In each namespace, the Running pods and the pods with restarts (any
// phase). Every container of the spec (and native sidecars: init
// containers with restartPolicy Always), or only those named in the
// containers allow-list. A container that never started is counted as
// such, without a request. Each log is read with sinceSeconds = the window
// and limitBytes (the API returns the first limitBytes of the window).
// For a container running again after a restart inside the window, the
// previous instance's log is read too; a container waiting to restart
// (CrashLoopBackOff) needs no such request: the kubelet answers with its
// last instance's log. Concurrency logs are read at once, each streamed
// straight into a Scanner: nothing is held in memory but the groups.
//
// # What is an error event
//
// A line is looked at only if it contains one of error, fatal, panic,
// crit, severe (lower case, capitalised or upper case), Exception or
// Traceback, or, in a klog stream, starts with E or F and a date. It
// starts an error event when
//
//   - it is a JSON object whose level ("level", "lvl", "severity",
//     "levelname", "log.level", "@l", or "level" in a "log" object) is
//     error, err, severe, fatal, critical, crit, panic, dpanic, alert or
//     emerg(ency), in any case, or a number of 50 or more (pino, bunyan:
//     when the stream's first JSON line has a numeric level); the line
//     must still pass the prefilter above, so a bare "err" or "alert" is
//     only seen with one of the words in it;
//     its message is "msg", "message", "@m" or "@mt", plus "error"/"err"
//     (or error.message), and its stack trace "exception", "stack_trace",
//     "stack", "error.stack", "@x" or "exc_info";
//   - it is a klog line (E1124 09:12:33.123456 1 file.go:12] msg) of
//     severity E or F; I and W lines are not errors whatever they say;
//   - it starts with "panic: " or "fatal error: " (Go), or "Traceback
//     (most recent call last):" (Python), or has net/http's "http: panic
//     serving";
//   - it is a Java, Kotlin or .NET exception (a dotted class name ending
//     in Exception, Error or Throwable, alone or followed by ": message",
//     maybe after `Exception in thread "x" `), unless the line before it is
//     a WARN, DEBUG or TRACE log line: then it is that line's stack trace;
//   - or its level is an error level. The level of a text line is its
//     first level marker: a level word (ERROR, FATAL, CRITICAL, CRIT,
//     PANIC, SEVERE for errors; INFO, WARN, DEBUG... for the others) in
//     capitals anywhere, or in any case (error, Error) after a level key
//     (level=, lvl=, severity:), in brackets ([error], <Error>), or as the
//     first word after the line's timestamp ("error: ...", "Error: ...").
//     So "INFO processed 0 errors", "error_count=0", "Mirror synced",
//     "level=info msg=... error=..." and "WARN ... ERROR" are not errors.
//     An error word followed by a zero value (error=0, error: nil,
//     ERROR=none, err=<nil>, error="") or after a negation ("no error",
//     "non-fatal") is not a marker.
//
// The lines after the first that continue an event are part of it, so a
// stack trace is one event: stack frames (indented "at ..."), "... N more",
// "Caused by: ...", "Suppressed: ...", an exception right after an error
// line, .NET's "--->" lines; a Go panic's goroutine dump; a Python
// traceback up to its exception line.
//
// FATAL, CRITICAL, CRIT, PANIC, klog F, JSON fatal/critical/panic/alert/
// emergency, Go panics and fatal errors are fatal: their group is a Fail
// finding whatever its count.
//
// Cheap things first: lines without a pattern are skipped a buffer at a
// time (in one pass, 32 bytes per step on amd64 with AVX2, where only the
// places with a three-byte piece of a pattern, in any case, are looked at
// closely), and a JSON line whose "level" is plainly info, warn, debug,
// trace or notice is dropped without being parsed; only events are
// normalised.
//
// # Signatures
//
// An event's signature is its level and message, normalised (see
// Normalize: timestamps dropped, numbers, ids, UUIDs and addresses
// replaced), followed by " | " and the exception ("Class: message",
// normalised) and " | caused by " and the root cause's class when there
// is a stack trace. An exception on its own, a panic or a Python
// traceback has the exception and its first (Python: last) frame. In
// plain text the message starts after the header of the usual layouts
// (Spring Boot's "LEVEL pid --- [thread] logger : ", logback's
// "[thread] LEVEL logger - "), so that thread names do not split groups.
//
// # Findings
//
// One finding per workload (Deployment, StatefulSet, DaemonSet, Job,
// CronJob, or bare Pod), container and signature, with the number of
// events, one sample (the first event's lines as logged, at most 300
// runes) and the pod it comes from. The fingerprint is
// logs/<namespace>/<kind>/<name>/<container>/<signature>: no pod names,
// hashes or counts. A pod's workload comes from its controller: a
// ReplicaSet's name loses the pod's pod-template-hash label (Deployment);
// a Job named <name>-<8 or more digits> is taken to be CronJob <name>'s.
// Only the top findings by count are reported; the summary counts the
// rest, the logs that could not be read and those cut at limitBytes. The
// check is Unknown only when it could look at no log at all.
package logs

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/redact"
)

// LogStreamer opens the log of one container: the check's only way to
// read logs, so that tests can serve their own.
type LogStreamer interface {
	Stream(ctx context.Context, namespace, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error)
}

// KubeStreamer reads logs through the Kubernetes API (GET pods/log).
//
// Its streams share client-go's one HTTP/2 connection to the API server.
// HTTP/1.1 (a connection per stream) was measured against it with
// bench/logspeed (issue 14): neither was faster beyond the noise (32
// streams, medians: 2,000 logs of 100 KiB, 3.8 s on HTTP/2 against 4.2 s
// on HTTP/1.1; 1,000 logs, 2.7 s against 2.2 s; 2,000 logs of 4 KiB, 2.3 s
// against 2.4 s), and opsbot's and the API server's CPU time per MB
// differed by less than the runs did. The one connection's frames are not
// the limit: the API server's proxying and the kubelet are.
type KubeStreamer struct {
	Client kubernetes.Interface
}

// Stream implements LogStreamer.
func (k KubeStreamer) Stream(ctx context.Context, namespace, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error) {
	return k.Client.CoreV1().Pods(namespace).GetLogs(pod, opts).Stream(ctx)
}

// Option configures a Check beyond its Config.
type Option func(*Check)

// WithStreamer makes the check read logs with s instead of through the
// Kubernetes client (pods are still listed with the client).
func WithStreamer(s LogStreamer) Option { return func(c *Check) { c.streamer = s } }

// Check reads the logs of the pods of some namespaces.
type Check struct {
	kube       kubernetes.Interface
	namespaces []string
	cfg        Config
	exclude    []*regexp.Regexp
	cfgErr     error
	now        func() time.Time
	logger     *zap.Logger
	streamer   LogStreamer
	state      StateStore // nil: every log is read in full
	env        string
	redactor   redact.Redactor // of what the state keeps
}

// pageSize is the Limit of each List call.
const pageSize = 500

// New returns the logs check for the pods of namespaces. cfg is defaulted
// (Window: DefaultWindow if zero; the caller copies the environment's
// window in first). An invalid cfg (normally rejected by the config
// package already) makes Run report Unknown with the reason. now is the
// clock (time.Now if nil).
func New(kube kubernetes.Interface, namespaces []string, cfg Config, now func() time.Time, logger *zap.Logger, opts ...Option) *Check {
	cfg.SetDefaults()
	if cfg.Window == 0 {
		cfg.Window = model.Duration(DefaultWindow)
	}
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	c := &Check{
		kube:       kube,
		namespaces: slices.Clone(namespaces),
		cfg:        cfg,
		now:        now,
		logger:     logger,
		streamer:   KubeStreamer{Client: kube},
	}
	c.cfgErr = cfg.Validate()
	if c.cfgErr == nil {
		c.exclude, _ = compileExclude(cfg.Exclude)
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Name returns "logs".
func (c *Check) Name() string { return "logs" }

// Timeout returns the check's deadline (config key timeout).
func (c *Check) Timeout() time.Duration { return time.Duration(c.cfg.Timeout) }

// owner is the workload a pod belongs to.
type owner struct{ kind, name string }

// target is one log to read.
type target struct {
	namespace, pod, container string
	owner                     owner
	previous                  bool
	// id and restarts identify the container instance (incremental
	// reading: another instance is read in full).
	id       string
	restarts int32
}

// groupKey identifies the aggregate a log's events go to.
type groupKey struct {
	namespace string
	owner     owner
	container string
}

// Run lists the pods, reads their logs and reports the largest groups of
// error events.
func (c *Check) Run(ctx context.Context) checks.Result {
	if c.cfgErr != nil {
		return checks.UnknownResult("invalid configuration: " + c.cfgErr.Error())
	}
	if len(c.namespaces) == 0 {
		return checks.UnknownResult("no namespaces configured")
	}
	if c.kube == nil {
		return checks.UnknownResult("no Kubernetes client")
	}
	ctx, cancel := context.WithTimeoutCause(ctx, c.Timeout(), fmt.Errorf("logs not read within %s", c.Timeout()))
	defer cancel()

	// The pods are listed while the logs are read: each page's logs are
	// read as soon as it arrives (at 10,000 pods the list is 20 pages),
	// and no list of every log is held. The last run's state is read (and
	// parsed: at 2,000 containers it is megabytes of JSON) while the first
	// page is on its way.
	var s survey
	targets := make(chan target)
	listed := make(chan struct{})
	go func() {
		defer close(listed)
		defer close(targets)
		for _, ns := range c.namespaces {
			if err := c.list(ctx, ns, &s, targets); err != nil {
				c.logger.Warn("could not list pods", zap.String("namespace", ns), zap.Error(err))
				s.listErrs = append(s.listErrs, fmt.Sprintf("listing pods in %s: %v", ns, err))
			}
		}
	}()
	r := &reading{aggs: make(map[groupKey]*Aggregate), readFrom: make(map[[3]string]bool)}
	if c.state != nil {
		now := c.now()
		r.now, r.windowStart = now, now.Add(-time.Duration(c.cfg.Window))
		r.st, r.stateReason = c.loadState(ctx)
		r.next = &runState{Version: stateVersion, Config: c.configHash(), Containers: make(map[string]*containerState)}
		r.full = make(map[string]int)
	}
	c.read(ctx, targets, r)
	<-listed // s is whole
	if len(s.listErrs) == len(c.namespaces) {
		return checks.UnknownResult(strings.Join(s.listErrs, "; "))
	}
	if c.state != nil {
		data, err := encodeState(r.next)
		if err == nil {
			err = c.state.SaveLogState(ctx, c.env, data)
		}
		if err != nil {
			c.logger.Warn("could not save the logs state", zap.Error(err))
			r.saveErr = err
		}
	}
	return c.result(ctx, &s, r)
}

// survey is what listing the pods found.
type survey struct {
	pods       int
	logs       int // the logs to read, sent to the readers
	notStarted int
	listErrs   []string
}

// list sends the logs to read in namespace ns to targets, counting them
// in s, one paginated List.
func (c *Check) list(ctx context.Context, ns string, s *survey, targets chan<- target) error {
	since := c.now().Add(-time.Duration(c.cfg.Window))
	opts := metav1.ListOptions{Limit: pageSize}
	for {
		page, err := c.kube.CoreV1().Pods(ns).List(ctx, opts)
		if err != nil {
			if cause := context.Cause(ctx); cause != nil {
				return cause
			}
			return err
		}
		for i := range page.Items {
			for _, t := range c.podTargets(&page.Items[i], since, s) {
				select {
				case targets <- t:
					s.logs++
				case <-ctx.Done():
					return context.Cause(ctx)
				}
			}
		}
		if page.Continue == "" {
			return nil
		}
		opts.Continue = page.Continue
	}
}

// podTargets returns the logs of one pod to read, counting the pod and its
// containers that never started in s.
func (c *Check) podTargets(pod *corev1.Pod, since time.Time, s *survey) (out []target) {
	statuses := make(map[string]*corev1.ContainerStatus)
	restarted := false
	for _, list := range [][]corev1.ContainerStatus{pod.Status.ContainerStatuses, pod.Status.InitContainerStatuses} {
		for i := range list {
			statuses[list[i].Name] = &list[i]
			restarted = restarted || list[i].RestartCount > 0
		}
	}
	if pod.Status.Phase != corev1.PodRunning && !restarted {
		return nil
	}
	s.pods++
	names := make([]string, 0, len(pod.Spec.Containers))
	for _, ct := range pod.Spec.InitContainers {
		if ct.RestartPolicy != nil && *ct.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			names = append(names, ct.Name) // a native sidecar
		}
	}
	for _, ct := range pod.Spec.Containers {
		names = append(names, ct.Name)
	}
	o := podOwner(pod)
	for _, name := range names {
		if len(c.cfg.Containers) > 0 && !slices.Contains(c.cfg.Containers, name) {
			continue
		}
		st := statuses[name]
		last := (*corev1.ContainerStateTerminated)(nil)
		if st != nil {
			last = st.LastTerminationState.Terminated
		}
		if st == nil || (st.State.Running == nil && st.State.Terminated == nil && last == nil) {
			s.notStarted++
			continue
		}
		t := target{namespace: pod.Namespace, pod: pod.Name, container: name, owner: o,
			id: st.ContainerID, restarts: st.RestartCount}
		out = append(out, t)
		if st.State.Running != nil && last != nil && !last.FinishedAt.Time.Before(since) {
			t.previous, t.id = true, last.ContainerID
			out = append(out, t)
		}
	}
	return out
}

// podOwner is the workload of a pod (see the package documentation).
func podOwner(pod *corev1.Pod) owner {
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind == "Node" { // a bare or static pod
		return owner{"Pod", pod.Name}
	}
	switch ref.Kind {
	case "ReplicaSet":
		if h := pod.Labels["pod-template-hash"]; h != "" && strings.HasSuffix(ref.Name, "-"+h) {
			return owner{"Deployment", strings.TrimSuffix(ref.Name, "-"+h)}
		}
	case "Job":
		if i := strings.LastIndexByte(ref.Name, '-'); i > 0 && len(ref.Name)-i-1 >= 8 && allDigits(ref.Name[i+1:]) {
			return owner{"CronJob", ref.Name[:i]}
		}
	}
	return owner{ref.Kind, ref.Name}
}

func allDigits(s string) bool {
	for i := range len(s) {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// reading is what reading the logs gave.
type reading struct {
	mu        sync.Mutex
	aggs      map[groupKey]*Aggregate
	bytes     int64
	read      int                // logs read to their end
	partial   int                // logs whose reading the end of ctx cut short
	cut       int                // logs that reached limitBytes
	failed    []string           // "ns/pod/container: reason" per unreadable log
	broken    []string           // the same for logs whose stream broke off
	readFrom  map[[3]string]bool // (namespace, pod, container) read at least once
	excluded  int64
	longLines int64

	// Incremental reading (WithState).
	now, windowStart time.Time
	st               *runState      // the last run's state; nil: none usable
	stateReason      string         // why st is nil
	next             *runState      // the state to save
	incremental      int            // logs read from where the last run stopped
	full             map[string]int // logs read in full, by reason
	saveErr          error
}

// read reads the logs sent to targets until it is closed, at most
// Concurrency at once. A reader makes its Scanner when it gets its first
// log: a namespace of three pods does not pay for 32.
func (c *Check) read(ctx context.Context, targets <-chan target, r *reading) {
	var wg sync.WaitGroup
	for range c.cfg.Concurrency {
		wg.Go(func() {
			var sc *Scanner
			for t := range targets {
				if sc == nil {
					sc = NewScanner(ScannerConfig{Exclude: c.exclude})
				}
				c.readOne(ctx, sc, t, r)
			}
		})
	}
	wg.Wait()
}

// readOne streams one log into sc and merges what it found into r.
func (c *Check) readOne(ctx context.Context, sc *Scanner, t target, r *reading) {
	if ctx.Err() != nil {
		return
	}
	var prev *containerState
	reason := ""
	if c.state != nil {
		prev, reason = c.plan(t, r.st, r.stateReason, r.windowStart)
		if prev != nil && t.previous {
			// A terminated instance's log does not change.
			c.keep(t, prev, r)
			return
		}
	}
	secs := int64(time.Duration(c.cfg.Window) / time.Second)
	limit := int64(c.cfg.LimitBytes)
	where := t.namespace + "/" + t.pod + "/" + t.container
	if t.previous {
		where += " (previous)"
	}
	// The log's fields are encoded only when something is logged: a
	// logger.With per log would encode them for each of thousands of logs.
	fields := func(more ...zap.Field) []zap.Field {
		return append([]zap.Field{zap.String("namespace", t.namespace), zap.String("pod", t.pod),
			zap.String("container", t.container), zap.Bool("previous", t.previous)}, more...)
	}
again:
	opts := &corev1.PodLogOptions{
		Container:  t.container,
		LimitBytes: &limit,
		Previous:   t.previous,
		Timestamps: c.state != nil,
	}
	var after time.Time
	if prev != nil {
		after = prev.Pos
		since := prev.Pos
		if since.IsZero() {
			since = prev.ReadAt // the log was empty then
		}
		opts.SinceTime = &metav1.Time{Time: since.Truncate(time.Second)}
	} else {
		opts.SinceSeconds = &secs
	}
	body, err := c.streamer.Stream(ctx, t.namespace, t.pod, opts)
	if err != nil {
		if ctx.Err() != nil {
			return // not the log's fault: the summary says the check stopped
		}
		c.logger.Warn("could not read log", fields(zap.Error(err))...)
		r.mu.Lock()
		r.failed = append(r.failed, where+": "+shortError(err))
		r.mu.Unlock()
		return
	}
	// Close the body when ctx ends, so that a stalled read returns.
	stop := context.AfterFunc(ctx, func() { body.Close() })
	sc.Reset()
	var in io.Reader = body
	var tr *tsReader
	var h *history
	if c.state != nil {
		tr = newTSReader(body, after)
		h = newHistory(prev, minuteOf(r.windowStart), minuteOf(r.now), tr, c.redactor)
		in, sc.onEvent = tr, h.add
	}
	err = sc.Scan(in)
	sc.onEvent = nil
	stop()
	body.Close()
	st := sc.Stats()
	if tr != nil {
		st.Bytes = tr.raw
		if prev != nil && !prev.Pos.IsZero() && !tr.sawPos && err == nil {
			// The log no longer holds the last line read: rotated.
			r.mu.Lock()
			r.bytes += tr.raw
			r.mu.Unlock()
			prev, reason = nil, fullRotated
			goto again
		}
	}
	if err != nil && ctx.Err() == nil {
		c.logger.Warn("log stream failed", fields(zap.Error(err), zap.Int64("bytes", st.Bytes))...)
	}
	if ce := c.logger.Check(zap.DebugLevel, "log read"); ce != nil {
		ce.Write(fields(zap.Int64("bytes", st.Bytes), zap.Int64("events", st.Events))...)
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	stopped := err != nil && ctx.Err() != nil
	if err != nil && !stopped && st.Bytes == 0 {
		r.failed = append(r.failed, where+": "+shortError(err))
		return
	}
	if stopped && st.Bytes == 0 {
		return
	}
	if err != nil && !stopped {
		r.broken = append(r.broken, where+": "+shortError(err))
	}
	found := sc.Aggregate()
	if h != nil {
		sigs := h.signatures()
		found = aggregate(sigs)
		if !stopped && err == nil {
			pos := tr.last()
			if pos.IsZero() && prev != nil {
				pos = prev.Pos
			}
			r.next.Containers[stateKey(t)] = &containerState{ID: t.id, Restarts: t.restarts, Pos: pos,
				ReadAt: r.now, Cut: st.Bytes >= limit, Signatures: sigs}
		}
		if reason == "" {
			r.incremental++
		} else {
			r.full[reason]++
		}
	}
	r.merge(t, found)
	r.bytes += st.Bytes
	if stopped {
		r.partial++
	} else {
		r.read++
	}
	r.excluded += st.Excluded
	r.longLines += st.LongLines
	if st.Bytes >= int64(c.cfg.LimitBytes) {
		r.cut++
	}
}

// keep counts the events of a log that is not read again, as the last run
// found them, within the window.
func (c *Check) keep(t target, prev *containerState, r *reading) {
	sigs := newHistory(prev, minuteOf(r.windowStart), 0, nil, c.redactor).signatures()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.merge(t, aggregate(sigs))
	next := *prev
	next.ReadAt, next.Signatures = r.now, sigs
	r.next.Containers[stateKey(t)] = &next
	r.read++
	r.incremental++
}

// merge adds what one log of t's workload held to the workload's groups,
// and notes the log as read. r.mu must be held.
func (r *reading) merge(t target, found *Aggregate) {
	source := t.pod
	if t.previous {
		source += " (previous instance)"
	}
	key := groupKey{t.namespace, t.owner, t.container}
	agg := r.aggs[key]
	if agg == nil {
		agg = NewAggregate(DefaultMaxSignatures)
		r.aggs[key] = agg
	}
	agg.Merge(found, source)
	r.readFrom[[3]string{t.namespace, t.pod, t.container}] = true
}

// shortError is the first line of an error, at most 200 bytes.
func shortError(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// finding is a group of events of one workload and container.
type finding struct {
	key   groupKey
	group Group
	other bool
}

// result turns the groups into findings and a summary.
func (c *Check) result(ctx context.Context, s *survey, r *reading) checks.Result {
	var all []finding
	var events int64
	for key, agg := range r.aggs {
		for _, g := range agg.Top(0) {
			if g.Count >= int64(c.cfg.MinCount) {
				all = append(all, finding{key: key, group: g})
			}
		}
		if o := agg.Other(); o.Count >= int64(c.cfg.MinCount) {
			all = append(all, finding{key: key, group: o, other: true})
		}
		events += agg.Events()
	}
	signatures := len(all)
	findings := make([]checks.Finding, 0, min(len(all), c.cfg.Top))
	for _, f := range all {
		findings = append(findings, c.finding(f))
	}
	slices.SortFunc(findings, func(a, b checks.Finding) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Fingerprint, b.Fingerprint))
	})
	more := 0
	if len(findings) > c.cfg.Top {
		more = len(findings) - c.cfg.Top
		findings = findings[:c.cfg.Top]
	}

	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s read: ", plural(len(r.readFrom), "container"), checks.HumanBytes(r.bytes))
	switch signatures {
	case 0:
		b.WriteString("no errors")
	default:
		fmt.Fprintf(&b, "%s (%s)", plural(signatures, "error signature"), plural(int(events), "event"))
	}
	if more > 0 {
		fmt.Fprintf(&b, "; top %d shown, and %s", c.cfg.Top, plural(more, "more signature"))
	}
	if s.notStarted > 0 {
		fmt.Fprintf(&b, "; %s not started", plural(s.notStarted, "container"))
	}
	if r.cut > 0 {
		fmt.Fprintf(&b, "; %s cut at limitBytes (%s: only the start of the window read)", plural(r.cut, "log"), c.cfg.LimitBytes)
	}
	unreadable := ""
	if len(r.failed) > 0 {
		slices.Sort(r.failed)
		unreadable = fmt.Sprintf("%s unreadable (%s)", plural(len(r.failed), "log"), r.failed[0])
		b.WriteString("; " + unreadable)
	}
	if len(r.broken) > 0 {
		slices.Sort(r.broken)
		fmt.Fprintf(&b, "; %s broken off (%s)", plural(len(r.broken), "log"), r.broken[0])
	}
	if c.state != nil {
		b.WriteString("; " + fullSummary(r.incremental, r.full))
		if r.saveErr != nil {
			b.WriteString("; state not saved: " + shortError(r.saveErr))
		}
	}
	for _, e := range s.listErrs {
		b.WriteString("; ")
		b.WriteString(e)
	}
	stopped := ctx.Err() != nil
	if stopped {
		fmt.Fprintf(&b, "; stopped after %d of %d logs: %v", r.read, s.logs, context.Cause(ctx))
	}

	switch nothing := s.logs > 0 && r.read+r.partial == 0; {
	case nothing && len(r.failed) > 0:
		return checks.UnknownResult("no log could be read: " + unreadable)
	case nothing && stopped:
		return checks.UnknownResult(fmt.Sprintf("no log read: %v", context.Cause(ctx)))
	case s.pods == 0 && len(s.listErrs) == 0:
		return checks.Result{Status: checks.OK, Summary: "no running pods in " + strings.Join(c.namespaces, ", ")}
	}
	return checks.Result{Status: checks.Summarize(findings), Summary: b.String(), Findings: findings}
}

// finding builds the checks.Finding of a group.
func (c *Check) finding(f finding) checks.Finding {
	k, g := f.key, f.group
	object := k.owner.kind + " " + k.namespace + "/" + k.owner.name
	sev := checks.Warn
	if g.Fatal || g.Count >= int64(c.cfg.FailThreshold) {
		sev = checks.Fail
	}
	sig, what := cmp.Or(g.ID, signatureID(g.Signature)), "`"+g.Signature+"`"
	if f.other {
		sig = "other"
		what = fmt.Sprintf("errors of other signatures (more than %d distinct)", DefaultMaxSignatures)
	}
	pod := strings.TrimSuffix(g.Source, " (previous instance)")
	out := checks.Finding{
		Fingerprint: checks.Fingerprint("logs", k.namespace, k.owner.kind+"/"+k.owner.name, k.container, sig),
		Severity:    sev,
		Object:      object,
		Title:       fmt.Sprintf("%s (%s): %s× %s", k.container, object, checks.Thousands(g.Count), what),
		Detail:      g.Sample,
		Count:       int(g.Count),
	}
	if g.Source != "" {
		out.Detail += "\n(pod " + g.Source + ")"
	}
	if c.cfg.Link != "" {
		out.Link = expandLink(c.cfg.Link, k.namespace, pod, k.container)
	}
	return out
}

// signatureID is a short, stable identity of a normalised signature for the
// finding's fingerprint: signatures run to hundreds of characters, and a
// fingerprint travels in Slack button values and database keys. The
// signature itself is in the title.
func signatureID(sig string) string {
	sum := sha256.Sum256([]byte(sig))
	return "sig:" + hex.EncodeToString(sum[:6])
}

// plural returns "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return checks.Thousands(int64(n)) + " " + thing + "s"
}

var _ checks.Timed = (*Check)(nil)
