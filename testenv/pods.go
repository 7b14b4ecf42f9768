package testenv

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// PlaceholderImage is the image of containers created by NewPod. Nothing
// pulls it: there is no real kubelet.
const PlaceholderImage = "registry.invalid/opsbot-testenv:latest"

// NewPod returns a pod spec with one container per name ("app" if none),
// ready for Kube.CreatePod.
func NewPod(namespace, name string, containers ...string) *corev1.Pod {
	if len(containers) == 0 {
		containers = []string{"app"}
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	for _, c := range containers {
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: c, Image: PlaceholderImage})
	}
	return pod
}

// CreateNamespace creates a namespace; one that already exists is fine.
func (k *Kube) CreateNamespace(ctx context.Context, name string) error {
	_, err := k.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

// CreatePod creates pod as admin, bound to the stub kubelet's node (unless
// spec.nodeName is set), so its logs are served by the stub. Containers
// without an image get PlaceholderImage. The pod starts Pending with an
// empty status: set one with SetPodStatus.
func (k *Kube) CreatePod(ctx context.Context, pod *corev1.Pod) (*corev1.Pod, error) {
	pod = pod.DeepCopy()
	if pod.Spec.NodeName == "" {
		pod.Spec.NodeName = k.nodeName
	}
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Image == "" {
			pod.Spec.Containers[i].Image = PlaceholderImage
		}
	}
	created, err := k.client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("create pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return created, nil
}

// SetPodStatus replaces the status of a pod through the status subresource
// (the job of the kubelet, which does not exist here), retrying on
// conflicts. Build status with PodStatus and the *Container helpers, or by
// hand.
func (k *Kube) SetPodStatus(ctx context.Context, namespace, name string, status corev1.PodStatus) (*corev1.Pod, error) {
	var updated *corev1.Pod
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pod, err := k.client.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		pod.Status = *status.DeepCopy()
		updated, err = k.client.CoreV1().Pods(namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("set status of pod %s/%s: %w", namespace, name, err)
	}
	return updated, nil
}

// DeletePod deletes a pod at once (grace period 0): with no kubelet to
// confirm a graceful deletion, a pod bound to a node would otherwise stay
// Terminating.
func (k *Kube) DeletePod(ctx context.Context, namespace, name string) error {
	zero := int64(0)
	err := k.client.CoreV1().Pods(namespace).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete pod %s/%s: %w", namespace, name, err)
	}
	return nil
}

// PodStatus builds a pod status as a kubelet on 127.0.0.1 would report it:
// the phase, the containers' statuses, and the conditions PodScheduled and
// Initialized (True), ContainersReady and Ready (True when the phase is
// Running and every container is ready).
func PodStatus(phase corev1.PodPhase, containers ...corev1.ContainerStatus) corev1.PodStatus {
	now := metav1.Now()
	ready := phase == corev1.PodRunning
	for _, c := range containers {
		ready = ready && c.Ready
	}
	readyStatus := corev1.ConditionFalse
	if ready {
		readyStatus = corev1.ConditionTrue
	}
	cond := func(t corev1.PodConditionType, s corev1.ConditionStatus) corev1.PodCondition {
		return corev1.PodCondition{Type: t, Status: s, LastTransitionTime: now}
	}
	return corev1.PodStatus{
		Phase: phase,
		Conditions: []corev1.PodCondition{
			cond(corev1.PodScheduled, corev1.ConditionTrue),
			cond(corev1.PodInitialized, corev1.ConditionTrue),
			cond(corev1.ContainersReady, readyStatus),
			cond(corev1.PodReady, readyStatus),
		},
		HostIP:            "127.0.0.1",
		HostIPs:           []corev1.HostIP{{IP: "127.0.0.1"}},
		StartTime:         &now,
		ContainerStatuses: containers,
	}
}

// RunningContainer is the status of a ready container running since now,
// restarted restarts times.
func RunningContainer(name string, restarts int32) corev1.ContainerStatus {
	started := true
	return corev1.ContainerStatus{
		Name:         name,
		Image:        PlaceholderImage,
		Ready:        true,
		Started:      &started,
		RestartCount: restarts,
		State:        corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}},
	}
}

// WaitingContainer is the status of a container that is not running, with a
// reason such as ImagePullBackOff or CreateContainerConfigError.
func WaitingContainer(name, reason, message string, restarts int32) corev1.ContainerStatus {
	started := false
	return corev1.ContainerStatus{
		Name:         name,
		Image:        PlaceholderImage,
		Started:      &started,
		RestartCount: restarts,
		State:        corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}},
	}
}

// CrashLoopingContainer is the status of a container in CrashLoopBackOff
// after restarts restarts, whose last instance terminated with exitCode and
// lastReason (e.g. "Error", or "OOMKilled" with exit code 137) a minute ago.
func CrashLoopingContainer(name string, restarts int32, lastReason string, exitCode int32) corev1.ContainerStatus {
	cs := WaitingContainer(name, "CrashLoopBackOff",
		fmt.Sprintf("back-off 5m0s restarting failed container=%s", name), restarts)
	cs.LastTerminationState = corev1.ContainerState{Terminated: TerminatedState(exitCode, lastReason, time.Now().Add(-time.Minute))}
	return cs
}

// TerminatedContainer is the status of a container that has terminated.
func TerminatedContainer(name string, exitCode int32, reason string, restarts int32) corev1.ContainerStatus {
	started := false
	return corev1.ContainerStatus{
		Name:         name,
		Image:        PlaceholderImage,
		Started:      &started,
		RestartCount: restarts,
		State:        corev1.ContainerState{Terminated: TerminatedState(exitCode, reason, time.Now())},
	}
}

// TerminatedState is a terminated container state that started ten seconds
// before finished; use it for State or LastTerminationState.
func TerminatedState(exitCode int32, reason string, finished time.Time) *corev1.ContainerStateTerminated {
	return &corev1.ContainerStateTerminated{
		ExitCode:   exitCode,
		Reason:     reason,
		StartedAt:  metav1.NewTime(finished.Add(-10 * time.Second)),
		FinishedAt: metav1.NewTime(finished),
	}
}
