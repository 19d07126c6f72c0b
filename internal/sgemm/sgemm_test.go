package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestVerify(t *testing.T) {
	if err := Verify(); err != nil {
		t.Fatal(err)
	}
}

// shapes are the products of one conv VAE training step (vae.BenchModels'
// conv at batch 64): forward, input-gradient and filter-gradient products,
// and a large square one for the peak.
var shapes = []struct {
	name    string
	tA, tB  bool
	m, n, k int
}{
	{"conv-fwd-c3", false, true, 32, 512, 48},
	{"conv-fwd-c64", false, true, 128, 512, 1024},
	{"deconv-fwd-c128", true, false, 512, 1024, 128},
	{"filtergrad-c64", false, false, 128, 1024, 512},
	{"square-1024", false, false, 1024, 1024, 1024},
}

func BenchmarkGemm(b *testing.B) {
	for _, s := range shapes {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", s.name, threads), func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 2))
				a, bb, c := randoms(rng, s.m*s.k), randoms(rng, s.k*s.n), randoms(rng, s.m*s.n)
				_, lda, _, ldb := stored(s.tA, s.tB, s.m, s.n, s.k)
				b.ResetTimer()
				for b.Loop() {
					Gemm(s.tA, s.tB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n, threads)
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// TestEveryKernelCopyMatchesTheReference runs each copy of the micro-kernel
// this CPU can run against the float64 product, and the threaded product
// against the one-thread one bit for bit.
func TestEveryKernelCopyMatchesTheReference(t *testing.T) {
	if err := Verify(); err != nil {
		t.Fatalf("kernel %s: %v", Kernel(), err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for _, tc := range []struct {
		tA, tB  bool
		m, n, k int
	}{{false, false, 300, 520, 600}, {true, false, 260, 300, 515}, {false, true, 130, 1100, 300}, {true, true, 150, 450, 513},
		// 600×200 is split by rows, the others by columns; the last two read
		// B in place (kernel.c) in each part.
		{false, false, 600, 200, 300}, {false, false, 100, 400, 560}, {true, false, 120, 1008, 300}} {
		if parts := Parts(tc.m, tc.n, tc.k, 8); len(parts) < 2 {
			t.Fatalf("%+v: %d part(s) at 8 threads; the test needs a product that is split", tc, len(parts))
		}
		ar, ac, br, bc := stored(tc.tA, tc.tB, tc.m, tc.n, tc.k)
		a, b, c0 := randoms(rng, ar*ac), randoms(rng, br*bc), randoms(rng, tc.m*tc.n)
		one := append([]float32(nil), c0...)
		Gemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1.5, a, ac, b, bc, 0.25, one, tc.n, 1)
		for _, threads := range []int{2, 3, 8} {
			got := append([]float32(nil), c0...)
			Gemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1.5, a, ac, b, bc, 0.25, got, tc.n, threads)
			for i := range got {
				if got[i] != one[i] {
					t.Fatalf("%+v: %d threads give c[%d] = %g, one thread %g", tc, threads, i, got[i], one[i])
				}
			}
		}
	}
	// Every copy, every transpose pair: sizes that leave partial tiles in
	// both directions (the last 11 columns of 107, the last 5 rows of 53) and
	// a last block of k that is not a multiple of 8, leading dimensions
	// longer than the rows, and beta 0 (c holds NaN, which must not be read)
	// or set (c read in the first block of k and added to after).
	for _, kernel := range copiesHere() {
		for i, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}, {false, false}, {true, true}} {
			beta := float32(0.25)
			if i >= 4 {
				beta = 0
			}
			t.Run(fmt.Sprintf("%s/tA=%t,tB=%t,beta=%g", kernel.name, tr[0], tr[1], beta), func(t *testing.T) {
				m, n, k := 53, 107, 300
				ar, ac, br, bc := stored(tr[0], tr[1], m, n, k)
				lda, ldb, ldc := ac+1, bc+2, n+3
				a, b, c := randoms(rng, ar*lda), randoms(rng, br*ldb), randoms(rng, m*ldc)
				if beta == 0 {
					for i := range c {
						c[i] = float32(math.NaN())
					}
				}
				want := make([]float64, m*n)
				for i := range m {
					for j := range n {
						var s float64
						for p := range k {
							s += float64(at(a, tr[0], i, p, lda)) * float64(at(b, tr[1], p, j, ldb))
						}
						want[i*n+j] = 1.5 * s
						if beta != 0 {
							want[i*n+j] += float64(beta) * float64(c[i*ldc+j])
						}
					}
				}
				gemmWith(kernel.id, tr[0], tr[1], block{0, m, 0, n, k}, 1.5, a, lda, b, ldb, beta, c, ldc)
				for i := range m {
					for j := range n {
						if d := float64(c[i*ldc+j]) - want[i*n+j]; !(d <= 1e-4 && d >= -1e-4) {
							t.Fatalf("c[%d,%d] = %g, want %g", i, j, c[i*ldc+j], want[i*n+j])
						}
					}
				}
			})
		}
	}
}

// TestNarrowTailGivesTheSameBits: the AVX2 kernel computes a product's last
// tile of at most 8 columns with a narrower copy of itself; a column so
// computed must hold the bits it has inside a whole tile.
func TestNarrowTailGivesTheSameBits(t *testing.T) {
	if Kernel() == "baseline" {
		t.Skip("no AVX2 kernel here")
	}
	rng := rand.New(rand.NewPCG(11, 11))
	for i, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		beta := 0.3 * float32(i%2) // beta 0: c is not read; else read in the first block of k
		// c = 1.5·op(a)·op(b) + beta·c with n = 21: tiles of 16 and 5 columns. The same
		// product on columns 5..20 only puts the last 5 in a whole tile.
		m, n, k := 13, 21, 300
		ar, ac, br, bc := stored(tr[0], tr[1], m, n, k)
		a, b, c0 := randoms(rng, ar*ac), randoms(rng, br*bc), randoms(rng, m*n)
		whole := append([]float32(nil), c0...)
		gemmWith(1, tr[0], tr[1], block{0, m, 0, n, k}, 1.5, a, ac, b, bc, beta, whole, n)
		// Columns 5..20 of op(b) and of c, as a product of their own.
		b5, c5 := b[5:], c0[5:]
		if tr[1] {
			b5 = b[5*bc:]
		}
		part := append([]float32(nil), c5...)
		gemmWith(1, tr[0], tr[1], block{0, m, 0, 16, k}, 1.5, a, ac, b5, bc, beta, part, n)
		for i := range m {
			for j := 16; j < n; j++ {
				if got, want := whole[i*n+j], part[i*n+j-5]; got != want {
					t.Fatalf("transposes %v, beta %g: c[%d,%d] = %g in the narrow tail, %g in a whole tile", tr, beta, i, j, got, want)
				}
			}
		}
	}
}

