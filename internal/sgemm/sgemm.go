// Package sgemm is vaelab's own float32 matrix product: cache-blocked, with
// AVX-512 and AVX2 micro-kernels chosen at run time and checked at start-up.
// Training uses it so that its speed does not hang on the BLAS core a machine imposes.
package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
)

// Gemm computes c = alpha·op(a)·op(b) + beta·c for row-major matrices: op is
// the transpose when tA or tB is set, c is m×n with leading dimension ldc,
// and k the inner size. threads goroutines (at least 1) share the work by
// blocks of c's rows or columns; the sum over k runs in the same order
// whatever their number, so the result does not depend on it. With beta 0,
// c is not read.
func Gemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, threads int) {
	if m == 0 || n == 0 {
		return
	}
	checkArgs(tA, tB, m, n, k, a, lda, b, ldb, c, ldc)
	if k == 0 || alpha == 0 {
		scale(m, n, beta, c, ldc)
		return
	}
	if ThreadsFor(m, n, k, threads) == 1 {
		// No closure, no parts: a step makes thousands of small products.
		gemm(tA, tB, block{0, m, 0, n, k}, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	inParts(m, n, k, threads, func(p Part) {
		gemm(tA, tB, block{p.I0, p.I1, p.J0, p.J1, k}, alpha, a, lda, b, ldb, beta, c, ldc)
	})
}

// inParts runs f on each of Parts(m, n, k, threads) at once, the first on the
// calling goroutine, and returns when all are done.
func inParts(m, n, k, threads int, f func(Part)) {
	parts := Parts(m, n, k, threads)
	var wg sync.WaitGroup
	for _, p := range parts[1:] {
		wg.Go(func() { f(p) })
	}
	f(parts[0])
	wg.Wait()
}

// block is the part of c one thread computes: rows i0..i1, columns j0..j1.
type block struct{ i0, i1, j0, j1, k int }

// Part is a block of an m×n product's c: rows I0..I1, columns J0..J1.
type Part struct{ I0, I1, J0, J1 int }

// Parts cuts an m×n product with inner size k as Gemm does between threads:
// along c's longer side, in whole register tiles of this CPU's kernel (so
// each element is computed alike whichever part holds it), and into fewer
// parts than threads when the product is too small to pay for a thread.
// Callers that thread another BLAS's products use it too.
func Parts(m, n, k, threads int) []Part {
	blocks := split(m, n, k, max(threads, 1))
	out := make([]Part, len(blocks))
	for i, b := range blocks {
		out[i] = Part{b.i0, b.i1, b.j0, b.j1}
	}
	return out
}

// ThreadsFor is how many of threads an m×n product with inner size k is
// split between (Parts' count, less where c has fewer tiles): fewer where
// the product is too small to pay for a thread.
func ThreadsFor(m, n, k, threads int) int {
	// Multiply-adds per thread below which another thread costs more than it
	// saves: about 250 µs of work. At this bound the bench's MLP splits its
	// 100×400×560 products in two; at twice it, which kept them on one
	// thread, its 2-thread step ran 0.98 of its one-thread speed, and now
	// 1.02 (10 alternating runs of each, AMD EPYC Zen 3). With training's
	// threads on a spinning team (internal/team), lower bounds still did not
	// pay: at 1M the MLP's step was no faster, at 0.25M slower.
	const minWork = 1 << 23
	threads = max(threads, 1)
	for threads > 1 && m*n*k/threads < minWork {
		threads--
	}
	return threads
}

// split cuts c into at most threads blocks along its longer side, in whole
// micro-tiles, and none when the product is too small to pay for a thread.
func split(m, n, k, threads int) []block {
	threads = ThreadsFor(m, n, k, threads)
	tileM, tileN := tile()
	parts := make([]block, 0, threads)
	if n >= m {
		for _, r := range ranges(n, threads, tileN) {
			parts = append(parts, block{0, m, r[0], r[1], k})
		}
	} else {
		for _, r := range ranges(m, threads, tileM) {
			parts = append(parts, block{r[0], r[1], 0, n, k})
		}
	}
	return parts
}

// ranges cuts 0..n into at most parts ranges of whole tiles of size tile
// (the last may be partial), as even as they can be.
func ranges(n, parts, tile int) [][2]int {
	tiles := (n + tile - 1) / tile
	parts = min(parts, tiles)
	out := make([][2]int, 0, parts)
	for p := range parts {
		t0, t1 := p*tiles/parts, (p+1)*tiles/parts
		out = append(out, [2]int{t0 * tile, min(t1*tile, n)})
	}
	return out
}

func scale(m, n int, beta float32, c []float32, ldc int) {
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// stored gives the rows and columns a and b are stored with when op(a) is
// m×k and op(b) k×n.
func stored(tA, tB bool, m, n, k int) (ar, ac, br, bc int) {
	ar, ac, br, bc = m, k, k, n
	if tA {
		ar, ac = k, m
	}
	if tB {
		br, bc = n, k
	}
	return ar, ac, br, bc
}

// checkArgs panics on slices too short for the shapes: the C kernels would
// otherwise read or write past them.
func checkArgs(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ar, ac, br, bc := stored(tA, tB, m, n, k)
	need := func(name string, s []float32, rows, cols, ld int) {
		if ld < max(cols, 1) {
			panic(fmt.Sprintf("sgemm: %s: leading dimension %d < %d columns", name, ld, cols))
		}
		if rows > 0 && cols > 0 && len(s) < (rows-1)*ld+cols {
			panic(fmt.Sprintf("sgemm: %s: %d values for %d×%d with leading dimension %d", name, len(s), rows, cols, ld))
		}
	}
	need("a", a, ar, ac, lda)
	need("b", b, br, bc, ldb)
	need("c", c, m, n, ldc)
}

// Verify runs products of every transpose pair, of sizes that leave partial
// tiles and cross the cache blocks, with beta 0 (c, filled with NaN, must not
// be read) and beta set, and compares each with a float64 product of the
// same inputs within the rounding bound of a k-term sum. It returns the
// first that is off: a kernel that fails it must not be used. (That the
// threads' split leaves every bit alone is the tests' to check.)
func Verify() error {
	rng := rand.New(rand.NewPCG(20261206, 32))
	for _, c := range []struct {
		tA, tB  bool
		m, n, k int
		beta    float32
	}{
		{false, false, 37, 45, 53, 0.5}, {true, false, 37, 45, 53, 0.5}, {false, true, 37, 45, 53, 0.5}, {true, true, 37, 45, 53, 0},
		{false, false, 1, 1, 1, 0}, {false, true, 5, 3, 700, 0.5}, {false, false, 33, 1030, 48, 0},
		{true, false, 150, 67, 517, 0}, {false, true, 128, 64, 1024, 0.5},
	} {
		if err := verifyCase(rng, c.tA, c.tB, c.m, c.n, c.k, c.beta); err != nil {
			return err
		}
	}
	return nil
}

func verifyCase(rng *rand.Rand, tA, tB bool, m, n, k int, beta float32) error {
	ar, ac, br, bc := stored(tA, tB, m, n, k)
	lda, ldb, ldc := ac+1, bc+2, n+3
	a, b := randoms(rng, ar*lda), randoms(rng, br*ldb)
	c := randoms(rng, m*ldc)
	if beta == 0 {
		for i := range c {
			c[i] = float32(math.NaN())
		}
	}
	want := make([]float64, m*n)
	const alpha = 0.75
	for i := range m {
		for j := range n {
			var s float64
			for p := range k {
				s += float64(at(a, tA, i, p, lda)) * float64(at(b, tB, p, j, ldb))
			}
			want[i*n+j] = alpha * s
			if beta != 0 {
				want[i*n+j] += float64(beta) * float64(c[i*ldc+j])
			}
		}
	}
	Gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 1)
	tol := 4 * float64(k+2) * 0x1p-24
	for i := range m {
		for j := range n {
			got, w := float64(c[i*ldc+j]), want[i*n+j]
			if math.IsNaN(got) || math.Abs(got-w) > tol*(1+math.Abs(w)) {
				return fmt.Errorf("sgemm %s kernel: %d×%d×%d (transposes %t, %t, beta %g), c[%d,%d] = %g, want %g", Kernel(), m, n, k, tA, tB, beta, i, j, got, w)
			}
		}
	}
	return nil
}

func randoms(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

// at is element (i, j) of op(x), x row-major with leading dimension ld.
func at(x []float32, t bool, i, j, ld int) float32 {
	if t {
		return x[j*ld+i]
	}
	return x[i*ld+j]
}
