package keylock

import (
	"sync"
	"testing"
)

func TestLockSerializesAKeyAndForgetsIt(t *testing.T) {
	var m Map[int64]
	var wg sync.WaitGroup
	counter := map[int64]int{}
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
