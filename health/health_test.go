package health

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestProbes(t *testing.T) {
	var storeDown atomic.Bool
	s := New("127.0.0.1:0", map[string]Check{
		"slack": func(context.Context) error { return nil },
		"store": func(context.Context) error {
			if storeDown.Load() {
				return errors.New("dial tcp 10.0.0.1:5432: connection refused")
			}
			return nil
		},
	}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	addr, err := s.Addr(ctx)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr
	if code, body := get(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := get(t, base+"/readyz"); code != 200 {
		t.Errorf("/readyz = %d %q, want 200", code, body)
	}
	storeDown.Store(true)
	code, body := get(t, base+"/readyz")
	if code != http.StatusServiceUnavailable || body != "store: not ready\n" {
		t.Errorf("/readyz with the store down = %d %q, want 503 naming the check and nothing more", code, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v after the context ended, want nil", err)
	}
}

func TestRunFailsOnABusyAddress(t *testing.T) {
	s := New("127.0.0.1:0", nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = s.Run(ctx) }()
	addr, err := s.Addr(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := New(addr, nil, nil).Run(ctx); err == nil {
		t.Fatal("a second server on the same address started")
	}
}
