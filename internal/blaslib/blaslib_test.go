package blaslib

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// TestSgemmManyMatchesSgemm checks that a batch of products gives, bit for
// bit, what one Sgemm per product gives, on 1 to 3 threads, with products
// large enough to be cut between threads and small ones that are not.
func TestSgemmManyMatchesSgemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const count = 3
	for _, threads := range []int{1, 2, 3} {
		in := installed{BLAS: ownSgemm{BLAS: gonum.Implementation{}}, info: Info{Threads: threads}}
		for _, s := range []struct {
			tA, tB  blas.Transpose
			m, n, k int
		}{
			{blas.NoTrans, blas.NoTrans, 256, 256, 512},
			{blas.Trans, blas.NoTrans, 512, 256, 256},
			{blas.NoTrans, blas.Trans, 256, 512, 256},
			{blas.Trans, blas.Trans, 40, 24, 16},
		} {
			t.Run(fmt.Sprintf("threads%d/%v%v/%dx%dx%d", threads, s.tA, s.tB, s.m, s.n, s.k), func(t *testing.T) {
				lda, ldb := s.k, s.n
				if s.tA != blas.NoTrans {
					lda = s.m
				}
				if s.tB != blas.NoTrans {
					ldb = s.k
				}
				sa, sb, sc := s.m*s.k+16, s.k*s.n+16, s.m*s.n+16
				a, b := float32s(randomValues(rng, count*sa)), float32s(randomValues(rng, count*sb))
				c0 := float32s(randomValues(rng, count*sc))
				want, got := slices.Clone(c0), slices.Clone(c0)
				for i := range count {
					in.Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1.5, a[i*sa:], lda, b[i*sb:], ldb, 0.5, want[i*sc:], s.n)
				}
				in.SgemmMany(count, s.tA, s.tB, s.m, s.n, s.k, 1.5, a, sa, lda, b, sb, ldb, 0.5, got, sc, s.n)
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("value %d: %v, one product at a time %v", i, got[i], want[i])
					}
				}
				if slices.Equal(got, c0) {
					t.Fatal("SgemmMany left c as it was")
				}
			})
		}
	}
}
