package pods

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/opsbot/opsbot/checks"
)

// now is the tests' clock: 9am, the ops rotation's hour.
var now = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

// ago is a Kubernetes timestamp d before now.
func ago(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

func ptr[T any](v T) *T { return &v }

const ns = "shop"

// newCheck builds the check on a fake clientset holding objs.
func newCheck(t *testing.T, cfg Config, objs ...runtime.Object) (*Check, *fake.Clientset) {
	t.Helper()
	cs := fake.NewClientset(objs...)
	c, err := New(cs, []string{ns}, cfg, clock, zap.NewNop())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, cs
}

func run(t *testing.T, cfg Config, objs ...runtime.Object) checks.Result {
	t.Helper()
	c, _ := newCheck(t, cfg, objs...)
	return c.Run(context.Background())
}

// brief is a finding in one line, for comparisons.
func brief(f checks.Finding) string {
	return fmt.Sprintf("%s %s | %s | count=%d", f.Severity, f.Fingerprint, f.Title, f.Count)
}

func briefs(fs []checks.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = brief(f)
	}
	return out
}

func sameLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// --- pods ---

type podOpt func(*corev1.Pod)

// pod is a healthy Running pod with one ready container "app", created 3h
// ago and Ready for 2h.
func pod(name string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, CreationTimestamp: ago(3 * time.Hour),
			Labels: map[string]string{}},
		Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "app", Image: "app:1"}}},
		Status: corev1.PodStatus{
			Phase:     corev1.PodRunning,
			StartTime: ptr(ago(3 * time.Hour)),
			Conditions: []corev1.PodCondition{
				{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: ago(3 * time.Hour)},
				{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: ago(2 * time.Hour)},
			},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Ready: true,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ago(2 * time.Hour)}}}},
		},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func controller(kind, name string) metav1.OwnerReference {
	api := "apps/v1"
	if kind == "Job" || kind == "CronJob" {
		api = "batch/v1"
	}
	return metav1.OwnerReference{APIVersion: api, Kind: kind, Name: name, UID: types.UID("uid-" + name), Controller: ptr(true)}
}

// ofDeployment makes the pod one of Deployment dep's, through ReplicaSet
// dep-hash.
func ofDeployment(dep, hash string) podOpt {
	return func(p *corev1.Pod) {
		p.Labels[podTemplateHashLabel] = hash
		p.OwnerReferences = []metav1.OwnerReference{controller("ReplicaSet", dep+"-"+hash)}
	}
}

func ownedBy(kind, name string) podOpt {
	return func(p *corev1.Pod) { p.OwnerReferences = []metav1.OwnerReference{controller(kind, name)} }
}

func created(d time.Duration) podOpt {
	return func(p *corev1.Pod) { p.CreationTimestamp = ago(d) }
}

// containerStatus returns the status of the named container, adding it
// (with a spec) when the pod has none.
func containerStatus(p *corev1.Pod, name string, init bool) *corev1.ContainerStatus {
	list := &p.Status.ContainerStatuses
	if init {
		list = &p.Status.InitContainerStatuses
	}
	for i := range *list {
		if (*list)[i].Name == name {
			return &(*list)[i]
		}
	}
	if init {
		p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: name, Image: name + ":1"})
	} else {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: name, Image: name + ":1"})
	}
	*list = append(*list, corev1.ContainerStatus{Name: name})
	return &(*list)[len(*list)-1]
}

// notReadySince marks the pod not Ready since d ago.
func notReadySince(d time.Duration, msg string) podOpt {
	return func(p *corev1.Pod) {
		c := condition(p.Status.Conditions, corev1.PodReady)
		c.Status, c.Reason, c.Message, c.LastTransitionTime = corev1.ConditionFalse, "ContainersNotReady", msg, ago(d)
	}
}

// waiting puts a container in a waiting state; the pod is not Ready.
func waiting(container, reason, msg string) podOpt {
	return func(p *corev1.Pod) {
		cs := containerStatus(p, container, false)
		cs.Ready = false
		cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}
		notReadySince(time.Hour, "containers with unready status: ["+container+"]")(p)
	}
}

func initWaiting(container, reason, msg string) podOpt {
	return func(p *corev1.Pod) {
		cs := containerStatus(p, container, true)
		cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}
		pendingPod(p)
	}
}

func initTerminated(container string, exit int32, reason string) podOpt {
	return func(p *corev1.Pod) {
		cs := containerStatus(p, container, true)
		cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: exit, Reason: reason, FinishedAt: ago(time.Minute)}}
		pendingPod(p)
	}
}

// pendingPod makes a pod Pending with its containers waiting in
// PodInitializing.
func pendingPod(p *corev1.Pod) {
	p.Status.Phase = corev1.PodPending
	c := condition(p.Status.Conditions, corev1.PodReady)
	c.Status = corev1.ConditionFalse
	for i := range p.Status.ContainerStatuses {
		cs := &p.Status.ContainerStatuses[i]
		cs.Ready = false
		cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}
	}
}

// lastExit sets the container's last termination and restart count.
func lastExit(container, reason string, exit int32, finished time.Duration, restarts int32) podOpt {
	return func(p *corev1.Pod) {
		cs := containerStatus(p, container, false)
		cs.RestartCount = restarts
		cs.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			Reason: reason, ExitCode: exit, StartedAt: ago(finished + time.Minute), FinishedAt: ago(finished)}}
	}
}

