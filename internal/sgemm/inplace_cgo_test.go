//go:build cgo && amd64

package sgemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestInPlaceBGivesThePackedBits: where the AVX2 kernel reads an
// untransposed B in place (few rows of c, B's rows an odd number of cache
// lines apart), every element holds the bits it has with B packed. The
// cases take in the MLP's products, one block of rows at the bound (120 = 20
// register rows), several blocks of k and of columns (n past 512), narrow
// last panels (n % 16 of 3, 4, 9), leading dimensions longer than the rows,
// and beta 0 and set; the last cases are ones it must pack.
func TestInPlaceBGivesThePackedBits(t *testing.T) {
	if Kernel() == "baseline" {
		t.Skip("no AVX2 kernel here")
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for _, tc := range []struct {
		m, n, k, ldb int
		inPlace      bool
	}{
		{100, 400, 560, 400, true}, {100, 560, 400, 560, true}, {100, 20, 400, 48, true}, {120, 51, 300, 80, true},
		{7, 601, 530, 624, true}, {1, 16, 1, 16, true}, {13, 9, 257, 16, true},
		{121, 48, 100, 48, false}, {64, 128, 64, 128, false}, {100, 20, 400, 20, false},
	} {
		if got := readsBInPlace(1, false, tc.m, tc.ldb); got != tc.inPlace {
			t.Fatalf("%+v: B read in place %t, want %t", tc, got, tc.inPlace)
		}
		for _, tA := range []bool{false, true} {
			for _, beta := range []float32{0, 0.5} {
				t.Run(fmt.Sprintf("%dx%dx%d/ldb%d/tA=%t/beta=%g", tc.m, tc.n, tc.k, tc.ldb, tA, beta), func(t *testing.T) {
					ar, ac, br, _ := stored(tA, false, tc.m, tc.n, tc.k)
					lda, ldc := ac+1, tc.n+2
					a, b, c0 := randoms(rng, ar*lda), randoms(rng, br*tc.ldb), randoms(rng, tc.m*ldc)
					p := block{0, tc.m, 0, tc.n, tc.k}
					packed, inPlace := append([]float32(nil), c0...), append([]float32(nil), c0...)
					blockWith(1, false, tA, false, p, 1.5, a, lda, b, tc.ldb, beta, packed, ldc)
					blockWith(1, true, tA, false, p, 1.5, a, lda, b, tc.ldb, beta, inPlace, ldc)
					for i := range packed {
						if inPlace[i] != packed[i] {
							t.Fatalf("c[%d] = %g with B in place, %g packed", i, inPlace[i], packed[i])
						}
					}
				})
			}
		}
	}
}
