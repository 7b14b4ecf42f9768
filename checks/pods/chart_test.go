package pods

import (
	"testing"
	"time"

	"github.com/opsbot/opsbot/checks"
)

func TestFindingsSayHowToChartOOMKillsAndRestarts(t *testing.T) {
	res := run(t, Config{},
		pod("cache-1a-a", ofDeployment("cache", "1a"), lastExit("app", "OOMKilled", 137, 2*time.Hour, 9), memLimit("app", "512Mi")),
		pod("cache-1a-b", ofDeployment("cache", "1a"), lastExit("app", "OOMKilled", 137, 5*time.Hour, 1), memLimit("app", "512Mi")),
		pod("api-2b-a", ofDeployment("api", "2b"), waiting("api", "CrashLoopBackOff", "back-off 5m0s")),
		pod("web-3c-a", ofDeployment("web", "3c"), waiting("web", "ImagePullBackOff", "not found")),
	)
	charts := map[string]*checks.ChartSource{}
	for _, f := range res.Findings {
		charts[f.Fingerprint] = f.Chart
	}
	oom := charts["pods/shop/Deployment/cache/app/OOMKilled"]
	if oom == nil {
		t.Fatalf("no chart for the OOM kills; findings %v", briefs(res.Findings))
	}
	sel := `namespace="shop", pod=~"cache-1a-a|cache-1a-b", container="app"`
	if want := "max by (pod) (container_memory_working_set_bytes{" + sel + "})\n  / on (pod)\n" +
		"max by (pod) (kube_pod_container_resource_limits{" + sel + `, resource="memory"})`; oom.Query != want {
		t.Errorf("OOM chart query\n%s\nwant\n%s", oom.Query, want)
	}
	if oom.Fail == nil || *oom.Fail != 1 || oom.Unit != "ratio" || !oom.At.Equal(now) || oom.Window != DefaultWindow ||
		oom.Title != "memory vs limit: Deployment shop/cache (container app)" {
		t.Errorf("OOM chart %+v", oom)
	}
	crash := charts["pods/shop/Deployment/api/api/CrashLoopBackOff"]
	if crash == nil || crash.Query != `max by (pod) (kube_pod_container_status_restarts_total{namespace="shop", pod=~"api-2b-a", container="api"})` ||
		crash.Fail != nil || crash.Warn != nil {
		t.Errorf("CrashLoopBackOff chart %+v", crash)
	}
	if c := charts["pods/shop/Deployment/web/web/ImagePullBackOff"]; c != nil {
		t.Errorf("ImagePullBackOff has a chart %+v: it never ran, there is nothing to draw", c)
	}
}
