package blaslib

import (
	"fmt"
	"io"

	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"

	"github.com/vaelab/vaelab/internal/sgemm"
)

// Training's time goes almost all into float32 products, and a machine may
// impose an OpenBLAS core narrower than its CPU (OPENBLAS_CORETYPE=Haswell on
// some AVX-512 AMD machines, where the library's newer kernels misbehave).
// vaelab never overrides that variable; its own float32 kernels (package
// sgemm, chosen for the CPU at run time and checked against a float64
// product at start-up, as the library's are) take over the float32 products
// from any core no wider than takesOverUpTo says. The rule is fixed, never
// timed at start-up, so that one machine's runs keep their bits.

// ownISA is the instruction set of package sgemm's kernel for this CPU.
func ownISA(kernel string) isa {
	switch kernel {
	case "avx512":
		return isaAVX512
	case "avx2":
		return isaAVX2
	}
	return isaSSE
}

// takesOverUpTo is the widest OpenBLAS core a kernel of package sgemm
// replaces. The AVX2 kernel replaces AVX2 cores too: in training steps on an
// AMD EPYC (Zen 3) the benchmark models' products took 15-24 % (MLP) and 5-7 %
// (conv) less time on it than on OpenBLAS's Zen core, whose packing suffers
// more from operands out of cache (README, "Speed"). The AVX-512 kernel has not been
// measured against the library's AVX-512 kernels, so it replaces only
// narrower cores.
func takesOverUpTo(kernel string) isa {
	if kernel == "avx512" {
		return isaAVX2
	}
	return ownISA(kernel)
}

// ownProducts decides whether vaelab's own kernels compute the float32
// products, and says why in a phrase for Info.Products.
func ownProducts(choice string, info Info, kernel string, available bool) (use bool, why string) {
	switch {
	case choice == Gonum:
		return false, "gonum (the blas setting asks for pure Go)"
	case !available:
		return false, fmt.Sprintf("%s (the vaelab kernels need cgo on amd64)", info.Library)
	case info.Library != "OpenBLAS":
		return true, fmt.Sprintf("vaelab %s kernels (no OpenBLAS)", kernel)
	}
	core, known := coreISA(info.Core)
	switch {
	case !known:
		return false, fmt.Sprintf("OpenBLAS (core %s, its own informed choice)", info.Core)
	case core > takesOverUpTo(kernel):
		return false, fmt.Sprintf("OpenBLAS core %s (%s, as wide as the vaelab %s kernels)", info.Core, core, kernel)
	case core == ownISA(kernel):
		return true, fmt.Sprintf("vaelab %s kernels (as wide as the OpenBLAS core %s and faster in training)", kernel, info.Core)
	}
	return true, fmt.Sprintf("vaelab %s kernels (the OpenBLAS core %s is %s)", kernel, info.Core, core)
}

// withOwnProducts returns the BLAS to install: impl, or impl with the float32
// products on vaelab's kernels when ownProducts says so and they pass their
// check; info.Products records which.
func withOwnProducts(choice string, impl G.BLAS, info *Info, warn io.Writer) G.BLAS {
	use, why := ownProducts(choice, *info, sgemm.Kernel(), sgemm.Available())
	if use {
		if err := sgemm.Verify(); err != nil {
			fmt.Fprintf(warn, "vaelab: warning: vaelab's own %s kernels computed a wrong product (%v); float32 products stay on %s\n", sgemm.Kernel(), err, info.Library)
			use, why = false, fmt.Sprintf("%s (the vaelab %s kernels failed their start-up check)", info.Library, sgemm.Kernel())
		}
	}
	info.Products = why
	if !use {
		return impl
	}
	return ownSgemm{BLAS: impl}
}

// ownSgemm is a BLAS whose float32 products run on package sgemm, on the
// calling thread (installed.Sgemm threads them).
type ownSgemm struct{ G.BLAS }

func (o ownSgemm) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm.Gemm(tA != blas.NoTrans, tB != blas.NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 1)
}
