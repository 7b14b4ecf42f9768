package pods

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/internal/httpx"
)

// Fingerprint reasons besides the containers' waiting reasons.
const (
	reasonCrashLoop       = "CrashLoopBackOff"
	reasonImagePull       = "ImagePullBackOff"
	reasonInitFailed      = "InitContainerFailed"
	reasonOOMKilled       = "OOMKilled"
	reasonRestarts        = "Restarts"
	reasonPending         = "Pending"
	reasonNotReady        = "NotReady"
	reasonFailed          = "Failed"
	reasonEvicted         = "Evicted"
	reasonUnknown         = "Unknown"
	reasonTerminating     = "Terminating"
	reasonReplicas        = "ReplicasUnavailable"
	reasonProgressDead    = "ProgressDeadlineExceeded"
	reasonJobFailed       = "JobFailed"
	podTemplateHashLabel  = "pod-template-hash"
	rolloutsTemplateLabel = "rollouts-pod-template-hash" // Argo Rollouts
)

const (
	// maxMessageRunes bounds a message quoted in a finding.
	maxMessageRunes = 300
	// maxPodNames is how many pod names a finding lists.
	maxPodNames = 3
)

// benignWaiting are the waiting reasons of containers on their normal way
// to running.
var benignWaiting = map[string]bool{"ContainerCreating": true, "PodInitializing": true}

// errorWaiting are the waiting reasons reported as Fail; any other reason
// that is not benign is reported as Warn.
var errorWaiting = map[string]bool{
	"CrashLoopBackOff":           true,
	"ImagePullBackOff":           true,
	"ErrImagePull":               true,
	"ErrImageNeverPull":          true,
	"InvalidImageName":           true,
	"ImageInspectError":          true,
	"RegistryUnavailable":        true,
	"SignatureValidationFailed":  true,
	"CreateContainerConfigError": true,
	"CreateContainerError":       true,
	"RunContainerError":          true,
	"PreStartHookError":          true,
	"PostStartHookError":         true,
	"PreCreateHookError":         true,
	"KillContainerError":         true,
	"VerifyNonRootError":         true,
}

// canonicalWaiting maps waiting reasons that alternate for one problem to
// one fingerprint reason.
func canonicalWaiting(reason string) string {
	if reason == "ErrImagePull" {
		return reasonImagePull
	}
	return reason
}

// analyzer turns one namespace's snapshot into findings.
type analyzer struct {
	cfg Config
	now time.Time
}

func (a analyzer) windowStart() time.Time { return a.now.Add(-time.Duration(a.cfg.Window)) }

func (a analyzer) inWindow(t time.Time) bool { return !t.IsZero() && !t.Before(a.windowStart()) }

// owner is what a pod is reported under.
type owner struct{ kind, name string }

// problem is one thing wrong with one pod (or one of its containers).
type problem struct {
	owner     owner
	reason    string // the fingerprint reason
	raw       string // the reason as Kubernetes gave it, for the title
	container string
	init      bool
	severity  checks.Status
	message   string
	pod       string
	at        time.Time // since when (Pending, NotReady...) or when (OOM, restart)
	restarts  int32
	extra     string // e.g. the scheduler's reason of a Pending pod
}

// scan is what the check keeps of one namespace while its pages go by:
// counts, a tally of the live pods per owner, the problems of the unhealthy
// pods, the CronJobs' last runs and the findings made so far; never the
// listed objects, so that it grows with the workloads and the findings,
// not with the pods.
type scan struct {
	namespace string
	seen      map[string]bool // kinds listed completely
	pods      int             // pods listed
	items     int             // objects listed, of every kind
	owners    map[owner]*tally
	problems  []problem
	// jobs are the Jobs that pods with problems or alive are under, by
	// name: whether each was listed and the CronJob it belongs to. Until
	// the Jobs are listed, their pods are tallied under the Job.
	jobs map[string]*jobRef
	// byBase are the Jobs not listed, by their name without its last
	// "-<digits>": the CronJob of that name, if listed, is theirs.
	byBase map[string][]*jobRef
	crons  map[string]*cronRuns // the listed Jobs of each CronJob
	found  []checks.Finding     // the workloads' and Jobs' findings
}

func newScan(namespace string) *scan {
	return &scan{namespace: namespace, seen: map[string]bool{}, owners: map[owner]*tally{},
		jobs: map[string]*jobRef{}, crons: map[string]*cronRuns{}}
}

// tally is what the analysis needs of an owner's live pods (not being
// deleted, not over): how many there are, and for a workload short of
// replicas whether they explain it by settling and which are not Ready.
type tally struct {
	live     int
	recent   int32 // created or changed readiness within rolloutGrace
	creating bool  // one was created within rolloutGrace
	unready  podNames
}

