package metrics

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/testenv"
)

// TestNetworkAgainstPrometheus runs the network built-ins against a real
// Prometheus scraping cAdvisor-shaped counters, including the shapes that
// make a naive sum wrong: the same interface reported on the pod's cgroup
// and on its pause container, and a busy loopback.
func TestNetworkAgainstPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Prometheus; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env, err := testenv.Start(ctx, testenv.Options{Prometheus: &testenv.PrometheusOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })

	const rx, tx = "container_network_receive_bytes_total", "container_network_transmit_bytes_total"
	nic := func(ns, pod, container, iface string) testenv.Labels {
		return testenv.Labels{"namespace": ns, "pod": pod, "container": container, "interface": iface}
	}
	series := []struct {
		metric string
		l      testenv.Labels
		rate   float64 // bytes per second
	}{
		// api: 60 MB/s in on eth0 (48% of 1 Gbit/s), reported twice by
		// cAdvisor; summed naively it would be 96%. Its loopback is busy
		// and must not count.
		{rx, nic("shop", "api-1", "", "eth0"), 60e6},
		{rx, nic("shop", "api-1", "POD", "eth0"), 60e6},
		{rx, nic("shop", "api-1", "", "lo"), 500e6},
		// api sends 50 + 55 MB/s on two interfaces: 84% (warn).
		{tx, nic("shop", "api-1", "", "eth0"), 50e6},
		{tx, nic("shop", "api-1", "", "eth1"), 55e6},
		// worker receives 120 MB/s: 96% (fail), and sends little.
		{rx, nic("shop", "worker-1", "", "eth0"), 120e6},
		{tx, nic("shop", "worker-1", "", "eth0"), 1e6},
		// Over the limit, but in a namespace not watched.
		{rx, nic("other", "batch-1", "", "eth0"), 124e6},
	}
	// rate(...[5m]) divides by the whole five minutes, and Prometheus has
	// only seconds of samples. So each counter starts at 0 and then jumps
	// by five minutes' worth of bytes: that is what a counter looks like
	// to rate() after five minutes at that rate. A counter scraped from 0
	// is not extrapolated before its first sample, so once 20 samples are
	// in, the rate is within 5% of the planted one.
	for _, c := range series {
		if err := env.Exporter.SetCounter(c.metric, c.l, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.Prometheus.WaitForQuery(ctx, `count(container_network_receive_bytes_total) == 5`); err != nil {
		t.Fatal(err)
	}
	for _, c := range series {
		if err := env.Exporter.SetCounter(c.metric, c.l, c.rate*300, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.Prometheus.WaitForQuery(ctx, `min(count_over_time(container_network_transmit_bytes_total[5m])) >= 20 and min(container_network_transmit_bytes_total) > 0`); err != nil {
		t.Fatal(err)
	}

	limit, err := ParseBandwidth("1Gbit/s")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{DisableDefaults: []string{"cpu", "memory", "pvc", "restarts", "http5xx", "latencyP99"}, NetworkLimit: limit}
	c, err := New(cfg, Env{PrometheusURL: env.Prometheus.URL(), Namespaces: []string{"shop"}}, nil, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	res := c.Run(ctx)
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.Severity.String()+" "+f.Object+" "+strings.SplitN(f.Title, " ", 4)[1])
		if !strings.Contains(f.Title, "(1 Gbit/s)") {
			t.Errorf("title %q does not name the limit", f.Title)
		}
	}
	slices.Sort(got)
	want := []string{"fail shop/worker-1 receive", "warn shop/api-1 transmit"}
	if !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q (result %+v)", got, want, res)
	}
	if res.Status != checks.Fail {
		t.Errorf("status %v, want fail", res.Status)
	}
}