func memLimit(container, q string) podOpt {
	return func(p *corev1.Pod) {
		for i := range p.Spec.Containers {
			if p.Spec.Containers[i].Name == container {
				p.Spec.Containers[i].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(q)}
			}
		}
	}
}

// pending makes a pod Pending, created d ago, unscheduled with the
// scheduler's reason and message (or scheduled, when reason is "").
func pending(d time.Duration, reason, msg string) podOpt {
	return func(p *corev1.Pod) {
		p.CreationTimestamp = ago(d)
		p.Status = corev1.PodStatus{Phase: corev1.PodPending}
		if reason != "" {
			p.Spec.NodeName = ""
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
				Reason: reason, Message: msg, LastTransitionTime: ago(d)}}
			return
		}
		p.Status.StartTime = ptr(ago(d))
		p.Status.Conditions = []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: ago(d)},
			{Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: ago(d)},
		}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}}
	}
}

// failed makes the pod Failed d ago with reason and message.
func failed(d time.Duration, reason, msg string) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodFailed
		p.Status.Reason, p.Status.Message = reason, msg
		p.Status.StartTime = ptr(ago(d + time.Hour))
		p.CreationTimestamp = ago(d + time.Hour)
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse,
			LastTransitionTime: ago(d)}}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", State: corev1.ContainerState{
			Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", FinishedAt: ago(d)}}}}
	}
}

func succeeded(p *corev1.Pod) {
	p.Status.Phase = corev1.PodSucceeded
	c := condition(p.Status.Conditions, corev1.PodReady)
	c.Status = corev1.ConditionFalse
	p.Status.ContainerStatuses[0].Ready = false
	p.Status.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: 0, Reason: "Completed", FinishedAt: ago(time.Hour)}}
}

// --- workloads ---

func deployment(name string, desired, available int32, opts ...func(*appsv1.Deployment)) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Generation: 3, CreationTimestamp: ago(30 * 24 * time.Hour)},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr(desired)},
		Status: appsv1.DeploymentStatus{
			ObservedGeneration: 3, Replicas: desired, UpdatedReplicas: desired,
			ReadyReplicas: available, AvailableReplicas: available, UnavailableReplicas: desired - available,
			Conditions: []appsv1.DeploymentCondition{
				{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable",
					Message: "Deployment has minimum availability.", LastUpdateTime: ago(5 * time.Hour), LastTransitionTime: ago(5 * time.Hour)},
				{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable",
					Message: `ReplicaSet "` + name + `-abc" has successfully progressed.`, LastUpdateTime: ago(5 * time.Hour), LastTransitionTime: ago(5 * time.Hour)},
			},
		},
	}
	for _, o := range opts {
		o(d)
	}
	return d
}

func deploymentCondition(t appsv1.DeploymentConditionType, status corev1.ConditionStatus, reason, msg string, changed time.Duration) func(*appsv1.Deployment) {
	return func(d *appsv1.Deployment) {
		c := appsv1.DeploymentCondition{Type: t, Status: status, Reason: reason, Message: msg,
			LastUpdateTime: ago(changed), LastTransitionTime: ago(changed)}
		for i := range d.Status.Conditions {
			if d.Status.Conditions[i].Type == t {
				d.Status.Conditions[i] = c
				return
			}
		}
		d.Status.Conditions = append(d.Status.Conditions, c)
	}
}

func statefulSet(name string, desired, ready int32) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Generation: 2, CreationTimestamp: ago(30 * 24 * time.Hour)},
		Spec:       appsv1.StatefulSetSpec{Replicas: ptr(desired)},
		Status: appsv1.StatefulSetStatus{ObservedGeneration: 2, Replicas: desired, ReadyReplicas: ready,
			AvailableReplicas: ready, CurrentReplicas: desired, UpdatedReplicas: desired},
	}
}

func cronJob(name string, suspend bool) *batchv1.CronJob {
	return &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID("uid-" + name)},
		Spec:       batchv1.CronJobSpec{Schedule: "0 * * * *", Suspend: ptr(suspend)},
	}
}

// job is a Job created d ago that ended with condition (JobComplete or
// JobFailed) d ago, or is still running when condition is "".
func job(name string, d time.Duration, cond batchv1.JobConditionType, reason, msg string, opts ...func(*batchv1.Job)) *batchv1.Job {
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, CreationTimestamp: ago(d + 5*time.Minute)},
		Status:     batchv1.JobStatus{StartTime: ptr(ago(d + 5*time.Minute))},
	}
	if cond != "" {
		j.Status.Conditions = []batchv1.JobCondition{{Type: cond, Status: corev1.ConditionTrue, Reason: reason,
			Message: msg, LastTransitionTime: ago(d), LastProbeTime: ago(d)}}
	} else {
		j.Status.Active = 1
	}
	for _, o := range opts {
		o(j)
	}
	return j
}

func ofCronJob(cj string) func(*batchv1.Job) {
	return func(j *batchv1.Job) { j.OwnerReferences = []metav1.OwnerReference{controller("CronJob", cj)} }
}
