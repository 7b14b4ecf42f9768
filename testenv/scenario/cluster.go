// Package scenario plants workloads, alerts, metrics and logs in the real
// test environment (testenv) for the checklist's integration tests
// and its benchmark: Deployments with their ReplicaSets' pods, StatefulSets,
// Jobs and CronJobs, in whatever states a kubelet and the controllers would
// report, since neither runs here.
package scenario

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/opsbot/opsbot/testenv"
)

// Cluster plants objects in one namespace of a test cluster, as admin.
type Cluster struct {
	Kube      *testenv.Kube
	Namespace string
	// Now is the reference time of planted states ("restarted an hour
	// ago" is Now minus an hour).
	Now time.Time
}

func (c *Cluster) client() kubernetes.Interface { return c.Kube.Client() }

// Owner is a pod's controller.
type Owner struct {
	Kind, Name string
	UID        types.UID
}

// Pod describes a pod to plant.
type Pod struct {
	Name           string
	Owner          *Owner
	Labels         map[string]string
	Containers     []string
	InitContainers []string
	Status         corev1.PodStatus
	// Logs are the containers' current logs, by container name.
	Logs map[string]testenv.LogFunc
}

// CreatePod creates a pod bound to the stub kubelet's node, sets its status
// and registers its logs.
func (c *Cluster) CreatePod(ctx context.Context, p Pod) error {
	pod := testenv.NewPod(c.Namespace, p.Name, p.Containers...)
	pod.Labels = p.Labels
	for _, ic := range p.InitContainers {
		pod.Spec.InitContainers = append(pod.Spec.InitContainers, corev1.Container{Name: ic, Image: testenv.PlaceholderImage})
	}
	if p.Owner != nil {
		pod.OwnerReferences = []metav1.OwnerReference{controllerRef(p.Owner)}
	}
	created, err := c.Kube.CreatePod(ctx, pod)
	if err != nil {
		return err
	}
	// The status of the pod just created, without reading it again: one
	// round trip less per pod matters to the benchmark's thousands. A
	// conflict (nothing else writes it here) goes the long way.
	created.Status = *p.Status.DeepCopy()
	_, err = c.client().CoreV1().Pods(c.Namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		_, err = c.Kube.SetPodStatus(ctx, c.Namespace, p.Name, p.Status)
	}
	if err != nil {
		return fmt.Errorf("set status of pod %s/%s: %w", c.Namespace, p.Name, err)
	}
	for container, fn := range p.Logs {
		c.Kube.Logs().SetFunc(c.Namespace, p.Name, container, fn)
	}
	return nil
}

func controllerRef(o *Owner) metav1.OwnerReference {
	yes := true
	apiVersion := "apps/v1"
	if o.Kind == "Job" || o.Kind == "CronJob" {
		apiVersion = "batch/v1"
	}
	uid := o.UID
	if uid == "" {
		uid = types.UID("00000000-0000-0000-0000-" + fmt.Sprintf("%012x", hash(o.Kind+"/"+o.Name)))
	}
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: o.Kind, Name: o.Name, UID: uid, Controller: &yes, BlockOwnerDeletion: &yes}
}

func hash(s string) uint64 {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h & 0xffffffffffff
}

// TemplateHash is the pod-template-hash of a Deployment's current
// ReplicaSet: stable per name, like the real one is per template.
func TemplateHash(deployment string) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789" // as Kubernetes' SafeEncodeString
	h := hash(deployment)
	var b strings.Builder
	for i := 0; i < 9; i++ {
		b.WriteByte(alphabet[h%uint64(len(alphabet))])
		h /= uint64(len(alphabet))
	}
	return b.String()
}

var labelsOf = func(app string) map[string]string { return map[string]string{"app": app} }

// CreateDeployment creates a Deployment with replicas desired and ready of
// them ready (status set as the controller would), and returns the owner
// and labels its ReplicaSet's pods carry.
func (c *Cluster) CreateDeployment(ctx context.Context, name string, replicas, ready int32) (*Owner, map[string]string, error) {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: c.Namespace, Labels: labelsOf(name)},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labelsOf(name)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labelsOf(name)},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: testenv.PlaceholderImage}}},
			},
		},
	}
	created, err := c.client().AppsV1().Deployments(c.Namespace).Create(ctx, d, metav1.CreateOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("create deployment %s: %w", name, err)
	}
	progressing := appsv1.DeploymentCondition{
		Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable",
		LastUpdateTime: metav1.NewTime(c.Now.Add(-48 * time.Hour)), LastTransitionTime: metav1.NewTime(c.Now.Add(-48 * time.Hour)),
	}
	available := appsv1.DeploymentCondition{
		Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable",
		LastUpdateTime: metav1.NewTime(c.Now.Add(-48 * time.Hour)), LastTransitionTime: metav1.NewTime(c.Now.Add(-48 * time.Hour)),
	}
	if ready < replicas {
		available.Status, available.Reason = corev1.ConditionFalse, "MinimumReplicasUnavailable"
		available.LastTransitionTime = metav1.NewTime(c.Now.Add(-2 * time.Hour))
	}
	created.Status = appsv1.DeploymentStatus{
		ObservedGeneration: created.Generation,
		Replicas:           replicas, UpdatedReplicas: replicas,
		ReadyReplicas: ready, AvailableReplicas: ready, UnavailableReplicas: replicas - ready,
		Conditions: []appsv1.DeploymentCondition{available, progressing},
	}
	if _, err := c.client().AppsV1().Deployments(c.Namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return nil, nil, fmt.Errorf("set status of deployment %s: %w", name, err)
	}
	h := TemplateHash(name)
	podLabels := labelsOf(name)
	podLabels["pod-template-hash"] = h
	return &Owner{Kind: "ReplicaSet", Name: name + "-" + h}, podLabels, nil
}

