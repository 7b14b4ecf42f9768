// Package testenv starts real components on 127.0.0.1 for opsbot's
// integration tests and benchmarks, and stops them again.
//
// The components are the ones the daily checklist talks to in production:
//
//   - StartKube: etcd and a real kube-apiserver (RBAC on, static bearer tokens
//     for an admin and for the bot), plus an in-process stub kubelet registered
//     as a Node, so pod logs travel the real path
//     client → apiserver → kubelet (/containerLogs/...). There is no scheduler,
//     controller-manager or real kubelet: pods are bound to the stub node by
//     spec.nodeName and their status is set through the status subresource.
//   - StartPrometheus: a real Prometheus scraping targets every second, usually
//     an in-process Exporter whose series the test plants; or with history
//     backfilled at known past times (PrometheusOptions.Backfill), for range
//     queries.
//   - StartAlertmanager: a real Alertmanager with a "null" receiver and an
//     inhibit rule, fed through its API v2.
//   - Start: any combination of the above, started concurrently, in an Env.
//
// Every Start function takes a context that bounds start-up only (the
// components keep running after it is done) and returns an error, never
// touching *testing.T, so it can be called from TestMain or from a benchmark
// command. Each component owns a temporary directory (configuration, data,
// and one log file per child process, whose tail is included in start-up
// errors). Stop (or Close) kills the children's process groups and removes
// the directory; it is idempotent. Children also get SIGKILL if the process
// that started them dies (Linux parent-death signal), so an aborted test run
// does not leave an etcd behind.
//
// Binaries: etcd, prometheus and prometheus-alertmanager come from $PATH (or
// /usr/bin); kube-apiserver and kubectl come from KubeBinaries, which builds
// them once per version from the tools/kube module and caches them.
//
// The command testenv/cmd/demo (scripts/demo) starts all of it with
// testenv/scenario's unhealthy namespace, for people without a cluster.
package testenv
