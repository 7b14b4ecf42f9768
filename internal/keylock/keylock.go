// Package keylock serializes work per key (an anomaly's or an incident's
// id) within a process, keeping a lock only while someone holds or waits
// for it.
package keylock

import "sync"

// Map is a set of locks by key. The zero Map is ready to use.
type Map[K comparable] struct {
	mu    sync.Mutex
	locks map[K]*entry
}

type entry struct {
	sync.Mutex
	n int // holders and waiters
}

// Lock locks key and returns its unlock.
func (m *Map[K]) Lock(key K) (unlock func()) {
	m.mu.Lock()
	if m.locks == nil {
		m.locks = map[K]*entry{}
	}
	l := m.locks[key]
	if l == nil {
		l = &entry{}
		m.locks[key] = l
	}
	l.n++
	m.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		m.mu.Lock()
		if l.n--; l.n == 0 {
			delete(m.locks, key)
		}
		m.mu.Unlock()
	}
}

// Holders is how many calls hold or wait for key's lock (tests).
func (m *Map[K]) Holders(key K) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l := m.locks[key]; l != nil {
		return l.n
	}
	return 0
}

// Len is how many keys are locked or waited for (tests).
func (m *Map[K]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.locks)
}