// podNames are the first few of a set of pod names, by name, and how many
// the set has.
type podNames struct {
	first []string // sorted, at most maxPodNames
	n     int
}

func (pn *podNames) add(name string) {
	pn.n++
	i, _ := slices.BinarySearch(pn.first, name)
	if i < maxPodNames {
		pn.first = slices.Insert(pn.first, i, name)
		pn.first = pn.first[:min(len(pn.first), maxPodNames)]
	}
}

// jobRef is a Job pods are under.
type jobRef struct {
	listed bool
	cron   string // the CronJob it belongs to, if any
}

// cronRuns sums up a CronJob's listed Jobs.
type cronRuns struct {
	last           *jobRun // the latest finished, if any
	failedInWindow int     // how many failed inside the window
	suspended      bool
}

// jobRun is a finished Job of a CronJob.
type jobRun struct {
	name     string
	created  time.Time
	failed   bool
	reason   string // the Failed condition's
	message  string
	failedAt time.Time
}

// pod takes one listed pod into the namespace's scan. A pod under a Job is
// tallied under the Job until the Jobs and CronJobs are listed (findings
// resolves it to its CronJob).
func (a analyzer) pod(s *scan, p *corev1.Pod) {
	s.pods++
	s.items++
	o := ownerOf(p, nil)
	ps := a.podProblems(p, o)
	s.problems = append(s.problems, ps...)
	live := p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
	if !live && len(ps) == 0 {
		return
	}
	if o.kind == "Job" && s.jobs[o.name] == nil {
		s.jobs[o.name] = &jobRef{}
	}
	if !live || o.kind == "Pod" {
		return // a bare pod's count is never shown
	}
	t := s.owners[o]
	if t == nil {
		t = &tally{}
		s.owners[o] = t
	}
	t.live++
	created := a.recent(p.CreationTimestamp.Time)
	t.creating = t.creating || created
	c := condition(p.Status.Conditions, corev1.PodReady)
	if created || (c != nil && a.recent(c.LastTransitionTime.Time)) {
		t.recent++
	}
	if c == nil || c.Status != corev1.ConditionTrue {
		t.unready.add(p.Name)
	}
}

// findings reports the findings of one namespace, once every kind has been
// listed (or could not be).
func (a analyzer) findings(s *scan) []checks.Finding {
	resolve := func(o owner) owner {
		if r := s.jobs[o.name]; o.kind == "Job" && r != nil && r.cron != "" {
			return owner{"CronJob", r.cron}
		}
		return o
	}
	total := map[owner]int{} // live pods per owner
	for o, t := range s.owners {
		total[resolve(o)] += t.live
	}
	for i := range s.problems {
		s.problems[i].owner = resolve(s.problems[i].owner)
	}
	findings := a.groupFindings(s.namespace, s.problems, total)
	findings = append(findings, s.found...)
	return append(findings, a.cronJobs(s)...)
}

// ownerOf says what a pod is reported under; see the package comment.
func ownerOf(p *corev1.Pod, cronOf map[string]string) owner {
	ref := metav1.GetControllerOfNoCopy(p)
	if ref == nil {
		return owner{"Pod", p.Name}
	}
	switch ref.Kind {
	case "ReplicaSet":
		if h := p.Labels[podTemplateHashLabel]; h != "" {
			if n, ok := strings.CutSuffix(ref.Name, "-"+h); ok && n != "" {
				return owner{"Deployment", n}
			}
		}
		if h := p.Labels[rolloutsTemplateLabel]; h != "" {
			if n, ok := strings.CutSuffix(ref.Name, "-"+h); ok && n != "" {
				return owner{"Rollout", n}
			}
		}
	case "Job":
		if cj := cronOf[ref.Name]; cj != "" {
			return owner{"CronJob", cj}
		}
	}
	return owner{ref.Kind, ref.Name}
}

