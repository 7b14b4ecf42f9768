// Package pods is the runbook's `kubectl get pods -n <prod namespace>` look:
// containers crash-looping or unable to pull their image, OOM kills, pods
// restarting often, stuck Pending or not Ready, failed and evicted pods,
// Deployments and StatefulSets short of replicas, failed Jobs and CronJobs
// whose last run failed.
//
// # What it reads
//
// For each namespace it makes one paginated List (Limit pageSize, following
// the continue token) of each of Pods, Deployments, StatefulSets, Jobs and
// CronJobs (batch/v1), never a call per pod: pods first in every namespace,
// then the other kinds, so that a deadline hit half-way still leaves the
// most useful part seen. It lists no ReplicaSets, Events or Nodes.
//
// Each page is analysed as it arrives and dropped before the next is asked
// for; namespaces are analysed apart. What is kept is small: per owner, a
// tally of its live pods (how many, how many settling, the first few not
// Ready); the problems of the unhealthy pods; per CronJob, its latest
// finished run; and the findings. So the check's memory grows with the
// workloads and the findings, not with the pods: a healthy pod is only
// counted. Pods are listed before the Jobs that own them, so a pod under a
// Job is tallied under the Job and moved to its CronJob once the Jobs and
// CronJobs are listed.
//
// # Grouping
//
// Pods are grouped under their controller: a ReplicaSet whose name ends in
// "-<pod-template-hash label>" is reported as its Deployment (the suffix
// stripped, no ReplicaSet lookup; a ReplicaSet without that suffix, e.g. one
// not made by a Deployment, is reported as itself); a Job owned by a CronJob
// is reported as the CronJob (from the listed Jobs' owners or, for a Job
// that was not listed, from its name "<listed CronJob>-<digits>"); StatefulSets,
// DaemonSets, Jobs and other controllers as themselves; a pod without a
// controller as "Pod ns/name". There is one finding per (owner, container,
// reason), e.g. "Deployment shop/api: 3/3 pods in CrashLoopBackOff
// (container api)" with Count 3, whose fingerprint is
// checks.Fingerprint("pods", namespace, ownerKind, ownerName, container,
// reason): no pod names, hashes or counts, so it survives restarts and
// rollouts. ErrImagePull and ImagePullBackOff, between which a pod with a
// bad image alternates, share the reason ImagePullBackOff.
//
// # What is reported
//
//   - Fail: a container (or init container) waiting in an error reason:
//     CrashLoopBackOff, ImagePullBackOff/ErrImagePull, CreateContainerConfigError,
//     CreateContainerError, InvalidImageName, RunContainerError and the like
//     (Warn for a waiting reason the check does not know; ContainerCreating
//     and PodInitializing are normal). The waiting message and the last exit
//     (reason, exit code, termination message) are in the detail.
//   - Fail: an init container that terminated with a non-zero exit code in a
//     pod that is not over (InitContainerFailed).
//   - Warn: OOMKilled: the container's last (or current) termination was an
//     OOM kill that finished inside the window; the memory limit is in the
//     detail. Reported even when the container is also crash-looping: it is
//     the cause.
//   - Warn: restarting often (Restarts): restartCount >= restartThreshold and
//     the last restart inside the window, unless the container is already in
//     CrashLoopBackOff or its last exit was an OOM kill (those findings say
//     it). A pod that restarted 50 times last month and is stable now is not
//     reported.
//   - Warn: Pending for longer than pendingAfter (since creation), with the
//     scheduler's reason and message, when no container error explains it.
//   - Warn: Running but not Ready for longer than notReadyAfter (since the
//     Ready condition's last transition), when no container error explains it.
//   - Fail: phase Failed, Warn when the reason is Evicted, for pods that failed
//     inside the window (a failed pod lingers until garbage-collected; one
//     that failed last week is history). Failed pods of Jobs are left to the
//     Job findings (a Job retries; only its own failure matters).
//   - Fail: phase Unknown (the node stopped reporting).
//   - Warn: a pod stuck Terminating for longer than pendingAfter after its
//     grace period. Other pods being deleted are ignored.
//   - Deployments and StatefulSets with spec.replicas > 0 and fewer
//     available (Deployment) or ready (StatefulSet) replicas than desired:
//     Fail when none is, Warn otherwise. Ignored while settling: the
//     controller has not observed the latest generation, or a Deployment's
//     Available/Progressing condition changed within rolloutGrace, or the
//     shortfall is covered by the workload's pods that were created or
//     changed readiness within rolloutGrace (pods not created yet count too
//     when the controller created one within it). Without the pods list
//     (forbidden), only the conditions decide. A ReplicaFailure condition
//     (e.g. quota exceeded) is quoted in the detail, the not-ready pods too.
//   - Warn: a Deployment whose rollout exceeded its progress deadline
//     (Progressing=False, ProgressDeadlineExceeded), even with every replica
//     available (the old ReplicaSet may still be serving).
//   - Fail: a Job not owned by a CronJob with condition Failed=True since
//     inside the window.
//   - Fail: a CronJob, not suspended, whose most recent finished Job failed
//     (whatever its age: it is the CronJob's current state); Count is the
//     number of its Jobs that failed inside the window (at least 1). A failed
//     run followed by a successful one is not reported.
//
// # When it cannot see everything
//
// A List that fails (forbidden, API not served, connection refused...) or is
// cut short by the context does not throw away the rest: the check reports
// the findings it could make from what it did list, its status is at least
// Unknown (it may be hiding a failure; a Fail finding still makes it Fail),
// and the summary says what it could not list and why, naming the kinds and
// namespaces, e.g. "142 pods in shop: 1 problem; could not list cronjobs in
// shop: forbidden". A List that fails part way still counts the pages it
// got. When nothing at all could be listed the result is
// checks.UnknownResult with that reason. When the context ends (the check's
// timeout, the checklist cancelled), no further List is made and the
// summary says which were not, with the context's cause.
//
// With several namespaces, one without any pod is named in the summary
// ("; no pods in billing"): a misspelt namespace would otherwise look
// healthy forever. It does not change the status.
package pods

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.uber.org/zap"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/internal/httpx"
)

