package blaslib

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
)

// products is the part of a BLAS the verification checks: the matrix
// products that carry nearly all of training's time.
type products interface {
	Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int)
}

// gemmCase is one product of the start-up check.
type gemmCase struct {
	tA, tB  blas.Transpose
	m, n, k int
	pad     int // extra leading-dimension columns, so strides are exercised
}

// checkCases cover every transpose pair on odd sizes that leave partial
// register tiles, and the conv VAE's shapes, long enough in k to cross
// OpenBLAS's cache blocking (a few milliseconds in all).
func checkCases() []gemmCase {
	return []gemmCase{
		{blas.NoTrans, blas.NoTrans, 37, 45, 53, 3},
		{blas.Trans, blas.NoTrans, 37, 45, 53, 0},
		{blas.NoTrans, blas.Trans, 37, 45, 53, 1},
		{blas.Trans, blas.Trans, 37, 45, 53, 2},
		{blas.NoTrans, blas.NoTrans, 32, 1024, 48, 0},
		{blas.NoTrans, blas.Trans, 128, 64, 1024, 0},
		{blas.Trans, blas.NoTrans, 67, 131, 517, 5},
	}
}

// verify runs checkCases in both precisions through p and compares each
// result with an independent float64 product of the same inputs, within the
// rounding bound of a k-term sum. It returns the first product that is off.
func verify(p products) error {
	rng := rand.New(rand.NewPCG(20261201, 18))
	for _, c := range checkCases() {
		if err := verifyCase(p, c, rng); err != nil {
			return err
		}
	}
	return nil
}

func verifyCase(p products, c gemmCase, rng *rand.Rand) error {
	ar, ac := c.m, c.k // a's stored rows and columns
	if c.tA == blas.Trans {
		ar, ac = c.k, c.m
	}
	br, bc := c.k, c.n
	if c.tB == blas.Trans {
		br, bc = c.n, c.k
	}
	lda, ldb, ldc := ac+c.pad, bc+c.pad, c.n+c.pad
	a, b, c0 := randomValues(rng, ar*lda), randomValues(rng, br*ldb), randomValues(rng, c.m*ldc)
	const alpha, beta = 1.25, -0.5
	opA, opB := dense(a, lda, c.m, c.k, c.tA), dense(b, ldb, c.k, c.n, c.tB)
	want, bound := make([]float64, c.m*c.n), make([]float64, c.m*c.n)
	for i := range c.m {
		for j := range c.n {
			var s, mag float64
			for l := range c.k {
				t := opA[i*c.k+l] * opB[l*c.n+j]
				s += t
				mag += math.Abs(t)
			}
			want[i*c.n+j] = alpha*s + beta*c0[i*ldc+j]
			bound[i*c.n+j] = math.Abs(alpha)*mag + math.Abs(beta*c0[i*ldc+j])
		}
	}
	got64 := append([]float64(nil), c0...)
	p.Dgemm(c.tA, c.tB, c.m, c.n, c.k, alpha, a, lda, b, ldb, beta, got64, ldc)
	if err := compare("DGEMM", c, got64, ldc, want, bound, 0x1p-52); err != nil {
		return err
	}
	got32 := make([]float32, len(c0))
	for i, v := range c0 {
		got32[i] = float32(v)
	}
	p.Sgemm(c.tA, c.tB, c.m, c.n, c.k, alpha, float32s(a), lda, float32s(b), ldb, beta, got32, ldc)
	got := make([]float64, len(got32))
	for i, v := range got32 {
		got[i] = float64(v)
	}
	return compare("SGEMM", c, got, ldc, want, bound, 0x1p-23)
}

// compare checks got (leading dimension ldc) against want within
// 2(k+2)·eps times each entry's magnitude bound: the textbook error bound of
// a dot product of length k, doubled for the kernels' blocked summation order.
func compare(name string, c gemmCase, got []float64, ldc int, want, bound []float64, eps float64) error {
	tol := 2 * float64(c.k+2) * eps
	for i := range c.m {
		for j := range c.n {
			g, w := got[i*ldc+j], want[i*c.n+j]
			if !(math.Abs(g-w) <= tol*bound[i*c.n+j]+math.SmallestNonzeroFloat32) {
				return fmt.Errorf("%s %s%s m=%d n=%d k=%d: C[%d][%d] = %g, an independent product gives %g",
					name, transName(c.tA), transName(c.tB), c.m, c.n, c.k, i, j, g, w)
			}
		}
	}
	return nil
}

// randomValues are exactly representable in float32, so both precisions
// multiply the same numbers.
func randomValues(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(float32(rng.Float64()*2 - 1))
	}
	return v
}

func float32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// dense copies op(x), rows×cols, out of x stored row-major with leading dimension ld.
func dense(x []float64, ld, rows, cols int, t blas.Transpose) []float64 {
	out := make([]float64, rows*cols)
	for i := range rows {
		for j := range cols {
			if t == blas.Trans {
				out[i*cols+j] = x[j*ld+i]
			} else {
				out[i*cols+j] = x[i*ld+j]
			}
		}
	}
	return out
}

func transName(t blas.Transpose) string {
	if t == blas.Trans {
		return "T"
	}
	return "N"
}