// podProblems lists what is wrong with one pod.
func (a analyzer) podProblems(p *corev1.Pod, o owner) []problem {
	mk := func(reason string, sev checks.Status, msg string, at time.Time) problem {
		return problem{owner: o, reason: reason, severity: sev, message: msg, pod: p.Name, at: at}
	}
	if p.DeletionTimestamp != nil {
		// DeletionTimestamp is when the grace period ends.
		if d := p.DeletionTimestamp.Time; a.now.Sub(d) > time.Duration(a.cfg.PendingAfter) {
			msg := nodeMessage(p)
			if len(p.Finalizers) > 0 {
				msg = joinMsg(msg, "finalizers: "+strings.Join(p.Finalizers, ", "))
			}
			return []problem{mk(reasonTerminating, checks.Warn, msg, d)}
		}
		return nil
	}
	switch p.Status.Phase {
	case corev1.PodSucceeded:
		return nil
	case corev1.PodFailed:
		if ref := metav1.GetControllerOfNoCopy(p); ref != nil && ref.Kind == "Job" {
			return nil // the Job's own condition says whether it failed
		}
		at := failedAt(p)
		if p.Status.Reason == "Evicted" {
			at = evictedAt(p)
		}
		if !a.inWindow(at) {
			return nil
		}
		if p.Status.Reason == "Evicted" {
			return []problem{mk(reasonEvicted, checks.Warn, p.Status.Message, at)}
		}
		msg := p.Status.Message
		if msg == "" {
			msg = terminatedContainers(p)
		}
		pr := mk(reasonFailed, checks.Fail, msg, at)
		pr.raw = p.Status.Reason
		return []problem{pr}
	case corev1.PodUnknown:
		msg := p.Status.Message
		if p.Status.Reason != "" {
			msg = strings.TrimSuffix(p.Status.Reason+": "+msg, ": ")
		}
		return []problem{mk(reasonUnknown, checks.Fail, joinMsg(msg, nodeMessage(p)), time.Time{})}
	}

	var out []problem
	explained := false // a container error explains Pending or not Ready
	for _, cs := range p.Status.InitContainerStatuses {
		ps, errs := a.containerProblems(p, cs, true)
		out = append(out, ps...)
		explained = explained || errs
	}
	for _, cs := range p.Status.ContainerStatuses {
		ps, errs := a.containerProblems(p, cs, false)
		out = append(out, ps...)
		explained = explained || errs
	}
	for i := range out {
		out[i].owner = o
	}
	if explained {
		return out
	}
	switch p.Status.Phase {
	case corev1.PodPending:
		since := p.CreationTimestamp.Time
		if a.now.Sub(since) > time.Duration(a.cfg.PendingAfter) {
			pr := mk(reasonPending, checks.Warn, "", since)
			switch c := condition(p.Status.Conditions, corev1.PodScheduled); {
			case c != nil && c.Status != corev1.ConditionTrue:
				pr.extra = c.Reason
				pr.message = c.Message
			case p.Spec.NodeName == "":
				pr.extra = "NotScheduled"
				sched := p.Spec.SchedulerName
				if sched == "" {
					sched = corev1.DefaultSchedulerName
				}
				pr.message = fmt.Sprintf("no scheduler has looked at it (schedulerName %s)", sched)
			default:
				pr.message = joinMsg("scheduled on "+p.Spec.NodeName, waitingContainers(p))
			}
			out = append(out, pr)
		}
	case corev1.PodRunning:
		c := condition(p.Status.Conditions, corev1.PodReady)
		if c == nil || c.Status == corev1.ConditionTrue {
			break
		}
		since := c.LastTransitionTime.Time
		if since.IsZero() && p.Status.StartTime != nil {
			since = p.Status.StartTime.Time
		}
		if !since.IsZero() && a.now.Sub(since) > time.Duration(a.cfg.NotReadyAfter) {
			out = append(out, mk(reasonNotReady, checks.Warn, joinMsg(c.Message, waitingContainers(p)), since))
		}
	}
	return out
}

