// Package memo computes a value once per key and shares it between goroutines:
// the first caller of a key computes it, later and concurrent callers wait and get the same result.
package memo

import "sync"

// Map holds the results by key. The zero value is ready to use.
type Map[V any] struct {
	mu      sync.Mutex
	entries map[string]*entry[V]
}

type entry[V any] struct {
	once sync.Once
	v    V
	err  error
}

// Get returns the value for key, calling compute only the first time. An
// error is remembered like a value: the key is not computed again.
func (m *Map[V]) Get(key string, compute func() (V, error)) (V, error) {
	m.mu.Lock()
	if m.entries == nil {
		m.entries = map[string]*entry[V]{}
	}
	e := m.entries[key]
	if e == nil {
		e = &entry[V]{}
		m.entries[key] = e
	}
	m.mu.Unlock()
	e.once.Do(func() { e.v, e.err = compute() })
	return e.v, e.err
}
