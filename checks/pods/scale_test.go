package pods

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"strconv"
	"testing"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/opsbot/opsbot/checks"
)

// The scale rig: a namespace of many healthy pods spread over a few
// Deployments, plus a fixed set of unhealthy pods. The pods are generated
// page by page by a reactor, so that the fake clientset's own storage does
// not hold them: what stays in memory during a run is the check's.

const (
	scaleDeployments = 20          // the healthy pods' Deployments
	scaleHash        = "5f7c9d8b4" // their pod-template-hash
)

// realisticPod is a healthy pod as the API server returns one: labels,
// annotations, managed fields, a container with its environment, probes,
// resources and mounts, volumes, tolerations and a full status (about
// 4 KB in memory, as a typed object from a real cluster is).
func realisticPod(i int) corev1.Pod {
	dep := "web-" + strconv.Itoa(i%scaleDeployments)
	p := pod(fmt.Sprintf("%s-%s-%06d", dep, scaleHash, i), ofDeployment(dep, scaleHash))
	p.UID = types.UID(fmt.Sprintf("0b6a4f3e-%08d", i))
	p.ResourceVersion = strconv.Itoa(100000 + i)
	p.GenerateName = dep + "-" + scaleHash + "-"
	p.Labels["app.kubernetes.io/name"] = dep
	p.Labels["app.kubernetes.io/part-of"] = "shop"
	p.Labels["app.kubernetes.io/version"] = "1.42.0"
	p.Annotations = map[string]string{
		"prometheus.io/scrape":                  "true",
		"prometheus.io/port":                    "9090",
		"kubectl.kubernetes.io/restartedAt":     "2026-11-20T08:00:00Z",
		"checksum/config":                       "3b1f0c9d2e4a5b6c7d8e9f00112233445566778899aabbccddeeff0011223344",
		"cluster-autoscaler.kubernetes.io/safe": "true",
	}
	fields := `{"f:metadata":{"f:generateName":{},"f:labels":{".":{},"f:app.kubernetes.io/name":{},` +
		`"f:pod-template-hash":{}},"f:ownerReferences":{".":{},"k:{\"uid\":\"uid-` + dep + `\"}":{}}},` +
		`"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:env":{},"f:image":{},"f:imagePullPolicy":{},` +
		`"f:name":{},"f:ports":{},"f:readinessProbe":{},"f:resources":{},"f:volumeMounts":{}}},"f:dnsPolicy":{},` +
		`"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{},"f:volumes":{}}}`
	status := `{"f:status":{"f:conditions":{"k:{\"type\":\"Ready\"}":{".":{},"f:lastProbeTime":{},` +
		`"f:lastTransitionTime":{},"f:status":{},"f:type":{}}},"f:containerStatuses":{},"f:hostIP":{},` +
		`"f:phase":{},"f:podIP":{},"f:podIPs":{},"f:startTime":{}}}`
	p.ManagedFields = []metav1.ManagedFieldsEntry{
		{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1",
			Time: ptr(ago(3 * time.Hour)), FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(fields)},
		{Manager: "kubelet", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1",
			Time: ptr(ago(2 * time.Hour)), FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(status),
			Subresource: "status"},
	}
	c := &p.Spec.Containers[0]
	c.Image = "registry.example.com/shop/" + dep + ":1.42.0"
	c.ImagePullPolicy = corev1.PullIfNotPresent
	c.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP},
		{Name: "metrics", ContainerPort: 9090, Protocol: corev1.ProtocolTCP}}
	for _, kv := range [][2]string{{"LOG_LEVEL", "info"}, {"DATABASE_HOST", "postgres.shop.svc.cluster.local"},
		{"DATABASE_PORT", "5432"}, {"CACHE_URL", "redis://redis.shop.svc.cluster.local:6379/0"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel-collector.observability:4317"}, {"GOMAXPROCS", "2"}} {
		c.Env = append(c.Env, corev1.EnvVar{Name: kv[0], Value: kv[1]})
	}
	c.Resources = corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")},
	}
	c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
		Path: "/healthz", Port: intstr.FromString("http")}}, PeriodSeconds: 10}
	c.VolumeMounts = []corev1.VolumeMount{{Name: "config", MountPath: "/etc/app"},
		{Name: "kube-api-access-x7k2p", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true}}
	p.Spec.Volumes = []corev1.Volume{
		{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: dep + "-config"}}}},
		{Name: "kube-api-access-x7k2p", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
			Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
				Path: "token", ExpirationSeconds: ptr(int64(3607))}}}}}},
	}
	p.Spec.Tolerations = []corev1.Toleration{
		{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))},
		{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))},
	}
	p.Spec.ServiceAccountName = "default"
	p.Spec.SchedulerName = corev1.DefaultSchedulerName
	p.Spec.NodeName = "node-" + strconv.Itoa(i%50)
	p.Status.HostIP = "10.0.1." + strconv.Itoa(i%50)
	p.Status.PodIP = fmt.Sprintf("10.244.%d.%d", i/250%256, i%250)
	p.Status.PodIPs = []corev1.PodIP{{IP: p.Status.PodIP}}
	p.Status.QOSClass = corev1.PodQOSBurstable
	cs := &p.Status.ContainerStatuses[0]
	cs.Image, cs.ImageID = c.Image, "registry.example.com/shop/"+dep+"@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	cs.ContainerID = "containerd://" + fmt.Sprintf("%064x", i)
	cs.Started = ptr(true)
	return *p
}