// name is the check's name, also the first part of its fingerprints.
const name = "pods"

// Check looks at the pods and workloads of some namespaces.
type Check struct {
	cfg        Config
	client     kubernetes.Interface
	namespaces []string
	now        func() time.Time
	logger     *zap.Logger
}

// New returns the pods check for namespaces, read through client. cfg is
// defaulted (Window included: DefaultWindow when zero) and validated. now is
// the clock (nil means time.Now); logger may be nil.
func New(client kubernetes.Interface, namespaces []string, cfg Config, now func() time.Time, logger *zap.Logger) (*Check, error) {
	if client == nil {
		return nil, errors.New("pods: no Kubernetes client")
	}
	if len(namespaces) == 0 {
		return nil, errors.New("pods: no namespaces to look at")
	}
	for i, ns := range namespaces {
		if strings.TrimSpace(ns) == "" {
			return nil, fmt.Errorf("pods: namespaces[%d] is empty", i)
		}
		if slices.Index(namespaces, ns) != i {
			return nil, fmt.Errorf("pods: namespace %q is listed twice", ns)
		}
	}
	cfg.SetDefaults()
	if cfg.Window == 0 {
		cfg.Window = model.Duration(DefaultWindow)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	return &Check{
		cfg:        cfg,
		client:     client,
		namespaces: slices.Clone(namespaces),
		now:        now,
		logger:     logger.With(zap.String("check", name)),
	}, nil
}

// Name returns "pods".
func (c *Check) Name() string { return name }

// Timeout returns the check's deadline (config key timeout).
func (c *Check) Timeout() time.Duration { return time.Duration(c.cfg.Timeout) }

// Run lists the namespaces' pods and workloads and reports what is wrong.
func (c *Check) Run(ctx context.Context) checks.Result {
	ctx, cancel := context.WithTimeoutCause(ctx, c.Timeout(),
		fmt.Errorf("the Kubernetes API did not answer within %s", c.Timeout()))
	defer cancel()

	a := analyzer{cfg: c.cfg, now: c.now()}
	scans, failures := c.list(ctx, a)
	seen := false
	pods := 0
	var empty []string // namespaces whose pods were listed: none
	for _, s := range scans {
		seen = seen || len(s.seen) > 0 || s.items > 0
		pods += s.pods
		if s.seen["pods"] && s.pods == 0 {
			empty = append(empty, s.namespace)
		}
	}
	blind := describeFailures(failures)
	if !seen {
		return checks.UnknownResult(blind)
	}

	var findings []checks.Finding
	for _, s := range scans {
		findings = append(findings, a.findings(s)...)
	}
	if c.cfg.Link != "" {
		for i := range findings {
			f := &findings[i]
			ns, obj := linkParts(f.Object)
			f.Link = expandLink(c.cfg.Link, ns, obj)
		}
	}
	sortFindings(findings)

	status := checks.Summarize(findings)
	where := c.namespaces[0]
	if len(c.namespaces) > 1 {
		where = fmt.Sprintf("%d namespaces", len(c.namespaces))
	}
	summary := fmt.Sprintf("%d %s in %s: ", pods, plural(pods, "pod", "pods"), where)
	switch {
	case len(findings) > 0:
		summary += fmt.Sprintf("%d %s", len(findings), plural(len(findings), "problem", "problems"))
	case blind != "":
		summary += "no problems seen"
	default:
		summary += "all healthy"
	}
	if len(empty) > 0 && len(c.namespaces) > 1 {
		// With one namespace, "0 pods in shop" says it already.
		summary += "; no pods in " + strings.Join(empty, ", ")
	}
	if blind != "" {
		status = checks.Worst(status, checks.Unknown)
		summary += "; " + blind
	}
	return checks.Result{Status: status, Summary: summary, Findings: findings}
}

// linkParts splits a finding's Object ("Deployment shop/api") into its
// namespace and name.
func linkParts(object string) (namespace, obj string) {
	_, nsName, _ := strings.Cut(object, " ")
	namespace, obj, _ = strings.Cut(nsName, "/")
	return namespace, obj
}

// failure is a kind that could not be listed (completely) in a namespace.
type failure struct {
	namespace, kind string
	reason          string
}

// kind is one resource kind the check lists.
type kind struct {
	name string // plural resource name, as in RBAC and error messages
	list func(ctx context.Context, c *Check, a analyzer, s *scan) error
}

// kinds are listed in this order, each in every namespace before the next.
// Each page is handed to the analyzer as it arrives and dropped: the pods
// come first, so that the workloads that follow are judged with their
// pods' tallies at hand, and the Jobs before the CronJobs that own them.
var kinds = []kind{
	{"pods", func(ctx context.Context, c *Check, a analyzer, s *scan) error {
		return listPages(ctx, c.cfg.PageSize, c.client.CoreV1().Pods(s.namespace).List,
			func(l *corev1.PodList) []corev1.Pod { return l.Items }, func(p *corev1.Pod) { a.pod(s, p) })
	}},
	{"deployments", func(ctx context.Context, c *Check, a analyzer, s *scan) error {
		return listPages(ctx, c.cfg.PageSize, c.client.AppsV1().Deployments(s.namespace).List,
			func(l *appsv1.DeploymentList) []appsv1.Deployment { return l.Items },
			func(d *appsv1.Deployment) { s.items++; s.found = append(s.found, a.deployment(s, d)...) })
	}},
	{"statefulsets", func(ctx context.Context, c *Check, a analyzer, s *scan) error {
		return listPages(ctx, c.cfg.PageSize, c.client.AppsV1().StatefulSets(s.namespace).List,
			func(l *appsv1.StatefulSetList) []appsv1.StatefulSet { return l.Items },
			func(st *appsv1.StatefulSet) { s.items++; s.found = append(s.found, a.statefulSet(s, st)...) })
	}},
	{"jobs", func(ctx context.Context, c *Check, a analyzer, s *scan) error {
		return listPages(ctx, c.cfg.PageSize, c.client.BatchV1().Jobs(s.namespace).List,
			func(l *batchv1.JobList) []batchv1.Job { return l.Items }, func(j *batchv1.Job) { a.job(s, j) })
	}},
	{"cronjobs", func(ctx context.Context, c *Check, a analyzer, s *scan) error {
		s.startCronJobs()
		return listPages(ctx, c.cfg.PageSize, c.client.BatchV1().CronJobs(s.namespace).List,
			func(l *batchv1.CronJobList) []batchv1.CronJob { return l.Items }, s.cronJob)
	}},
}

// list lists every kind in every namespace, one after the other (gentle on
// the API server), feeding a, and says what could not be listed.
func (c *Check) list(ctx context.Context, a analyzer) ([]*scan, []failure) {
	scans := make([]*scan, len(c.namespaces))
	for i, ns := range c.namespaces {
		scans[i] = newScan(ns)
	}
	var failures []failure
	for _, k := range kinds {
		for _, s := range scans {
			if ctx.Err() != nil {
				failures = append(failures, failure{s.namespace, k.name, stopped(ctx)})
				continue
			}
			err := k.list(ctx, c, a, s)
			if err == nil {
				s.seen[k.name] = true
				continue
			}
			reason := describeErr(err)
			if ctx.Err() != nil {
				reason = stopped(ctx)
			}
			c.logger.Warn("could not list", zap.String("namespace", s.namespace),
				zap.String("kind", k.name), zap.Error(err))
			failures = append(failures, failure{s.namespace, k.name, reason})
		}
	}
	return scans, failures
}

// listPages follows a List's continue token until the list is complete,
// handing each item to use as its page arrives; a page is dropped before
// the next is asked for, so that no more than one is held. On an error,
// the items of the pages before it have been used.
func listPages[T any, L interface{ GetContinue() string }](
	ctx context.Context, pageSize int,
	list func(context.Context, metav1.ListOptions) (L, error),
	items func(L) []T,
	use func(*T),
) error {
	opts := metav1.ListOptions{Limit: int64(pageSize)}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		page, err := list(ctx, opts)
		if err != nil {
			return err
		}
		all := items(page)
		for i := range all {
			use(&all[i])
		}
		next := page.GetContinue()
		if next == "" {
			return nil
		}
		if next == opts.Continue {
			return errors.New("the API server returned the same continue token twice")
		}
		opts.Continue = next
	}
}