// containerProblems lists what is wrong with one container; errs says
// whether it is in an error state (which explains its pod being Pending or
// not Ready).
func (a analyzer) containerProblems(p *corev1.Pod, cs corev1.ContainerStatus, init bool) (out []problem, errs bool) {
	mk := func(reason string, sev checks.Status, msg string, at time.Time) problem {
		return problem{reason: reason, container: cs.Name, init: init, severity: sev,
			message: msg, pod: p.Name, at: at, restarts: cs.RestartCount}
	}
	last := cs.LastTerminationState.Terminated
	crashLoop := false
	if w := cs.State.Waiting; w != nil && w.Reason != "" && !benignWaiting[w.Reason] {
		sev := checks.Warn
		if errorWaiting[w.Reason] {
			sev = checks.Fail
		}
		msg := w.Message
		if last != nil {
			msg = joinMsg(msg, "last exit: "+describeExit(last))
		}
		pr := mk(canonicalWaiting(w.Reason), sev, msg, time.Time{})
		pr.raw = w.Reason
		out = append(out, pr)
		crashLoop = w.Reason == reasonCrashLoop
		errs = true
	}
	if t := cs.State.Terminated; init && t != nil && t.ExitCode != 0 && !isSidecar(p, cs.Name) {
		out = append(out, mk(reasonInitFailed, checks.Fail, "exit: "+describeExit(t), t.FinishedAt.Time))
		errs = true
	}

	oom := last
	if t := cs.State.Terminated; t != nil && t.Reason == reasonOOMKilled {
		oom = t
	}
	lastOOM := false
	if oom != nil && oom.Reason == reasonOOMKilled && a.inWindow(oom.FinishedAt.Time) {
		msg := "no memory limit on the container"
		if lim, ok := memoryLimit(p, cs.Name); ok {
			msg = "memory limit " + lim
		}
		msg += fmt.Sprintf(", %d %s", cs.RestartCount, plural(int(cs.RestartCount), "restart", "restarts"))
		out = append(out, mk(reasonOOMKilled, checks.Warn, msg, oom.FinishedAt.Time))
		lastOOM = true
	}

	if !crashLoop && !lastOOM && last != nil && int(cs.RestartCount) >= a.cfg.RestartThreshold &&
		a.inWindow(last.FinishedAt.Time) {
		out = append(out, mk(reasonRestarts, checks.Warn, "last exit: "+describeExit(last), last.FinishedAt.Time))
	}
	return out, errs
}

// groupKey identifies a finding about pods.
type groupKey struct {
	owner     owner
	container string
	reason    string
}

// groupFindings makes one finding per (owner, container, reason).
func (a analyzer) groupFindings(ns string, problems []problem, total map[owner]int) []checks.Finding {
	slices.SortStableFunc(problems, func(x, y problem) int { return cmp.Compare(x.pod, y.pod) })
	groups := map[groupKey][]problem{}
	var keys []groupKey
	for _, pr := range problems {
		k := groupKey{pr.owner, pr.container, pr.reason}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], pr)
	}
	out := make([]checks.Finding, 0, len(keys))
	for _, k := range keys {
		out = append(out, a.podFinding(ns, k, groups[k], total[k.owner]))
	}
	return out
}

// podFinding is the finding of one group of problems, sorted by pod name.
func (a analyzer) podFinding(ns string, k groupKey, ps []problem, total int) checks.Finding {
	first := ps[0]
	sev := checks.Warn
	var raws, pods, extras []string
	var earliest, latest time.Time
	var maxRestarts int32
	for _, pr := range ps {
		sev = checks.Worst(sev, pr.severity)
		if pr.raw != "" && !slices.Contains(raws, pr.raw) {
			raws = append(raws, pr.raw)
		}
		if pr.extra != "" && !slices.Contains(extras, pr.extra) {
			extras = append(extras, pr.extra)
		}
		if !slices.Contains(pods, pr.pod) {
			pods = append(pods, pr.pod)
		}
		if !pr.at.IsZero() {
			if earliest.IsZero() || pr.at.Before(earliest) {
				earliest = pr.at
			}
			if pr.at.After(latest) {
				latest = pr.at
			}
		}
		maxRestarts = max(maxRestarts, pr.restarts)
	}
	slices.Sort(raws)
	slices.Sort(extras)

	var phrase string
	switch k.reason {
	case reasonRestarts:
		phrase = fmt.Sprintf("restarting often (up to %d restarts, last %s ago)", maxRestarts, age(a.now.Sub(latest)))
	case reasonOOMKilled:
		phrase = fmt.Sprintf("OOMKilled, last %s ago", age(a.now.Sub(latest)))
	case reasonPending:
		phrase = "Pending for " + age(a.now.Sub(earliest))
		if len(extras) > 0 {
			phrase += " (" + strings.Join(extras, ", ") + ")"
		}
	case reasonNotReady:
		phrase = "Running but not Ready for " + age(a.now.Sub(earliest))
	case reasonFailed:
		phrase = "Failed"
		if len(raws) > 0 {
			phrase += " (" + strings.Join(raws, ", ") + ")"
		}
		phrase += ", last " + age(a.now.Sub(latest)) + " ago"
	case reasonEvicted:
		phrase = "Evicted, last " + age(a.now.Sub(latest)) + " ago"
	case reasonUnknown:
		phrase = "in phase Unknown"
	case reasonTerminating:
		phrase = "stuck Terminating for " + age(a.now.Sub(earliest))
	case reasonInitFailed:
		phrase = "failing to initialise"
	default: // a waiting reason
		phrase = "in " + strings.Join(raws, "/")
	}

	object := k.owner.kind + " " + ns + "/" + k.owner.name
	title := object + ": "
	switch {
	case k.owner.kind == "Pod":
	case k.reason == reasonFailed || k.reason == reasonEvicted || k.reason == reasonTerminating || total < len(pods):
		title += fmt.Sprintf("%d %s ", len(pods), plural(len(pods), "pod", "pods"))
	default:
		title += fmt.Sprintf("%d/%d %s ", len(pods), total, plural(total, "pod", "pods"))
	}
	title += phrase
	if k.container != "" {
		if first.init {
			title += " (init container " + k.container + ")"
		} else {
			title += " (container " + k.container + ")"
		}
	}

	var detail []string
	if m := oneLine(first.message); m != "" {
		detail = append(detail, m)
	}
	if k.owner.kind != "Pod" {
		detail = append(detail, podList(pods, len(pods)))
	}
	return checks.Finding{
		Fingerprint: checks.Fingerprint(name, ns, k.owner.kind, k.owner.name, k.container, k.reason),
		Severity:    sev,
		Object:      object,
		Title:       title,
		Detail:      strings.Join(detail, "\n"),
		Count:       len(pods),
		Chart:       a.chart(ns, k, object, pods),
	}
}

