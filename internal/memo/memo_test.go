package memo

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestGetComputesOncePerKey(t *testing.T) {
	var m Map[int]
	var calls atomic.Int32
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := []string{"a", "b"}[i%2]
			v, err := m.Get(key, func() (int, error) { calls.Add(1); return len(key), nil })
			if v != 1 || err != nil {
				t.Errorf("Get(%s) = %d, %v", key, v, err)
			}
		}()
	}
	wg.Wait()
	if calls.Load() != 2 {
		t.Fatalf("%d computations for 2 keys", calls.Load())
	}
	boom := errors.New("boom")
	m.Get("c", func() (int, error) { return 0, boom })
	if _, err := m.Get("c", func() (int, error) { return 3, nil }); err != boom {
		t.Fatalf("a remembered error came back as %v", err)
	}
}