// maxReasonRunes bounds an error text quoted in the summary.
const maxReasonRunes = 200

// stopped is the reason for a list the context stopped.
func stopped(ctx context.Context) string {
	return "stopped: " + context.Cause(ctx).Error()
}

// describeErr says briefly why a List failed, without URLs.
func describeErr(err error) string {
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		switch apierrors.ReasonForError(err) {
		case metav1.StatusReasonForbidden:
			return "forbidden (the account may not list them: check its Role)"
		case metav1.StatusReasonUnauthorized:
			return "unauthorized (the API server rejected the credentials)"
		case metav1.StatusReasonNotFound:
			return "not found (the API server does not serve this resource)"
		}
		if msg := st.Status().Message; msg != "" {
			return httpx.Truncate(msg, maxReasonRunes)
		}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is noise, and may carry secrets
	}
	return httpx.Truncate(err.Error(), maxReasonRunes)
}

// describeFailures says what could not be listed, one clause per reason,
// namespaces with the same failed kinds merged: "could not list cronjobs in
// shop, billing: forbidden (...)".
func describeFailures(failures []failure) string {
	var reasons []string
	for _, f := range failures {
		if !slices.Contains(reasons, f.reason) {
			reasons = append(reasons, f.reason)
		}
	}
	clauses := make([]string, 0, len(reasons))
	for _, r := range reasons {
		var namespaces []string
		kindsOf := map[string][]string{}
		for _, f := range failures {
			if f.reason != r {
				continue
			}
			if _, ok := kindsOf[f.namespace]; !ok {
				namespaces = append(namespaces, f.namespace)
			}
			kindsOf[f.namespace] = append(kindsOf[f.namespace], f.kind)
		}
		var kindSets []string
		nsOf := map[string][]string{}
		for _, ns := range namespaces {
			ks := strings.Join(kindsOf[ns], ", ")
			if _, ok := nsOf[ks]; !ok {
				kindSets = append(kindSets, ks)
			}
			nsOf[ks] = append(nsOf[ks], ns)
		}
		parts := make([]string, len(kindSets))
		for i, ks := range kindSets {
			parts[i] = ks + " in " + strings.Join(nsOf[ks], ", ")
		}
		clauses = append(clauses, "could not list "+strings.Join(parts, " and ")+": "+r)
	}
	return strings.Join(clauses, "; ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