// chart is how to chart a container's OOM kills (its memory against its
// limit, the limit as the fail line) and restarts (its restart counter),
// from Prometheus's kube-state-metrics and cAdvisor series of the pods,
// over the window; nil for the other reasons. It is drawn only where the
// environment has a Prometheus (checklist.Charts).
func (a analyzer) chart(ns string, k groupKey, object string, pods []string) *checks.ChartSource {
	if k.container == "" {
		return nil
	}
	// A chart shows a few series; the first pods (by name) stand for the rest.
	const maxPods = 20
	pods = pods[:min(len(pods), maxPods)]
	quoted := make([]string, len(pods))
	for i, p := range pods {
		quoted[i] = regexp.QuoteMeta(p)
	}
	sel := fmt.Sprintf(`namespace=%s, pod=~%s, container=%s`,
		strconv.Quote(ns), strconv.Quote(strings.Join(quoted, "|")), strconv.Quote(k.container))
	src := &checks.ChartSource{At: a.now.UTC(), Window: time.Duration(a.cfg.Window)}
	switch k.reason {
	case reasonOOMKilled:
		limit := 1.0
		src.Title = "memory vs limit: " + object + " (container " + k.container + ")"
		src.Query = "max by (pod) (container_memory_working_set_bytes{" + sel + "})\n  / on (pod)\n" +
			"max by (pod) (kube_pod_container_resource_limits{" + sel + `, resource="memory"})`
		src.Fail, src.Unit = &limit, "ratio"
	case reasonRestarts, reasonCrashLoop:
		src.Title = "restarts: " + object + " (container " + k.container + ")"
		src.Query = "max by (pod) (kube_pod_container_status_restarts_total{" + sel + "})"
		src.Unit = "none"
	default:
		return nil
	}
	return src
}

// deployment reports a Deployment short of available replicas or whose
// rollout is stuck.
func (a analyzer) deployment(s *scan, d *appsv1.Deployment) []checks.Finding {
	desired := replicas(d.Spec.Replicas)
	if desired == 0 {
		return nil
	}
	ns := s.namespace
	o := owner{"Deployment", d.Name}
	object := o.kind + " " + ns + "/" + d.Name
	var out []checks.Finding
	var progressing, available, replicaFailure *appsv1.DeploymentCondition
	for i := range d.Status.Conditions {
		c := &d.Status.Conditions[i]
		switch c.Type {
		case appsv1.DeploymentProgressing:
			progressing = c
		case appsv1.DeploymentAvailable:
			available = c
		case appsv1.DeploymentReplicaFailure:
			replicaFailure = c
		}
	}
	stuck := progressing != nil && progressing.Status == corev1.ConditionFalse &&
		progressing.Reason == reasonProgressDead
	if stuck {
		out = append(out, checks.Finding{
			Fingerprint: checks.Fingerprint(name, ns, o.kind, o.name, "", reasonProgressDead),
			Severity:    checks.Warn,
			Object:      object,
			Title:       object + ": rollout stuck (" + reasonProgressDead + ")",
			Detail:      oneLine(progressing.Message),
		})
	}

	ready := d.Status.AvailableReplicas
	if ready >= desired {
		return out
	}
	if !stuck {
		if d.Status.ObservedGeneration < d.Generation {
			return out // the controller has not caught up yet
		}
		for _, c := range []*appsv1.DeploymentCondition{progressing, available} {
			if c != nil && (a.recent(c.LastUpdateTime.Time) || a.recent(c.LastTransitionTime.Time)) {
				return out // rolling out, scaling: settling
			}
		}
		if s.seen["pods"] && a.settling(desired-ready, desired, s.owners[o]) {
			return out
		}
	}
	msg := ""
	if replicaFailure != nil && replicaFailure.Status == corev1.ConditionTrue {
		msg = replicaFailure.Message
	} else if available != nil && available.Status != corev1.ConditionTrue {
		msg = available.Message
	}
	return append(out, a.replicasFinding(ns, o, "available", ready, desired, msg, s.owners[o]))
}

