package pods

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/opsbot/opsbot/checks"
)

const backoff = "back-off 5m0s restarting failed container=app pod=api-7d9f8c6b5-x2x9q_shop(1a2b)"

func TestFindings(t *testing.T) {
	tests := []struct {
		name string
		objs []runtime.Object
		want []string
		// wantDetail maps a fingerprint to substrings of its finding's detail.
		wantDetail map[string][]string
		// noDetail maps a fingerprint to substrings its detail must not have.
		noDetail map[string][]string
	}{
		{
			name: "three crash-looping replicas make one finding",
			objs: []runtime.Object{
				pod("api-7d9f8c6b5-x2x9q", ofDeployment("api", "7d9f8c6b5"), waiting("app", "CrashLoopBackOff", backoff), lastExit("app", "Error", 1, 2*time.Minute, 12)),
				pod("api-7d9f8c6b5-k8s7d", ofDeployment("api", "7d9f8c6b5"), waiting("app", "CrashLoopBackOff", backoff), lastExit("app", "Error", 1, 4*time.Minute, 11)),
				pod("api-7d9f8c6b5-pq2mn", ofDeployment("api", "7d9f8c6b5"), waiting("app", "CrashLoopBackOff", backoff), lastExit("app", "Error", 1, 3*time.Minute, 12)),
				pod("api-7d9f8c6b5-aaaaa", ofDeployment("api", "7d9f8c6b5")),
			},
			want: []string{
				"fail pods/shop/Deployment/api/app/CrashLoopBackOff | Deployment shop/api: 3/4 pods in CrashLoopBackOff (container app) | count=3",
			},
			wantDetail: map[string][]string{"pods/shop/Deployment/api/app/CrashLoopBackOff": {
				backoff + "; last exit: Error (exit code 1)",
				"pods: api-7d9f8c6b5-k8s7d, api-7d9f8c6b5-pq2mn, api-7d9f8c6b5-x2x9q",
			}},
		},
		{
			name: "ErrImagePull and ImagePullBackOff share one finding",
			objs: []runtime.Object{
				pod("web-5c4b-a", ofDeployment("web", "5c4b"), waiting("app", "ErrImagePull", `rpc error: pull access denied for registry/web:v2`)),
				pod("web-5c4b-b", ofDeployment("web", "5c4b"), waiting("app", "ImagePullBackOff", `Back-off pulling image "registry/web:v2"`)),
			},
			want: []string{
				"fail pods/shop/Deployment/web/app/ImagePullBackOff | Deployment shop/web: 2/2 pods in ErrImagePull/ImagePullBackOff (container app) | count=2",
			},
			wantDetail: map[string][]string{"pods/shop/Deployment/web/app/ImagePullBackOff": {"pull access denied for registry/web:v2"}},
		},
		{
			name: "a bare pod with a config error",
			objs: []runtime.Object{
				pod("debug", waiting("app", "CreateContainerConfigError", `secret "db-creds" not found`)),
			},
			want: []string{
				"fail pods/shop/Pod/debug/app/CreateContainerConfigError | Pod shop/debug: in CreateContainerConfigError (container app) | count=1",
			},
			wantDetail: map[string][]string{"pods/shop/Pod/debug/app/CreateContainerConfigError": {`secret "db-creds" not found`}},
			noDetail:   map[string][]string{"pods/shop/Pod/debug/app/CreateContainerConfigError": {"pods:"}},
		},
		{
			name: "other waiting errors; an unknown reason is a warning",
			objs: []runtime.Object{
				pod("db-0", ownedBy("StatefulSet", "db"), waiting("app", "InvalidImageName", `couldn't parse image name "db:"`)),
				pod("db-1", ownedBy("StatefulSet", "db"), waiting("app", "CreateContainerError", "context deadline exceeded")),
				pod("db-2", ownedBy("StatefulSet", "db"), waiting("app", "RunContainerError", "exec: no such file")),
				pod("agent-x1", ownedBy("DaemonSet", "agent"), waiting("app", "SomethingNew", "")),
				pod("agent-x2", ownedBy("DaemonSet", "agent"), pending(30*time.Second, "", "")),
			},
			want: []string{
				"fail pods/shop/StatefulSet/db/app/CreateContainerError | StatefulSet shop/db: 1/3 pods in CreateContainerError (container app) | count=1",
				"fail pods/shop/StatefulSet/db/app/InvalidImageName | StatefulSet shop/db: 1/3 pods in InvalidImageName (container app) | count=1",
				"fail pods/shop/StatefulSet/db/app/RunContainerError | StatefulSet shop/db: 1/3 pods in RunContainerError (container app) | count=1",
				"warn pods/shop/DaemonSet/agent/app/SomethingNew | DaemonSet shop/agent: 1/2 pods in SomethingNew (container app) | count=1",
			},
		},
		{
			name: "init container failures",
			objs: []runtime.Object{
				pod("worker-6f5e-a", ofDeployment("worker", "6f5e"), initTerminated("migrate", 1, "Error")),
				pod("migrate-7-zz9", ownedBy("Job", "migrate-7"), initWaiting("wait-db", "CrashLoopBackOff", "back-off 40s restarting failed container=wait-db")),
				// A finished init container and one still running are fine.
				pod("worker-6f5e-b", ofDeployment("worker", "6f5e"), initTerminated("setup", 0, "Completed"), created(time.Minute)),
				// A native sidecar (an init container restarted always) that
				// just exited is restarted, not a failed initialisation.
				pod("worker-6f5e-c", ofDeployment("worker", "6f5e"), func(p *corev1.Pod) {
					cs := containerStatus(p, "proxy", true)
					cs.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", FinishedAt: ago(time.Second)}
					p.Spec.InitContainers[0].RestartPolicy = ptr(corev1.ContainerRestartPolicyAlways)
				}),
			},
			want: []string{
				"fail pods/shop/Deployment/worker/migrate/InitContainerFailed | Deployment shop/worker: 1/3 pods failing to initialise (init container migrate) | count=1",
				"fail pods/shop/Job/migrate-7/wait-db/CrashLoopBackOff | Job shop/migrate-7: 1/1 pod in CrashLoopBackOff (init container wait-db) | count=1",
			},
			wantDetail: map[string][]string{"pods/shop/Deployment/worker/migrate/InitContainerFailed": {"exit: Error (exit code 1)"}},
		},
		{
			name: "OOM kills inside the window only",
			objs: []runtime.Object{
				pod("cache-1a-a", ofDeployment("cache", "1a"), lastExit("app", "OOMKilled", 137, 2*time.Hour, 9), memLimit("app", "512Mi")),
				pod("cache-1a-b", ofDeployment("cache", "1a"), lastExit("app", "OOMKilled", 137, 5*time.Hour, 1), memLimit("app", "512Mi")),
				pod("old-2b-a", ofDeployment("old", "2b"), lastExit("app", "OOMKilled", 137, 72*time.Hour, 9)),
				pod("nolimit", lastExit("app", "OOMKilled", 137, 30*time.Minute, 1)),
			},
			want: []string{
				"warn pods/shop/Deployment/cache/app/OOMKilled | Deployment shop/cache: 2/2 pods OOMKilled, last 2h ago (container app) | count=2",
				"warn pods/shop/Pod/nolimit/app/OOMKilled | Pod shop/nolimit: OOMKilled, last 30m ago (container app) | count=1",
			},
			wantDetail: map[string][]string{
				"pods/shop/Deployment/cache/app/OOMKilled": {"memory limit 512Mi, 9 restarts"},
				"pods/shop/Pod/nolimit/app/OOMKilled":      {"no memory limit"},
			},
		},
		{
			name: "restarts: over the threshold and recent only",
			objs: []runtime.Object{
				pod("flaky-3c-a", ofDeployment("flaky", "3c"), lastExit("app", "Error", 2, 40*time.Minute, 7)),
				pod("flaky-3c-b", ofDeployment("flaky", "3c"), lastExit("app", "Error", 2, 10*time.Minute, 4)),
				pod("stable-4d-a", ofDeployment("stable", "4d"), lastExit("app", "Error", 1, 30*24*time.Hour, 50)),
			},
			want: []string{
				"warn pods/shop/Deployment/flaky/app/Restarts | Deployment shop/flaky: 1/2 pods restarting often (up to 7 restarts, last 40m ago) (container app) | count=1",
			},
			wantDetail: map[string][]string{"pods/shop/Deployment/flaky/app/Restarts": {"last exit: Error (exit code 2)", "pods: flaky-3c-a"}},
		},
		{
			name: "pending for too long, with the scheduler's reason",
			objs: []runtime.Object{
				pod("big-9z-a", ofDeployment("big", "9z"), pending(25*time.Minute, "Unschedulable", "0/3 nodes are available: 3 Insufficient memory.")),
				pod("big-9z-b", ofDeployment("big", "9z"), pending(30*time.Second, "Unschedulable", "0/3 nodes are available: 3 Insufficient memory.")),
				pod("vol-8y-a", ofDeployment("vol", "8y"), pending(20*time.Minute, "", "")),
				pod("new-7x-a", ofDeployment("new", "7x"), pending(30*time.Second, "", "")),
				pod("orphan", pending(time.Hour, "", ""), func(p *corev1.Pod) {
					p.Spec.NodeName, p.Spec.SchedulerName, p.Status.Conditions = "", "my-scheduler", nil
				}),
			},
			want: []string{
				"warn pods/shop/Deployment/big/-/Pending | Deployment shop/big: 1/2 pods Pending for 25m (Unschedulable) | count=1",
				"warn pods/shop/Deployment/vol/-/Pending | Deployment shop/vol: 1/1 pod Pending for 20m | count=1",
				"warn pods/shop/Pod/orphan/-/Pending | Pod shop/orphan: Pending for 1h (NotScheduled) | count=1",
			},
			wantDetail: map[string][]string{
				"pods/shop/Deployment/big/-/Pending": {"0/3 nodes are available: 3 Insufficient memory."},
				"pods/shop/Deployment/vol/-/Pending": {"scheduled on node-1; not ready: app (ContainerCreating)"},
				"pods/shop/Pod/orphan/-/Pending":     {"no scheduler has looked at it (schedulerName my-scheduler)"},
			},
		},
		{
			name: "running but not ready for too long",
			objs: []runtime.Object{
				pod("slow-1q-a", ofDeployment("slow", "1q"), notReadySince(42*time.Minute, "containers with unready status: [app]")),
				pod("slow-1q-b", ofDeployment("slow", "1q"), notReadySince(2*time.Minute, "containers with unready status: [app]")),
			},
			want: []string{
				"warn pods/shop/Deployment/slow/-/NotReady | Deployment shop/slow: 1/2 pods Running but not Ready for 42m | count=1",
			},
			wantDetail: map[string][]string{"pods/shop/Deployment/slow/-/NotReady": {"containers with unready status: [app]"}},
		},
		{
			name: "failed and evicted pods inside the window",
			objs: []runtime.Object{
				pod("api-7d-e1", ofDeployment("api", "7d"), failed(2*time.Hour, "Evicted", "The node was low on resource: memory.")),
				pod("api-7d-e2", ofDeployment("api", "7d"), failed(5*time.Hour, "Evicted", "The node was low on resource: memory.")),
				pod("api-7d-e3", ofDeployment("api", "7d"), failed(5*24*time.Hour, "Evicted", "The node was low on resource: memory.")),
				pod("api-7d-ok", ofDeployment("api", "7d")),
				pod("oneoff", failed(time.Hour, "", "")),
				pod("etl-abcde", ownedBy("Job", "etl"), failed(time.Hour, "", "")),
			},
			want: []string{
				"fail pods/shop/Pod/oneoff/-/Failed | Pod shop/oneoff: Failed, last 1h ago | count=1",
				"warn pods/shop/Deployment/api/-/Evicted | Deployment shop/api: 2 pods Evicted, last 2h ago | count=2",
			},
			wantDetail: map[string][]string{
				"pods/shop/Pod/oneoff/-/Failed":      {"container app: Error (exit code 1)"},
				"pods/shop/Deployment/api/-/Evicted": {"The node was low on resource: memory.", "pods: api-7d-e1, api-7d-e2"},
			},
		},
		{
			// The status written after the pod was made (a restored pod,
			// or testenv's): its creation is newer than its eviction,
			// which is what the age and the window go by.
			name: "evicted pods are as old as their eviction, not their creation",
			objs: []runtime.Object{
				pod("web-5c-e1", ofDeployment("web", "5c"), failed(0, "Evicted", "The node was low on resource: memory."), func(p *corev1.Pod) {
					p.CreationTimestamp, p.Status.StartTime = ago(10*time.Minute), ptr(ago(10*time.Minute))
					p.Status.ContainerStatuses = nil
					p.Status.Conditions = []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
						Reason: "TerminationByKubelet", LastTransitionTime: ago(3 * time.Hour)}}
				}),
				pod("jobs-6d-e1", ofDeployment("jobs", "6d"), failed(0, "Evicted", "The node was low on resource: ephemeral-storage."), func(p *corev1.Pod) {
					p.CreationTimestamp, p.Status.StartTime = ago(10*time.Minute), ptr(ago(10*time.Minute))
					p.Status.Conditions = nil
					p.Status.ContainerStatuses[0].State.Terminated.FinishedAt = ago(30 * time.Hour) // outside the window
				}),
			},
			want: []string{
				"warn pods/shop/Deployment/web/-/Evicted | Deployment shop/web: 1 pod Evicted, last 3h ago | count=1",
			},
		},
		{
			name: "phase Unknown and stuck Terminating",
			objs: []runtime.Object{
				pod("agent-x1", ownedBy("DaemonSet", "agent"), func(p *corev1.Pod) {
					p.Status.Phase, p.Status.Reason, p.Status.Message = corev1.PodUnknown, "NodeLost", "Node node-1 which was running pod agent-x1 is unresponsive"
				}),
				pod("api-7d-t1", ofDeployment("api", "7d"), func(p *corev1.Pod) {
					p.DeletionTimestamp, p.Finalizers = ptr(ago(2*time.Hour)), []string{"example.com/hold"}
				}),
				// Being deleted right now, crash-looping: rollout noise.
				pod("api-7d-t2", ofDeployment("api", "7d"), waiting("app", "CrashLoopBackOff", ""), func(p *corev1.Pod) {
					p.DeletionTimestamp, p.Finalizers = ptr(metav1.NewTime(now.Add(20*time.Second))), []string{"example.com/hold"}
				}),
			},
			want: []string{
				"fail pods/shop/DaemonSet/agent/-/Unknown | DaemonSet shop/agent: 1/1 pod in phase Unknown | count=1",
				"warn pods/shop/Deployment/api/-/Terminating | Deployment shop/api: 1 pod stuck Terminating for 2h | count=1",
			},
			wantDetail: map[string][]string{
				"pods/shop/DaemonSet/agent/-/Unknown":    {"NodeLost: Node node-1 which was running pod agent-x1 is unresponsive; node node-1"},
				"pods/shop/Deployment/api/-/Terminating": {"node node-1; finalizers: example.com/hold"},
			},
		},
		{
			name: "deployments short of replicas",
			objs: []runtime.Object{
				deployment("short", 3, 1),
				pod("short-1a-a", ofDeployment("short", "1a")),
				pod("short-1a-b", ofDeployment("short", "1a"), notReadySince(time.Hour, "containers with unready status: [app]")),
				pod("short-1a-c", ofDeployment("short", "1a"), notReadySince(time.Hour, "containers with unready status: [app]")),
				deployment("down", 2, 0,
					deploymentCondition(appsv1.DeploymentAvailable, corev1.ConditionFalse, "MinimumReplicasUnavailable", "Deployment does not have minimum availability.", 5*time.Hour),
					deploymentCondition(appsv1.DeploymentReplicaFailure, corev1.ConditionTrue, "FailedCreate", `pods "down-5f-x" is forbidden: exceeded quota: compute`, 5*time.Hour)),
				deployment("idle", 0, 0),
				deployment("rolling", 3, 2,
					deploymentCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, "ReplicaSetUpdated", `ReplicaSet "rolling-2b" is progressing.`, 2*time.Minute)),
				deployment("stuck", 3, 3,
					deploymentCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, "ProgressDeadlineExceeded", `ReplicaSet "stuck-9c" has timed out progressing.`, time.Hour)),
				deployment("scaling", 4, 3),
				pod("scaling-3d-a", ofDeployment("scaling", "3d")),
				pod("scaling-3d-b", ofDeployment("scaling", "3d")),
				pod("scaling-3d-c", ofDeployment("scaling", "3d")),
				pod("scaling-3d-d", ofDeployment("scaling", "3d"), pending(time.Minute, "", "")),
				deployment("lagging", 3, 1, func(d *appsv1.Deployment) { d.Generation = 4 }),
			},
			want: []string{
				"fail pods/shop/Deployment/down/-/ReplicasUnavailable | Deployment shop/down: 0/2 replicas available | count=2",
				"warn pods/shop/Deployment/short/-/NotReady | Deployment shop/short: 2/3 pods Running but not Ready for 1h | count=2",
				"warn pods/shop/Deployment/short/-/ReplicasUnavailable | Deployment shop/short: 1/3 replicas available | count=2",
				"warn pods/shop/Deployment/stuck/-/ProgressDeadlineExceeded | Deployment shop/stuck: rollout stuck (ProgressDeadlineExceeded) | count=0",
			},
			wantDetail: map[string][]string{
				"pods/shop/Deployment/down/-/ReplicasUnavailable":       {"exceeded quota: compute"},
				"pods/shop/Deployment/short/-/ReplicasUnavailable":      {"not ready: short-1a-b, short-1a-c"},
				"pods/shop/Deployment/stuck/-/ProgressDeadlineExceeded": {`ReplicaSet "stuck-9c" has timed out progressing.`},
			},
		},
		{
			name: "statefulsets short of ready replicas",
			objs: []runtime.Object{
				statefulSet("db", 3, 1),
				pod("db-0", ownedBy("StatefulSet", "db")),
				pod("db-1", ownedBy("StatefulSet", "db"), notReadySince(time.Hour, "")),
				pod("db-2", ownedBy("StatefulSet", "db"), notReadySince(time.Hour, "")),
				statefulSet("cache", 2, 1),
				pod("cache-0", ownedBy("StatefulSet", "cache")),
				pod("cache-1", ownedBy("StatefulSet", "cache"), pending(time.Minute, "", "")),
				statefulSet("queue", 2, 0),
			},
			want: []string{
				"fail pods/shop/StatefulSet/queue/-/ReplicasUnavailable | StatefulSet shop/queue: 0/2 replicas ready | count=2",
				"warn pods/shop/StatefulSet/db/-/NotReady | StatefulSet shop/db: 2/3 pods Running but not Ready for 1h | count=2",
				"warn pods/shop/StatefulSet/db/-/ReplicasUnavailable | StatefulSet shop/db: 1/3 replicas ready | count=2",
			},
		},
		{
			name: "failed jobs and cronjobs whose last run failed",
			objs: []runtime.Object{
				job("migrate-42", 2*time.Hour, batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
				job("migrate-41", 72*time.Hour, batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
				job("migrate-43", time.Hour, batchv1.JobComplete, "", ""),
				cronJob("report", false),
				job("report-100", 3*time.Hour, batchv1.JobComplete, "", "", ofCronJob("report")),
				job("report-101", 2*time.Hour, batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit", ofCronJob("report")),
				job("report-102", time.Hour, batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit", ofCronJob("report")),
				job("report-103", 0, "", "", "", ofCronJob("report")),
				pod("report-103-q7x", ownedBy("Job", "report-103"), waiting("app", "CrashLoopBackOff", "")),
				cronJob("sync", false),
				job("sync-1", 3*time.Hour, batchv1.JobFailed, "BackoffLimitExceeded", "", ofCronJob("sync")),
				job("sync-2", time.Hour, batchv1.JobComplete, "", "", ofCronJob("sync")),
				cronJob("paused", true),
				job("paused-1", time.Hour, batchv1.JobFailed, "BackoffLimitExceeded", "", ofCronJob("paused")),
				cronJob("nightly", false),
				job("nightly-1", 30*time.Hour, batchv1.JobFailed, "DeadlineExceeded", "Job was active longer than specified deadline", ofCronJob("nightly")),
				job("nightly-2", 0, "", "", "", ofCronJob("nightly")),
			},
			want: []string{
				"fail pods/shop/CronJob/nightly/-/JobFailed | CronJob shop/nightly: last run failed (DeadlineExceeded), 30h ago | count=1",
				"fail pods/shop/CronJob/report/-/JobFailed | CronJob shop/report: last run failed (BackoffLimitExceeded), 1h ago | count=2",
				"fail pods/shop/CronJob/report/app/CrashLoopBackOff | CronJob shop/report: 1/1 pod in CrashLoopBackOff (container app) | count=1",
				"fail pods/shop/Job/migrate-42/-/JobFailed | Job shop/migrate-42: failed (BackoffLimitExceeded), 2h ago | count=1",
			},
			wantDetail: map[string][]string{
				"pods/shop/CronJob/report/-/JobFailed": {"Job has reached the specified backoff limit", "job: report-102"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, Config{}, tt.objs...)
			sameLines(t, "findings", briefs(res.Findings), tt.want)
			if want := checks.Summarize(res.Findings); res.Status != want {
				t.Errorf("status %s, want %s", res.Status, want)
			}
			for _, f := range res.Findings {
				if f.Object == "" || !strings.HasPrefix(f.Title, f.Object+": ") {
					t.Errorf("finding %s: object %q does not start its title %q", f.Fingerprint, f.Object, f.Title)
				}
				for _, s := range tt.wantDetail[f.Fingerprint] {
					if !strings.Contains(f.Detail, s) {
						t.Errorf("finding %s: detail %q does not contain %q", f.Fingerprint, f.Detail, s)
					}
				}
				for _, s := range tt.noDetail[f.Fingerprint] {
					if strings.Contains(f.Detail, s) {
						t.Errorf("finding %s: detail %q contains %q", f.Fingerprint, f.Detail, s)
					}
				}
			}
		})
	}
}

// A healthy namespace is OK: no false positives from the normal life of
// pods, jobs and workloads.
func TestHealthyNamespace(t *testing.T) {
	objs := []runtime.Object{
		deployment("api", 3, 3),
		pod("api-7d9f8c6b5-a", ofDeployment("api", "7d9f8c6b5")),
		pod("api-7d9f8c6b5-b", ofDeployment("api", "7d9f8c6b5"), lastExit("app", "Error", 1, time.Hour, 3)),         // few restarts
		pod("api-7d9f8c6b5-c", ofDeployment("api", "7d9f8c6b5"), lastExit("app", "Error", 1, 30*24*time.Hour, 50)),  // restarts long ago
		pod("api-7d9f8c6b5-old", ofDeployment("api", "7d9f8c6b5"), failed(5*24*time.Hour, "Evicted", "low memory")), // evicted long ago
		pod("worker-1", ownedBy("StatefulSet", "worker"), lastExit("app", "OOMKilled", 137, 72*time.Hour, 1)),       // OOM long ago
		// A pod of a new deployment still being created 30s after it was.
		deployment("web", 2, 1),
		pod("web-5c4b-a", ofDeployment("web", "5c4b")),
		pod("web-5c4b-b", ofDeployment("web", "5c4b"), pending(30*time.Second, "", "")),
		pod("web-5c4b-c", ofDeployment("web", "5c4b"), func(p *corev1.Pod) { p.CreationTimestamp = ago(30 * time.Second) },
			waiting("app", "ContainerCreating", ""), func(p *corev1.Pod) { p.Status.Phase = corev1.PodPending }),
		pod("web-5c4b-d", ofDeployment("web", "5c4b"), initWaiting("setup", "PodInitializing", ""), created(time.Minute)),
		deployment("idle", 0, 0),
		statefulSet("worker", 1, 1),
		pod("agent-x1", ownedBy("DaemonSet", "agent")),
		// Completed jobs and their pods.
		cronJob("backup", false),
		job("backup-1", 25*time.Hour, batchv1.JobFailed, "BackoffLimitExceeded", "", ofCronJob("backup")),
		job("backup-2", time.Hour, batchv1.JobComplete, "", "", ofCronJob("backup")),
		pod("backup-2-xyz", ownedBy("Job", "backup-2"), succeeded),
		job("migrate-1", time.Hour, batchv1.JobComplete, "", ""),
		pod("migrate-1-abc", ownedBy("Job", "migrate-1"), succeeded),
		pod("migrate-1-def", ownedBy("Job", "migrate-1"), failed(time.Hour, "", "")), // a retried pod
		job("etl", 0, "", "", ""),
		// A suspended CronJob whose last run failed.
		cronJob("paused", true),
		job("paused-1", time.Hour, batchv1.JobFailed, "BackoffLimitExceeded", "", ofCronJob("paused")),
		pod("oneoff", succeeded),
	}
	res := run(t, Config{}, objs...)
	if res.Status != checks.OK || len(res.Findings) != 0 {
		t.Fatalf("status %s, findings:\n  %s", res.Status, strings.Join(briefs(res.Findings), "\n  "))
	}
	if want := "14 pods in shop: all healthy"; res.Summary != want {
		t.Errorf("summary %q, want %q", res.Summary, want)
	}
}

// Fingerprints do not change when pods are replaced (new names, a new
// pod-template hash after a rollout, a new CronJob run) or when counts and
// messages change.
func TestFingerprintsStable(t *testing.T) {
	before := []runtime.Object{
		pod("api-7d9f8c6b5-x2x9q", ofDeployment("api", "7d9f8c6b5"), waiting("app", "CrashLoopBackOff", backoff), lastExit("app", "OOMKilled", 137, time.Minute, 12)),
		pod("api-7d9f8c6b5-k8s7d", ofDeployment("api", "7d9f8c6b5"), waiting("app", "CrashLoopBackOff", backoff)),
		pod("web-5c4b-a", ofDeployment("web", "5c4b"), waiting("app", "ErrImagePull", "")),
		cronJob("report", false),
		job("report-100", time.Hour, batchv1.JobFailed, "BackoffLimitExceeded", "", ofCronJob("report")),
		pod("report-100-a", ownedBy("Job", "report-100"), waiting("app", "CrashLoopBackOff", "")),
		pod("db-1", ownedBy("StatefulSet", "db"), notReadySince(time.Hour, "")),
	}
	after := []runtime.Object{
		pod("api-5c4b3a2d1-zzzzz", ofDeployment("api", "5c4b3a2d1"), waiting("app", "CrashLoopBackOff", "back-off 2m40s"), lastExit("app", "OOMKilled", 137, 5*time.Minute, 3)),
		pod("api-5c4b3a2d1-yyyyy", ofDeployment("api", "5c4b3a2d1"), waiting("app", "CrashLoopBackOff", "")),
		pod("api-5c4b3a2d1-wwwww", ofDeployment("api", "5c4b3a2d1"), waiting("app", "CrashLoopBackOff", "")),
		pod("web-6d7e-b", ofDeployment("web", "6d7e"), waiting("app", "ImagePullBackOff", "Back-off pulling image")),
		cronJob("report", false),
		job("report-101", 30*time.Minute, batchv1.JobFailed, "DeadlineExceeded", "", ofCronJob("report")),
		pod("report-101-b", ownedBy("Job", "report-101"), waiting("app", "CrashLoopBackOff", "")),
		pod("db-1", ownedBy("StatefulSet", "db"), notReadySince(3*time.Hour, "other message")),
	}
	fps := func(objs []runtime.Object) []string {
		res := run(t, Config{}, objs...)
		var out []string
		for _, f := range res.Findings {
			out = append(out, f.Fingerprint)
		}
		return out
	}
	b, a := fps(before), fps(after)
	sameLines(t, "fingerprints after the pods were replaced", a, b)
	if len(b) != 6 {
		t.Errorf("want 6 findings, got %d: %v", len(b), b)
	}
	for _, fp := range b {
		for _, bad := range []string{"7d9f8c6b5", "x2x9q", "report-100", "12"} {
			if strings.Contains(fp, bad) {
				t.Errorf("fingerprint %q contains %q", fp, bad)
			}
		}
	}
}

func TestOwnerOf(t *testing.T) {
	cronOf := map[string]string{"report-29383920": "report"}
	tests := []struct {
		pod  *corev1.Pod
		want owner
	}{
		{pod("api-7d9f8c6b5-x2x9q", ofDeployment("api", "7d9f8c6b5")), owner{"Deployment", "api"}},
		{pod("my-app-v2-7d9f-x", ofDeployment("my-app-v2", "7d9f")), owner{"Deployment", "my-app-v2"}},
		// A ReplicaSet not made by a Deployment keeps its name.
		{pod("rs-x", ownedBy("ReplicaSet", "frontend")), owner{"ReplicaSet", "frontend"}},
		{pod("canary-x", ownedBy("ReplicaSet", "canary-6b8f"), func(p *corev1.Pod) { p.Labels[rolloutsTemplateLabel] = "6b8f" }), owner{"Rollout", "canary"}},
		{pod("db-0", ownedBy("StatefulSet", "db")), owner{"StatefulSet", "db"}},
		{pod("agent-x", ownedBy("DaemonSet", "agent")), owner{"DaemonSet", "agent"}},
		{pod("report-29383920-x", ownedBy("Job", "report-29383920")), owner{"CronJob", "report"}},
		{pod("migrate-x", ownedBy("Job", "migrate")), owner{"Job", "migrate"}},
		{pod("debug"), owner{"Pod", "debug"}},
		{pod("kube-proxy-node-1", ownedBy("Node", "node-1")), owner{"Node", "node-1"}},
	}
	for _, tt := range tests {
		if got := ownerOf(tt.pod, cronOf); got != tt.want {
			t.Errorf("ownerOf(%s) = %v, want %v", tt.pod.Name, got, tt.want)
		}
	}
}

func TestWindowConfig(t *testing.T) {
	objs := []runtime.Object{
		pod("cache-1a-a", ofDeployment("cache", "1a"), lastExit("app", "OOMKilled", 137, 30*time.Hour, 1)),
		pod("flaky-3c-a", ofDeployment("flaky", "3c"), lastExit("app", "Error", 1, 30*time.Hour, 9)),
		pod("flaky-3c-b", ofDeployment("flaky", "3c"), lastExit("app", "Error", 1, time.Hour, 3)),
	}
	// The default window (24h) does not see 30h ago.
	if res := run(t, Config{}, objs...); len(res.Findings) != 0 {
		t.Errorf("window 24h: unexpected findings %v", briefs(res.Findings))
	}
	// A 48h window (e.g. the environment's, passed in Config.Window) does;
	// a threshold of 3 catches the other pod.
	res := run(t, Config{Window: model48h, RestartThreshold: 3}, objs...)
	sameLines(t, "window 48h", briefs(res.Findings), []string{
		"warn pods/shop/Deployment/cache/app/OOMKilled | Deployment shop/cache: 1/1 pod OOMKilled, last 30h ago (container app) | count=1",
		"warn pods/shop/Deployment/flaky/app/Restarts | Deployment shop/flaky: 2/2 pods restarting often (up to 9 restarts, last 1h ago) (container app) | count=2",
	})
}

func TestAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second:                    "0s",
		45 * time.Second:                "45s",
		12*time.Minute + 30*time.Second: "12m",
		5*time.Hour + 12*time.Minute:    "5h12m",
		2 * time.Hour:                   "2h",
		30*time.Hour + 5*time.Minute:    "30h",
		72 * time.Hour:                  "3d",
	} {
		if got := age(d); got != want {
			t.Errorf("age(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestOneLine(t *testing.T) {
	got := oneLine("panic: boom\r\ngoroutine 1 [running]:\nmain.main()\n")
	if want := "panic: boom ⏎ goroutine 1 [running]: ⏎ main.main()"; got != want {
		t.Errorf("oneLine = %q, want %q", got, want)
	}
	long := oneLine(strings.Repeat("é", 400))
	if n := len([]rune(long)); n != maxMessageRunes+1 || !strings.HasSuffix(long, "…") {
		t.Errorf("a long message is not truncated to %d runes and an ellipsis: %d runes", maxMessageRunes, n)
	}
}
