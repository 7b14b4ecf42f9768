package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"runtime/trace"
)

// profiles is what --cpuprofile and --trace record, as `go test -cpuprofile`
// and `go test -trace` do: where a slow checklist spends its CPU, and what
// its goroutines wait on (network, scheduler, locks).
type profiles struct {
	cpu, trace *os.File
}

// startProfiles creates the files (an empty path: none) and starts
// recording; an error says which file could not be created or started.
// Stop writes and closes them.
func startProfiles(cpuPath, tracePath string) (*profiles, error) {
	p := &profiles{}
	var err error
	if cpuPath != "" {
		if p.cpu, err = os.Create(cpuPath); err != nil {
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		if err = pprof.StartCPUProfile(p.cpu); err != nil {
			p.cpu.Close()
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
	}
	if tracePath != "" {
		if p.trace, err = os.Create(tracePath); err == nil {
			if err = trace.Start(p.trace); err != nil {
				p.trace.Close()
			}
		}
		if err != nil {
			if p.cpu != nil {
				pprof.StopCPUProfile()
				p.cpu.Close()
			}
			return nil, fmt.Errorf("--trace: %w", err)
		}
	}
	return p, nil
}

// Stop stops recording and closes the files; the error is the first
// failure to write one.
func (p *profiles) Stop() error {
	var errs []error
	if p.cpu != nil {
		pprof.StopCPUProfile()
		if err := p.cpu.Close(); err != nil {
			errs = append(errs, fmt.Errorf("--cpuprofile: %w", err))
		}
	}
	if p.trace != nil {
		trace.Stop()
		if err := p.trace.Close(); err != nil {
			errs = append(errs, fmt.Errorf("--trace: %w", err))
		}
	}
	return errors.Join(errs...)
}