// statefulSet reports a StatefulSet short of ready replicas.
func (a analyzer) statefulSet(s *scan, st *appsv1.StatefulSet) []checks.Finding {
	desired := replicas(st.Spec.Replicas)
	ready := st.Status.ReadyReplicas
	if desired == 0 || ready >= desired || st.Status.ObservedGeneration < st.Generation {
		return nil
	}
	o := owner{"StatefulSet", st.Name}
	if s.seen["pods"] && a.settling(desired-ready, desired, s.owners[o]) {
		return nil
	}
	return []checks.Finding{a.replicasFinding(s.namespace, o, "ready", ready, desired, "", s.owners[o])}
}

// settling says whether a workload's shortfall is explained by pods that
// were created or changed readiness within rolloutGrace; pods not created
// yet count as settling when the controller created one within the grace.
// pods is the tally of the workload's live pods (nil when there are none).
func (a analyzer) settling(short, desired int32, pods *tally) bool {
	if pods == nil {
		pods = &tally{}
	}
	recent := pods.recent
	if missing := desired - int32(pods.live); missing > 0 && pods.creating {
		recent += missing
	}
	return short <= recent
}

func (a analyzer) recent(t time.Time) bool {
	return !t.IsZero() && a.now.Sub(t) < time.Duration(a.cfg.RolloutGrace)
}

// replicasFinding is the finding of a workload short of replicas.
func (a analyzer) replicasFinding(ns string, o owner, word string, ready, desired int32, msg string, pods *tally) checks.Finding {
	object := o.kind + " " + ns + "/" + o.name
	sev := checks.Warn
	if ready == 0 {
		sev = checks.Fail
	}
	var detail []string
	if m := oneLine(msg); m != "" {
		detail = append(detail, m)
	}
	if pods != nil && pods.unready.n > 0 {
		detail = append(detail, "not ready: "+strings.TrimPrefix(podList(pods.unready.first, pods.unready.n), "pods: "))
	}
	return checks.Finding{
		Fingerprint: checks.Fingerprint(name, ns, o.kind, o.name, "", reasonReplicas),
		Severity:    sev,
		Object:      object,
		Title:       fmt.Sprintf("%s: %d/%d replicas %s", object, ready, desired, word),
		Detail:      strings.Join(detail, "\n"),
		Count:       int(desired - ready),
	}
}

// job takes one listed Job into the namespace's scan: it resolves the
// pods under it to its CronJob, reports it if it failed on its own, or
// counts it among its CronJob's runs.
func (a analyzer) job(s *scan, j *batchv1.Job) {
	s.items++
	cron := ""
	if ref := metav1.GetControllerOfNoCopy(j); ref != nil && ref.Kind == "CronJob" {
		cron = ref.Name
	}
	if r := s.jobs[j.Name]; r != nil {
		r.listed, r.cron = true, cron
	}
	if cron != "" {
		a.cronRun(s, cron, j)
		return
	}
	c := jobCondition(j, batchv1.JobFailed)
	if c == nil || !a.inWindow(jobFailedAt(j, c)) {
		return
	}
	object := "Job " + s.namespace + "/" + j.Name
	s.found = append(s.found, checks.Finding{
		Fingerprint: checks.Fingerprint(name, s.namespace, "Job", j.Name, "", reasonJobFailed),
		Severity:    checks.Fail,
		Object:      object,
		Title:       fmt.Sprintf("%s: failed%s, %s ago", object, paren(c.Reason), age(a.now.Sub(jobFailedAt(j, c)))),
		Detail:      oneLine(c.Message),
		Count:       1,
	})
}

// cronRun counts Job j among CronJob cron's runs.
func (a analyzer) cronRun(s *scan, cron string, j *batchv1.Job) {
	runs := s.crons[cron]
	if runs == nil {
		runs = &cronRuns{}
		s.crons[cron] = runs
	}
	failed := jobCondition(j, batchv1.JobFailed)
	if failed == nil && jobCondition(j, batchv1.JobComplete) == nil {
		return // still running
	}
	r := jobRun{name: j.Name, created: j.CreationTimestamp.Time, failed: failed != nil}
	if failed != nil {
		r.reason, r.message, r.failedAt = failed.Reason, failed.Message, jobFailedAt(j, failed)
		if a.inWindow(r.failedAt) {
			runs.failedInWindow++
		}
	}
	if runs.last == nil || laterRun(r, *runs.last) {
		runs.last = &r
	}
}

