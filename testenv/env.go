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
