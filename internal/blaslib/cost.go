package blaslib

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"

	"github.com/vaelab/vaelab/internal/sgemm"
)

// CoreCost measures what the OpenBLAS core in use costs the float32 products
// of training, against vaelab's own kernels on the same CPU, and says it in a
// sentence for vaelab doctor: the single-thread SGEMM speed of both on a
// product of the conv VAE's shape (about a second in all). It never changes
// the core: a core forced through OPENBLAS_CORETYPE is measured as it is.
func CoreCost() string { return coreCost(G.WhichBLAS()) }

func coreCost(b G.BLAS) string {
	in, ok := b.(installed)
	if !ok || in.info.Library != "OpenBLAS" {
		return "no OpenBLAS in use: nothing to compare"
	}
	lib := in.BLAS
	if own, ok := lib.(ownSgemm); ok {
		lib = own.BLAS
	}
	forced := "chosen by the library"
	if v, set := os.LookupEnv("OPENBLAS_CORETYPE"); set {
		forced = fmt.Sprintf("forced by OPENBLAS_CORETYPE=%s", v)
	}
	theirs := sgemmSpeed(func(m, n, k int, a, b, c []float32) {
		lib.Sgemm(blas.NoTrans, blas.Trans, m, n, k, 1, a, k, b, k, 0, c, n)
	})
	if !sgemm.Available() {
		return fmt.Sprintf("OpenBLAS's %s core (%s): SGEMM %.0f GFLOP/s on one thread; vaelab's own kernels are not built here (cgo on amd64)", in.info.Core, forced, theirs)
	}
	ours := sgemmSpeed(func(m, n, k int, a, b, c []float32) {
		sgemm.Gemm(false, true, m, n, k, 1, a, k, b, k, 0, c, n, 1)
	})
	s := fmt.Sprintf("OpenBLAS's %s core (%s): SGEMM %.0f GFLOP/s on one thread, vaelab's %s kernels %.0f (%.2fx)",
		in.info.Core, forced, theirs, sgemm.Kernel(), ours, ours/theirs)
	if strings.HasPrefix(in.info.Products, "vaelab ") {
		s += "; training's float32 products run on vaelab's kernels, so the core costs them nothing (float64 products, in some metrics, run on the core)"
		if theirs < ours {
			s += fmt.Sprintf("; on the core alone they would run at %.0f %% of this speed", 100*theirs/ours)
		}
		return s
	}
	return s + "; training's float32 products run on the core"
}

// sgemmSpeed is the best of five timings of a 128×512×1024 product (a conv
// layer's forward product over a block of images), in GFLOP/s.
func sgemmSpeed(f func(m, n, k int, a, b, c []float32)) float64 {
	const m, n, k, reps = 128, 512, 1024, 20
	rng := rand.New(rand.NewPCG(1, 1))
	a, b, c := make([]float32, m*k), make([]float32, n*k), make([]float32, m*n)
	for i := range a {
		a[i] = rng.Float32()
	}
	for i := range b {
		b[i] = rng.Float32()
	}
	best := time.Duration(1 << 62)
	for range 5 {
		start := time.Now()
		for range reps {
			f(m, n, k, a, b, c)
		}
		best = min(best, time.Since(start))
	}
	return 2 * m * n * k * reps / best.Seconds() / 1e9
}
