package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/store"
)

// logStateTests are the cases of the logs check's state (logs.StateStore).
var logStateTests = []struct {
	name string
	fn   func(t *testing.T, o Opener)
}{
	{"LogState", testLogState},
	{"LogStateInvalid", testLogStateInvalid},
}

// testLogState: none before the first save; a save replaces the
// environment's state and leaves the others'; it survives a restart.
func testLogState(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	if got, err := s.LoadLogState(ctx, "prod"); err != nil || got != nil {
		t.Fatalf("before any save: %q, %v; want nil, nil", got, err)
	}
	for _, save := range []struct{ env, state string }{
		{"prod", `{"version":1,"containers":{}}`},
		{"dev", `{"version":1,"containers":{"shop/api-1/app":{"id":"containerd://aaa"}}}`},
		{"prod", `{"version":1,"containers":{"shop/web-1/web":{"signatures":[{"sig":"ERROR ünïcode"}]}}}`},
	} {
		if err := s.SaveLogState(ctx, save.env, []byte(save.state)); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{
		"prod": `{"version":1,"containers":{"shop/web-1/web":{"signatures":[{"sig":"ERROR ünïcode"}]}}}`,
		"dev":  `{"version":1,"containers":{"shop/api-1/app":{"id":"containerd://aaa"}}}`,
	}
	check := func(s Store) {
		t.Helper()
		for env, w := range want {
			if got, err := s.LoadLogState(ctx, env); err != nil || string(got) != w {
				t.Errorf("LoadLogState(%s) = %q, %v; want %q", env, got, err, w)
			}
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check(open(t, o))
}

// testLogStateInvalid: a state that is not UTF-8 JSON, or without an
// environment, is refused and changes nothing; a failed transaction
// leaves the last state.
func testLogStateInvalid(t *testing.T, o Opener) {
	ctx := context.Background()
	crash := errors.New("crash before commit")
	s := open(t, o, store.WithBeforeCommit(func(txCtx context.Context, op string) error {
		if op == store.OpSaveLogState && txCtx.Value(crashKey{}) != nil {
			return crash
		}
		return nil
	}))
	if err := s.SaveLogState(ctx, "prod", []byte(`{"version":1}`)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct{ env, state string }{
		{"prod", `{"version":`},
		{"prod", "{\"sig\":\"\xff\"}"},
		{" ", `{"version":2}`},
	} {
		if err := s.SaveLogState(ctx, bad.env, []byte(bad.state)); !errors.Is(err, opsbot.ErrInvalid) {
			t.Errorf("SaveLogState(%q, %q) = %v, want ErrInvalid", bad.env, bad.state, err)
		}
	}
	if err := s.SaveLogState(context.WithValue(ctx, crashKey{}, true), "prod", []byte(`{"version":3}`)); !errors.Is(err, crash) {
		t.Errorf("a save whose transaction fails: %v", err)
	}
	if got, err := s.LoadLogState(ctx, "prod"); err != nil || string(got) != `{"version":1}` {
		t.Errorf("after refused saves: %q, %v; want the first state", got, err)
	}
}

type crashKey struct{}
