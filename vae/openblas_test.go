//go:build cgo

package vae

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/vaelab/vaelab/internal/testenv"
)

// TestOpenBLASMatchesGonum checks the cgo binding (argument order, row-major
// layout, transposes, leading dimensions, β) against gonum's pure-Go gemm.
// Under CI OpenBLAS must be installed, so the fast path is the one tested.
func TestOpenBLASMatchesGonum(t *testing.T) {
	impl, name, ok := loadOpenBLAS()
	if !ok {
		if testenv.InCI() {
			t.Fatal("no OpenBLAS library could be opened; .ci/run installs libopenblas0-pthread")
		}
		t.Skip("no OpenBLAS here (apt-get install libopenblas0); the pure-Go BLAS is in use")
	}
	t.Logf("OpenBLAS from %s", name)
	rng := NewRand(4, StreamInit)
	for _, tc := range []struct{ tA, tB blas.Transpose }{{blas.NoTrans, blas.NoTrans}, {blas.Trans, blas.NoTrans}, {blas.NoTrans, blas.Trans}, {blas.Trans, blas.Trans}} {
		m, n, k := 7, 5, 9
		a, b := randVec(rng, m*k), randVec(rng, k*n)
		c0 := randVec(rng, m*n)
		lda, ldb := k, n
		if tc.tA == blas.Trans {
			lda = m
		}
		if tc.tB == blas.Trans {
			ldb = k
		}
		want, got := append([]float64(nil), c0...), append([]float64(nil), c0...)
		gonum.Implementation{}.Dgemm(tc.tA, tc.tB, m, n, k, 1.5, a, lda, b, ldb, 0.5, want, n)
		impl.Dgemm(tc.tA, tc.tB, m, n, k, 1.5, a, lda, b, ldb, 0.5, got, n)
		assertClose(t, "dgemm", got, want, 1e-12)
		a32, b32, c32 := float32s(a), float32s(b), float32s(c0)
		want32, got32 := append([]float32(nil), c32...), append([]float32(nil), c32...)
		gonum.Implementation{}.Sgemm(tc.tA, tc.tB, m, n, k, 1.5, a32, lda, b32, ldb, 0.5, want32, n)
		impl.Sgemm(tc.tA, tc.tB, m, n, k, 1.5, a32, lda, b32, ldb, 0.5, got32, n)
		for i := range got32 {
			if math.Abs(float64(got32[i]-want32[i])) > 1e-4*(1+math.Abs(float64(want32[i]))) {
				t.Fatalf("sgemm %v%v [%d] = %v, gonum %v", tc.tA, tc.tB, i, got32[i], want32[i])
			}
		}
	}
}