// CreateStatefulSet creates a StatefulSet with replicas desired and ready
// of them ready.
func (c *Cluster) CreateStatefulSet(ctx context.Context, name string, replicas, ready int32) (*Owner, map[string]string, error) {
	s := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: c.Namespace, Labels: labelsOf(name)},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    &replicas,
			ServiceName: name,
			Selector:    &metav1.LabelSelector{MatchLabels: labelsOf(name)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labelsOf(name)},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: testenv.PlaceholderImage}}},
			},
		},
	}
	created, err := c.client().AppsV1().StatefulSets(c.Namespace).Create(ctx, s, metav1.CreateOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("create statefulset %s: %w", name, err)
	}
	created.Status = appsv1.StatefulSetStatus{
		ObservedGeneration: created.Generation,
		Replicas:           replicas, ReadyReplicas: ready, AvailableReplicas: ready, CurrentReplicas: replicas, UpdatedReplicas: replicas,
	}
	if _, err := c.client().AppsV1().StatefulSets(c.Namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return nil, nil, fmt.Errorf("set status of statefulset %s: %w", name, err)
	}
	return &Owner{Kind: "StatefulSet", Name: name, UID: created.UID}, labelsOf(name), nil
}

// CreateCronJob creates a CronJob; suspended ones are not run.
func (c *Cluster) CreateCronJob(ctx context.Context, name string, suspend bool) (*Owner, error) {
	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: c.Namespace},
		Spec: batchv1.CronJobSpec{
			Schedule: "0 2 * * *",
			Suspend:  &suspend,
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
				Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: name, Image: testenv.PlaceholderImage}}},
			}}},
		},
	}
	created, err := c.client().BatchV1().CronJobs(c.Namespace).Create(ctx, cj, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("create cronjob %s: %w", name, err)
	}
	return &Owner{Kind: "CronJob", Name: name, UID: created.UID}, nil
}

// CreateJob creates a Job (owned by cronJob when not nil) that finished at
// finished, failed or complete.
func (c *Cluster) CreateJob(ctx context.Context, name string, cronJob *Owner, failed bool, finished time.Time) error {
	backoff := int32(0)
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: c.Namespace},
		Spec: batchv1.JobSpec{
			BackoffLimit: &backoff,
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers:    []corev1.Container{{Name: "job", Image: testenv.PlaceholderImage}},
			}},
		},
	}
	if cronJob != nil {
		j.OwnerReferences = []metav1.OwnerReference{controllerRef(cronJob)}
	}
	created, err := c.client().BatchV1().Jobs(c.Namespace).Create(ctx, j, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create job %s: %w", name, err)
	}
	start := metav1.NewTime(finished.Add(-time.Minute))
	end := metav1.NewTime(finished)
	cond := func(t batchv1.JobConditionType, reason string) batchv1.JobCondition {
		return batchv1.JobCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: reason, LastProbeTime: end, LastTransitionTime: end}
	}
	created.Status = batchv1.JobStatus{StartTime: &start}
	if failed {
		created.Status.Failed = 1
		created.Status.Conditions = []batchv1.JobCondition{
			cond(batchv1.JobFailureTarget, "BackoffLimitExceeded"),
			cond(batchv1.JobFailed, "BackoffLimitExceeded"),
		}
	} else {
		created.Status.Succeeded = 1
		created.Status.CompletionTime = &end
		created.Status.Conditions = []batchv1.JobCondition{
			cond(batchv1.JobSuccessCriteriaMet, "CompletionsReached"),
			cond(batchv1.JobComplete, "CompletionsReached"),
		}
	}
	if _, err := c.client().BatchV1().Jobs(c.Namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("set status of job %s: %w", name, err)
	}
	return nil
}

// PodName is the name a ReplicaSet's or StatefulSet's i-th pod gets.
func PodName(owner *Owner, i int) string {
	if owner.Kind == "StatefulSet" {
		return fmt.Sprintf("%s-%d", owner.Name, i)
	}
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	h := hash(fmt.Sprintf("%s/%d", owner.Name, i))
	var b strings.Builder
	for range 5 {
		b.WriteByte(alphabet[h%uint64(len(alphabet))])
		h /= uint64(len(alphabet))
	}
	return owner.Name + "-" + b.String()
}