// TestTilesGiveTheSameBits: the kernel copies of one instruction set sum
// every element alike, so choosing a tile per product changes no bit.
func TestTilesGiveTheSameBits(t *testing.T) {
	copies := copiesHere()
	var wide []kernelCopy
	for _, c := range copies {
		if strings.HasPrefix(c.name, "avx512") {
			wide = append(wide, c)
		}
	}
	if len(wide) < 2 {
		t.Skipf("one tile of this instruction set here (%s)", Kernel())
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for _, tc := range []struct {
		tA, tB  bool
		m, n, k int
	}{{false, false, 64, 512, 700}, {false, true, 32, 1000, 48}, {true, false, 1024, 48, 32}, {true, true, 37, 101, 300}} {
		a, b, c0 := randoms(rng, tc.m*tc.k), randoms(rng, tc.k*tc.n), randoms(rng, tc.m*tc.n)
		_, lda, _, ldb := stored(tc.tA, tc.tB, tc.m, tc.n, tc.k)
		var first []float32
		for _, kc := range wide {
			c := append([]float32(nil), c0...)
			gemmWith(kc.id, tc.tA, tc.tB, block{0, tc.m, 0, tc.n, tc.k}, 1.25, a, lda, b, ldb, 0.5, c, tc.n)
			if first == nil {
				first = c
				continue
			}
			for i := range c {
				if c[i] != first[i] {
					t.Fatalf("%+v: %s gives c[%d] = %g, %s %g", tc, kc.name, i, c[i], wide[0].name, first[i])
				}
			}
		}
	}
}