// scaleUnhealthy are the pods that become findings, the same at every scale.
func scaleUnhealthy() []corev1.Pod {
	var out []corev1.Pod
	for i := range 5 {
		out = append(out, *pod(fmt.Sprintf("api-7d9f8c6b5-%d", i), ofDeployment("api", "7d9f8c6b5"),
			waiting("app", "CrashLoopBackOff", backoff), lastExit("app", "Error", 1, 2*time.Minute, 12)))
	}
	out = append(out,
		*pod("worker-6c8d9f7b5-0", ofDeployment("worker", "6c8d9f7b5"), memLimit("app", "256Mi"),
			lastExit("app", reasonOOMKilled, 137, time.Hour, 3)),
		*pod("batch-0", ownedBy("StatefulSet", "batch"), pending(time.Hour, "Unschedulable", "0/50 nodes are available: 50 Insufficient memory.")),
		*pod("report-29383920-x", ownedBy("Job", "report-29383920"), waiting("app", "ImagePullBackOff", "Back-off pulling image")),
	)
	return out
}

// scaleRig is a fake clientset whose pod List serves healthy generated pods
// and then the unhealthy ones, in pages of the asked Limit. atPage, if not
// nil, is called before each page of every List the check makes.
func scaleRig(healthy int, atPage func()) *fake.Clientset {
	cs := fake.NewClientset(
		deployment("api", 5, 0), deployment("worker", 1, 1), statefulSet("batch", 1, 0),
		cronJob("report", false),
		job("report-29383920", 0, "", "", "", ofCronJob("report")),
	)
	unhealthy := scaleUnhealthy()
	total := healthy + len(unhealthy)
	cs.PrependReactor("list", "*", func(k8stesting.Action) (bool, k8sruntime.Object, error) {
		if atPage != nil {
			atPage()
		}
		return false, nil, nil
	})
	cs.PrependReactor("list", "pods", func(a k8stesting.Action) (bool, k8sruntime.Object, error) {
		if atPage != nil {
			atPage()
		}
		opts := a.(k8stesting.ListActionImpl).ListOptions
		from := 0
		if opts.Continue != "" {
			from, _ = strconv.Atoi(opts.Continue)
		}
		to := min(from+int(opts.Limit), total)
		list := &corev1.PodList{Items: make([]corev1.Pod, 0, to-from)}
		for i := from; i < to; i++ {
			if i < healthy {
				list.Items = append(list.Items, realisticPod(i))
			} else {
				list.Items = append(list.Items, unhealthy[i-healthy])
			}
		}
		if to < total {
			list.Continue = strconv.Itoa(to)
		}
		return true, list, nil
	})
	return cs
}

