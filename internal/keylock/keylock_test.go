package keylock

import (
	"sync"
	"testing"
)

func TestLockSerializesAKeyAndForgetsIt(t *testing.T) {
	var m Map[int64]
	var wg sync.WaitGroup
	var counter [4]int // one per key: keys do not share memory
	for i := range 200 {
		wg.Go(func() {
			key := int64(i % 4)
			unlock := m.Lock(key)
			counter[key]++ // a data race without the lock (go test -race)
			unlock()
		})
	}
	wg.Wait()
	for k, n := range counter {
		if n != 50 {
			t.Errorf("key %d: %d increments, want 50", k, n)
		}
	}
	if n := m.Len(); n != 0 {
		t.Errorf("%d locks kept after every unlock, want 0", n)
	}
}
