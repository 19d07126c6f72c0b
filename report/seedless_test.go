package report

import (
	"maps"
	"testing"
)

// TestWithoutSeed checks that configs sharing a cut flatten alike without
// their seed, and that what cannot be cut safely is not shared.
func TestWithoutSeed(t *testing.T) {
	for _, c := range []struct {
		in, cut string
		shared  bool
	}{
		{`{"a":{"seed":3},"seed":1}`, `{"a":{"seed":3},"seed":}`, true},
		{`{"seed": -12 ,"b":[1,{"seed":2}]}`, `{"seed":,"b":[1,{"seed":2}]}`, true},
		{`{"x":"\"seed\"","seed":7}`, `{"x":"\"seed\"","seed":}`, true},
		{`{"seed":"7"}`, `{"seed":"7"}`, false},
		{`{"seed":{"a":1}}`, `{"seed":{"a":1}}`, false},
		{`{"seed":1.5}`, `{"seed":1.5}`, false},
		{`{"seed":1e999}`, `{"seed":1e999}`, false},
		{`{"seed":01}`, `{"seed":01}`, false},
		{`{"a":1}`, `{"a":1}`, false},
		{`[{"seed":1}]`, `[{"seed":1}]`, false},
		{`{"seed":1`, `{"seed":1`, false},
		{`not json`, `not json`, false},
	} {
		halves, shared := withoutSeed(c.in)
		if cut := halves[0] + halves[1]; cut != c.cut || shared != c.shared {
			t.Errorf("withoutSeed(%s) = %s, %v; want %s, %v", c.in, cut, shared, c.cut, c.shared)
		}
	}
	a, _ := flattenConfig(`{"m":{"l":2},"seed": 1}`)
	b, _ := flattenConfig(`{"m":{"l":2},"seed":99}`)
	delete(a, "seed")
	delete(b, "seed")
	ca, _ := withoutSeed(`{"m":{"l":2},"seed": 1}`)
	cb, _ := withoutSeed(`{"m":{"l":2},"seed":99}`)
	if ca != cb || !maps.Equal(a, b) {
		t.Errorf("cuts %q %q, flats %v %v", ca, cb, a, b)
	}
}