func scaleCheck(tb testing.TB, cs *fake.Clientset) *Check {
	tb.Helper()
	c, err := New(cs, []string{ns}, Config{}, clock, zap.NewNop())
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// liveHeap is the heap in use after a full collection: what is reachable.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// The check's memory depends on its findings, not on the number of pods:
// the live heap at its peak (measured between pages and kinds, after a
// full collection) is about the same with 1,000 and with 10,000 healthy
// pods beside the same unhealthy ones. Holding every listed pod costs some
// 4 KB a pod, 36 MB for the 9,000 more.
func TestMemoryDoesNotGrowWithHealthyPods(t *testing.T) {
	if testing.Short() {
		t.Skip("lists 11,000 generated pods")
	}
	peak := func(healthy int) (uint64, checks.Result) {
		var base, top uint64
		cs := scaleRig(healthy, func() { top = max(top, liveHeap()) })
		c := scaleCheck(t, cs)
		base = liveHeap()
		res := c.Run(context.Background())
		if top < base {
			return 0, res
		}
		return top - base, res
	}
	small, resSmall := peak(1000)
	large, resLarge := peak(10000)
	t.Logf("peak live heap above the start: %d KB with 1,000 healthy pods, %d KB with 10,000", small>>10, large>>10)

	if want := "10008 pods in shop: 6 problems"; resLarge.Summary != want {
		t.Errorf("summary %q, want %q", resLarge.Summary, want)
	}
	sameLines(t, "findings", briefs(resSmall.Findings), []string{
		"fail pods/shop/CronJob/report/app/ImagePullBackOff | CronJob shop/report: 1/1 pod in ImagePullBackOff (container app) | count=1",
		"fail pods/shop/Deployment/api/-/ReplicasUnavailable | Deployment shop/api: 0/5 replicas available | count=5",
		"fail pods/shop/Deployment/api/app/CrashLoopBackOff | Deployment shop/api: 5/5 pods in CrashLoopBackOff (container app) | count=5",
		"fail pods/shop/StatefulSet/batch/-/ReplicasUnavailable | StatefulSet shop/batch: 0/1 replicas ready | count=1",
		"warn pods/shop/Deployment/worker/app/OOMKilled | Deployment shop/worker: 1/1 pod OOMKilled, last 1h ago (container app) | count=1",
		"warn pods/shop/StatefulSet/batch/-/Pending | StatefulSet shop/batch: 1/1 pod Pending for 1h (Unschedulable) | count=1",
	})
	if !reflect.DeepEqual(resLarge.Findings, resSmall.Findings) {
		t.Errorf("the findings differ between 1,000 and 10,000 healthy pods:\n%+v\n%+v", resSmall.Findings, resLarge.Findings)
	}

	const bound = 1 << 20
	if large > small+bound {
		t.Errorf("the peak live heap grew by %d KB from 1,000 to 10,000 healthy pods, want at most %d KB",
			(large-small)>>10, bound>>10)
	}
}

// BenchmarkRun runs the check over a namespace of generated pods (see
// scaleRig); with -benchmem it says what a run allocates.
func BenchmarkRun(b *testing.B) {
	for _, healthy := range []int{2000, 10000} {
		b.Run(fmt.Sprintf("pods=%d", healthy), func(b *testing.B) {
			c := scaleCheck(b, scaleRig(healthy, nil))
			b.ReportAllocs()
			for b.Loop() {
				if res := c.Run(context.Background()); len(res.Findings) != 6 {
					b.Fatalf("%d findings: %s", len(res.Findings), res.Summary)
				}
			}
		})
	}
}

// BenchmarkRig lists the rig's pods as the check does, without the check:
// what it allocates is the rig's and the fake clientset's share of
// BenchmarkRun's figures.
func BenchmarkRig(b *testing.B) {
	for _, healthy := range []int{2000, 10000} {
		b.Run(fmt.Sprintf("pods=%d", healthy), func(b *testing.B) {
			cs := scaleRig(healthy, nil)
			b.ReportAllocs()
			for b.Loop() {
				n := 0
				err := listPages(context.Background(), DefaultPageSize, cs.CoreV1().Pods(ns).List,
					func(l *corev1.PodList) []corev1.Pod { return l.Items }, func(*corev1.Pod) { n++ })
				if err != nil || n != healthy+len(scaleUnhealthy()) {
					b.Fatalf("%d pods listed: %v", n, err)
				}
			}
		})
	}
}
