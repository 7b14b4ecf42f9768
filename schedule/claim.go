package schedule

import (
	"context"
	"sync"
	"time"
)

// Claimer guards each occurrence of a schedule so that it runs once across
// the replicas, even when leadership changes at the scheduled time. The
// store implements it for all replicas (an insert that succeeds once per
// key); MemoryClaimer guards one process only.
type Claimer interface {
	// Claim reports whether the caller is the first to claim key (it must
	// then run the occurrence). Claiming again returns false.
	Claim(ctx context.Context, key string) (bool, error)
}

// ClaimKey is the claim key of the occurrence at of the schedule called
// name: "checklist/2026-11-24T09:30Z" (minutes, UTC).
func ClaimKey(name string, at time.Time) string {
	return name + "/" + at.UTC().Format("2006-01-02T15:04Z")
}

// MemoryClaimer is a Claimer in memory: for tests, and for a single
// replica. It does not guard several processes.
type MemoryClaimer struct {
	mu     sync.Mutex
	claims map[string]bool
}

// NewMemoryClaimer returns an empty MemoryClaimer.
func NewMemoryClaimer() *MemoryClaimer { return &MemoryClaimer{claims: map[string]bool{}} }

// Claim claims key; only the first call for a key returns true.
func (m *MemoryClaimer) Claim(ctx context.Context, key string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.claims[key] {
		return false, nil
	}
	m.claims[key] = true
	return true, nil
}

// Claimed reports whether key has been claimed.
func (m *MemoryClaimer) Claimed(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.claims[key]
}