// startCronJobs readies the scan for its CronJobs, the Jobs having been
// listed: a Job not listed (Jobs forbidden, or the Job deleted before its
// pod) named "<cronjob>-<scheduled time>" after a listed CronJob is its.
func (s *scan) startCronJobs() {
	s.byBase = map[string][]*jobRef{}
	for name, r := range s.jobs {
		if r.listed {
			continue
		}
		dash := strings.LastIndexByte(name, '-')
		if dash <= 0 || dash == len(name)-1 || strings.Trim(name[dash+1:], "0123456789") != "" {
			continue
		}
		s.byBase[name[:dash]] = append(s.byBase[name[:dash]], r)
	}
}

// cronJob takes one listed CronJob into the namespace's scan.
func (s *scan) cronJob(cj *batchv1.CronJob) {
	s.items++
	for _, r := range s.byBase[cj.Name] {
		r.cron = cj.Name
	}
	if runs := s.crons[cj.Name]; runs != nil && cj.Spec.Suspend != nil && *cj.Spec.Suspend {
		runs.suspended = true
	}
}

// cronJobs reports the CronJobs, not suspended, whose last finished run
// failed.
func (a analyzer) cronJobs(s *scan) []checks.Finding {
	var out []checks.Finding
	for _, cj := range slices.Sorted(maps.Keys(s.crons)) {
		runs := s.crons[cj]
		if runs.suspended || runs.last == nil || !runs.last.failed {
			continue
		}
		last := runs.last
		object := "CronJob " + s.namespace + "/" + cj
		out = append(out, checks.Finding{
			Fingerprint: checks.Fingerprint(name, s.namespace, "CronJob", cj, "", reasonJobFailed),
			Severity:    checks.Fail,
			Object:      object,
			Title: fmt.Sprintf("%s: last run failed%s, %s ago", object, paren(last.reason),
				age(a.now.Sub(last.failedAt))),
			Detail: joinLines(oneLine(last.message), "job: "+last.name),
			Count:  max(runs.failedInWindow, 1),
		})
	}
	return out
}

// laterRun says whether run x was created after run y (names break ties:
// CronJob job names end in the scheduled time).
func laterRun(x, y jobRun) bool {
	if c := x.created.Compare(y.created); c != 0 {
		return c > 0
	}
	return x.name > y.name
}

// jobCondition returns the Job's condition of type t if it is True.
func jobCondition(j *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		if c := &j.Status.Conditions[i]; c.Type == t && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

// jobFailedAt is when a Job failed.
func jobFailedAt(j *batchv1.Job, failed *batchv1.JobCondition) time.Time {
	if t := failed.LastTransitionTime.Time; !t.IsZero() {
		return t
	}
	if j.Status.StartTime != nil {
		return j.Status.StartTime.Time
	}
	return j.CreationTimestamp.Time
}

// sortFindings orders findings by severity (worst first), then object, then
// fingerprint, so that the output is stable.
func sortFindings(fs []checks.Finding) {
	slices.SortFunc(fs, func(x, y checks.Finding) int {
		return cmp.Or(
			cmp.Compare(y.Severity, x.Severity),
			cmp.Compare(x.Object, y.Object),
			cmp.Compare(x.Fingerprint, y.Fingerprint),
		)
	})
}

// failedAt is the latest time a failed pod shows: a condition's transition,
// a container's termination, its start; its creation otherwise.
func failedAt(p *corev1.Pod) time.Time {
	t := p.CreationTimestamp.Time
	later := func(u time.Time) {
		if u.After(t) {
			t = u
		}
	}
	if p.Status.StartTime != nil {
		later(p.Status.StartTime.Time)
	}
	for _, c := range p.Status.Conditions {
		later(c.LastTransitionTime.Time)
	}
	for _, statuses := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, cs := range statuses {
			for _, term := range []*corev1.ContainerStateTerminated{cs.State.Terminated, cs.LastTerminationState.Terminated} {
				if term != nil {
					later(term.FinishedAt.Time)
				}
			}
		}
	}
	return t
}

