package experiments

import (
	"slices"
	"sort"
	"testing"
)

// The first points of the Sobol sequence in 3 dimensions (worked out by hand
// from the Joe–Kuo direction numbers, by the recurrence x_n = x_{n−1} ⊕
// v_{c(n−1)}, c the lowest zero bit), and the defining property of a (t, s)
// sequence base 2: the first 2^k points put exactly one value in each of the
// 2^k equal intervals of every dimension, digitally shifted or not.
func TestSobolPoints(t *testing.T) {
	want := [][]float64{{0.5, 0.5, 0.5}, {0.75, 0.25, 0.25}, {0.25, 0.75, 0.75}, {0.375, 0.375, 0.625}, {0.875, 0.875, 0.125}}
	for i, w := range want {
		if got := sobolPoint(i+1, 3, make([]uint32, 3)); !slices.Equal(got, w) {
			t.Errorf("point %d: %v, want %v", i, got, w)
		}
	}
	const k = 6
	shift := []uint32{0, 1 << 31, 12345, 0xdeadbeef, 7, 1 << 20, 99, 3 << 29, 0xffffffff, 42}
	for d := range maxSobolDims {
		cells := make([]int, 0, 1<<k)
		for i := range 1 << k {
			cells = append(cells, int(sobolPoint(i, maxSobolDims, shift)[d]*(1<<k)))
		}
		sort.Ints(cells)
		for c := range cells {
			if cells[c] != c {
				t.Fatalf("dimension %d: the first %d points are not one per interval: %v", d+1, 1<<k, cells)
			}
		}
	}
}
