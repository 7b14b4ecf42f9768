package testenv_test

import (
	"context"
	"fmt"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/opsbot/opsbot/testenv"
)

// A package's integration tests start what they need once, in TestMain
// (written here as a plain function: an example cannot be named TestMain).
// Under -short they would skip starting anything.
func Example_testMain() {
	run := func() int {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel() // bounds start-up only: the components keep running
		env, err := testenv.Start(ctx, testenv.Options{
			Kube:         &testenv.KubeOptions{},
			Prometheus:   &testenv.PrometheusOptions{},
			Alertmanager: &testenv.AlertmanagerOptions{},
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err) // carries the failing component's log tail
			return 1
		}
		defer env.Stop()

		// A crash-looping pod with logs behind the real apiserver.
		k := env.Kube
		if _, err := k.CreatePod(ctx, testenv.NewPod("default", "web-1", "app")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if _, err := k.SetPodStatus(ctx, "default", "web-1", testenv.PodStatus(corev1.PodRunning,
			testenv.CrashLoopingContainer("app", 5, "OOMKilled", 137))); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		k.Logs().SetText("default", "web-1", "app", "panic: out of memory\n")

		// A metric, scraped every second with its labels kept.
		_ = env.Exporter.SetCounter("http_requests_total", testenv.Labels{"namespace": "default", "code": "500"}, 0, 2)
		if err := env.Prometheus.WaitForTargets(ctx); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}

		// The code under test gets k.ConfigForToken(k.BotToken()) (or a
		// kubeconfig from k.WriteKubeconfig), env.Prometheus.URL() and
		// env.Alertmanager.URL(). Here m.Run() would run the tests.
		return 0
	}
	_ = run // os.Exit(run()) in a real TestMain
}