// evictedAt is when p, Evicted, was evicted: the DisruptionTarget
// condition the kubelet's eviction manager adds as it kills the pod
// (Kubernetes 1.26 and later; reason TerminationByKubelet), else when its
// containers were stopped (the latest FinishedAt), else when it stopped
// being Ready. Creation and start times say nothing of an eviction; they
// are used (failedAt) only when there is nothing else.
func evictedAt(p *corev1.Pod) time.Time {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue && !c.LastTransitionTime.IsZero() {
			return c.LastTransitionTime.Time
		}
	}
	var t time.Time
	for _, statuses := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, cs := range statuses {
			if term := cs.State.Terminated; term != nil && term.FinishedAt.After(t) {
				t = term.FinishedAt.Time
			}
		}
	}
	if !t.IsZero() {
		return t
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionFalse && !c.LastTransitionTime.IsZero() {
			return c.LastTransitionTime.Time
		}
	}
	return failedAt(p)
}

// describeExit says how a container ended: "Error (exit code 1): panic: ...".
func describeExit(t *corev1.ContainerStateTerminated) string {
	s := t.Reason
	if s == "" {
		s = "terminated"
	}
	s += fmt.Sprintf(" (exit code %d)", t.ExitCode)
	if t.Signal != 0 {
		s += fmt.Sprintf(" (signal %d)", t.Signal)
	}
	if m := strings.TrimSpace(t.Message); m != "" {
		s += ": " + m
	}
	return s
}

// terminatedContainers describes the failed containers of a pod.
func terminatedContainers(p *corev1.Pod) string {
	var parts []string
	for _, statuses := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, cs := range statuses {
			if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
				parts = append(parts, "container "+cs.Name+": "+describeExit(t))
			}
		}
	}
	return strings.Join(parts, "; ")
}

// waitingContainers describes the containers of a pod that are not ready:
// "waiting: api (ContainerCreating), migrate (init, running)".
func waitingContainers(p *corev1.Pod) string {
	var parts []string
	add := func(cs corev1.ContainerStatus, init bool) {
		if cs.Ready {
			return
		}
		var state []string
		if init {
			state = append(state, "init")
		}
		switch {
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "":
			state = append(state, cs.State.Waiting.Reason)
		case cs.State.Running != nil:
			state = append(state, "running")
		case cs.State.Terminated != nil:
			if init && cs.State.Terminated.ExitCode == 0 {
				return // done
			}
			state = append(state, "terminated")
		}
		parts = append(parts, cs.Name+paren(strings.Join(state, ", ")))
	}
	for _, cs := range p.Status.InitContainerStatuses {
		add(cs, true)
	}
	for _, cs := range p.Status.ContainerStatuses {
		add(cs, false)
	}
	if len(parts) == 0 {
		return ""
	}
	return "not ready: " + strings.Join(parts, ", ")
}

// nodeMessage names a pod's node, if any.
func nodeMessage(p *corev1.Pod) string {
	if p.Spec.NodeName == "" {
		return ""
	}
	return "node " + p.Spec.NodeName
}

// isSidecar says whether the named init container restarts always (a
// native sidecar, which runs for the pod's life).
func isSidecar(p *corev1.Pod, container string) bool {
	for _, c := range p.Spec.InitContainers {
		if c.Name == container {
			return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
		}
	}
	return false
}

// memoryLimit returns a container's memory limit.
func memoryLimit(p *corev1.Pod, container string) (string, bool) {
	for _, cs := range [][]corev1.Container{p.Spec.Containers, p.Spec.InitContainers} {
		for _, c := range cs {
			if c.Name != container {
				continue
			}
			if q, ok := c.Resources.Limits[corev1.ResourceMemory]; ok && !q.IsZero() {
				return q.String(), true
			}
			return "", false
		}
	}
	return "", false
}

func condition(cs []corev1.PodCondition, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range cs {
		if cs[i].Type == t {
			return &cs[i]
		}
	}
	return nil
}

func replicas(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

// podList is the detail line naming a group's n pods, the first of them
// (by name) in pods: "pods: a, b, c and 2 more".
func podList(pods []string, n int) string {
	s := "pods: " + strings.Join(pods[:min(len(pods), maxPodNames)], ", ")
	if n := n - maxPodNames; n > 0 {
		s += fmt.Sprintf(" and %d more", n)
	}
	return s
}

// oneLine keeps an untrusted message verbatim but on one line (a
// termination message may be a stack trace) and bounded.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\n", " ⏎ ")
	return httpx.Truncate(s, maxMessageRunes)
}

func joinMsg(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}

func joinLines(lines ...string) string {
	var out []string
	for _, l := range lines {
		if l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// age formats a duration the way people say it: 45s, 12m, 5h12m, 3d.
func age(d time.Duration) string {
	d = max(d, 0)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 || h >= 10 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}
