// Package health serves the process's probes: /healthz (the process
// answers) and /readyz (every named readiness check passes), as the
// kubelet's liveness and readiness probes read them.
package health

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Check says whether a part is ready; an error says why not.
type Check func(ctx context.Context) error

// CheckTimeout bounds each readiness check.
const CheckTimeout = 2 * time.Second

// Server serves the probes.
type Server struct {
	listen string
	checks map[string]Check
	log    *zap.Logger

	extra map[string]http.Handler // more routes, such as /metrics

	mu   sync.Mutex
	addr string
	up   chan struct{}
}

// Handle serves h at pattern beside the probes ("GET /metrics"). Call it
// before Run.
func (s *Server) Handle(pattern string, h http.Handler) {
	if s.extra == nil {
		s.extra = map[string]http.Handler{}
	}
	s.extra[pattern] = h
}

// New returns a server for address listen ("127.0.0.1:8080", ":8080",
// ":0" for any port) whose /readyz runs checks by name ("slack",
// "store").
func New(listen string, checks map[string]Check, log *zap.Logger) *Server {
	if log == nil {
		log = zap.NewNop()
	}
	return &Server{listen: listen, checks: checks, log: log, up: make(chan struct{})}
}

// Handler serves /healthz and /readyz. /readyz answers 503 naming the
// first failing check ("store: not ready"); the reason is logged, not
// shown, since probes are unauthenticated.
func (s *Server) Handler() http.Handler {
	names := make([]string, 0, len(s.checks))
	for n := range s.checks {
		names = append(names, n)
	}
	slices.Sort(names)
	mux := http.NewServeMux()
	for p, h := range s.extra {
		mux.Handle(p, h)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		for _, n := range names {
			ctx, cancel := context.WithTimeout(r.Context(), CheckTimeout)
			err := s.checks[n](ctx)
			cancel()
			if err != nil {
				s.log.Warn("not ready", zap.String("check", n), zap.Error(err))
				http.Error(w, n+": not ready", http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = fmt.Fprintln(w, "ok")
	})
	return mux
}

// Run listens and serves until ctx is done.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.listen)
	if err != nil {
		return fmt.Errorf("health server: %w", err)
	}
	s.mu.Lock()
	s.addr = ln.Addr().String()
	close(s.up)
	s.mu.Unlock()
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second}
	ctx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		sctx, cancelShutdown := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancelShutdown()
		_ = srv.Shutdown(sctx)
	}()
	s.log.Info("health server listening", zap.String("addr", ln.Addr().String()))
	err = srv.Serve(ln)
	cancel()
	<-stopped
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Addr waits until the server listens (or ctx is done) and returns its
// address.
func (s *Server) Addr(ctx context.Context) (string, error) {
	select {
	case <-s.up:
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.addr, nil
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
}
