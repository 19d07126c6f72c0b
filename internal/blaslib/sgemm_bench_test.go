//go:build cgo

package blaslib

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"

	"github.com/vaelab/vaelab/internal/sgemm"
)

// BenchmarkSgemmOwnVsOpenBLAS times, shape by shape and in one run, the
// products of the benchmark models (vae.BenchModels) with OpenBLAS's core in
// use (whatever OPENBLAS_CORETYPE imposes) and with vaelab's own kernels.
func BenchmarkSgemmOwnVsOpenBLAS(b *testing.B) {
	lib, ok := openOpenBLAS()
	if !ok {
		b.Skip("no OpenBLAS here")
	}
	lib.SetThreads(1)
	for _, s := range []struct {
		name    string
		tA, tB  bool
		m, n, k int
	}{
		{"mlp-fwd", false, false, 100, 400, 560},
		{"mlp-dW", true, false, 560, 400, 100},
		{"mlp-dX", false, true, 100, 560, 400},
		{"lat-dW", true, false, 400, 20, 100},
		{"lat-fwd", false, false, 100, 20, 400},
		{"lat-dX", false, true, 100, 400, 20},
		{"lat-dec", false, false, 100, 400, 20},
		{"wino4-fg32", false, true, 64, 128, 256},
		{"wino4-pt-128x128x64", true, false, 128, 128, 64},
		{"wino4-pt-64x128x128", false, false, 64, 128, 128},
		{"wino4-pt-256x128x128", true, false, 256, 128, 128},
		{"wino4-pt-128x128x256", false, false, 128, 128, 256},
		{"wino4-pt-512x64x256", true, false, 512, 64, 256},
		{"wino4-pt-256x64x512", false, false, 256, 64, 512},
		{"wino4-fg16", false, true, 128, 256, 256},
		{"conv-fwd-c3", false, true, 32, 512, 48},
		{"conv-fwd-c64", false, true, 128, 512, 1024},
		{"deconv-fwd-c128", true, false, 512, 1024, 128},
		{"filtergrad-c64", false, false, 128, 1024, 512},
		{"square-1024", false, false, 1024, 1024, 1024},
	} {
		rng := rand.New(rand.NewPCG(1, 2))
		a, bb, c := float32s(randomValues(rng, s.m*s.k)), float32s(randomValues(rng, s.k*s.n)), make([]float32, s.m*s.n)
		lda, ldb, ta, tb := s.k, s.n, blas.NoTrans, blas.NoTrans
		if s.tA {
			lda, ta = s.m, blas.Trans
		}
		if s.tB {
			ldb, tb = s.k, blas.Trans
		}
		for _, impl := range []string{"openblas-" + lib.CoreName(), "vaelab-" + sgemm.Kernel()} {
			b.Run(fmt.Sprintf("%s/%s", s.name, impl), func(b *testing.B) {
				for b.Loop() {
					if impl[0] == 'o' {
						lib.Sgemm(ta, tb, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
					} else {
						sgemm.Gemm(s.tA, s.tB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n, 1)
					}
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
