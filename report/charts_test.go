package report

import (
	"bytes"
	"testing"
)

func TestWriteChartsGolden(t *testing.T) {
	var b bytes.Buffer
	err := WriteCharts(&b, Charts{Dir: "/tmp/charts", None: 1,
		Written: []string{"metrics_memory_namespace_shop_pod_api-1-1a2b3c4d.png", "metrics_restarts_namespace_shop-5e6f7a8b.png"},
		Failed:  []ChartFailure{{Fingerprint: "metrics/cpu/namespace=shop", Err: "prometheus http://prom:9090 returned 503: \x1b[2Jdown"}}})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "charts.golden", b.Bytes())
}
