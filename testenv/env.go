package testenv

import (
	"context"
	"errors"
	"sync"
)

// Options selects the components Start starts: a nil field is not started.
type Options struct {
	Kube         *KubeOptions
	Prometheus   *PrometheusOptions // Env.Exporter is added to its targets
	Alertmanager *AlertmanagerOptions
}

// Env is a set of running components. Fields of components not asked for
// are nil.
type Env struct {
	Kube         *Kube
	Prometheus   *Prometheus
	Exporter     *Exporter // scraped by Prometheus; nil without Prometheus
	Alertmanager *Alertmanager
}

// Start starts the selected components concurrently. If one fails, the
// others are stopped and the errors are joined. ctx bounds start-up only.
func Start(ctx context.Context, opts Options) (*Env, error) {
	env := &Env{}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}
	if opts.Kube != nil {
		wg.Go(func() {
			k, err := StartKube(ctx, *opts.Kube)
			if err != nil {
				fail(err)
				return
			}
			env.Kube = k
		})
	}
	if opts.Prometheus != nil {
		env.Exporter = NewExporter()
		popts := *opts.Prometheus
		popts.Targets = append([]string{env.Exporter.Target()}, popts.Targets...)
		wg.Go(func() {
			p, err := StartPrometheus(ctx, popts)
			if err != nil {
				fail(err)
				return
			}
			env.Prometheus = p
		})
	}
	if opts.Alertmanager != nil {
		wg.Go(func() {
			am, err := StartAlertmanager(ctx, *opts.Alertmanager)
			if err != nil {
				fail(err)
				return
			}
			env.Alertmanager = am
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		_ = env.Stop()
		return nil, errors.Join(errs...)
	}
	return env, nil
}

// Stop stops every component that was started. Idempotent.
func (e *Env) Stop() error {
	var errs []error
	if e.Kube != nil {
		errs = append(errs, e.Kube.Stop())
	}
	if e.Prometheus != nil {
		errs = append(errs, e.Prometheus.Stop())
	}
	if e.Alertmanager != nil {
		errs = append(errs, e.Alertmanager.Stop())
	}
	if e.Exporter != nil {
		e.Exporter.Close()
	}
	return errors.Join(errs...)
}

// Close is Stop, for io.Closer.
func (e *Env) Close() error { return e.Stop() }

// PIDs returns the process ids of the environment's child processes by
// name (etcd, kube-apiserver, prometheus, alertmanager), for a benchmark
// that accounts their CPU time. The stub kubelet and the exporter run in
// the calling process and have no entry.
func (e *Env) PIDs() map[string]int {
	pids := make(map[string]int)
	add := func(p *process) {
		if p != nil && p.cmd != nil && p.cmd.Process != nil {
			pids[p.name] = p.cmd.Process.Pid
		}
	}
	if e.Kube != nil {
		add(e.Kube.etcd)
		add(e.Kube.api)
	}
	if e.Prometheus != nil {
		add(e.Prometheus.proc)
	}
	if e.Alertmanager != nil {
		add(e.Alertmanager.proc)
	}
	return pids
}
