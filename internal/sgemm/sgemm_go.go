//go:build !(cgo && amd64)

package sgemm

// Without cgo on amd64 the product is this reference loop: correct, slow,
// and never chosen by the BLAS setup (Available reports false).

// Available reports whether a compiled kernel runs here.
func Available() bool { return false }

// Kernel names the micro-kernel this CPU runs: "avx512", "avx2", "baseline",
// or "go" for the reference loop.
func Kernel() string { return "go" }

func tile() (mr, nr int) { return 4, 8 }

// gemm is the reference product of one block of c.
func gemm(tA, tB bool, p block, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := p.i0; i < p.i1; i++ {
		for j := p.j0; j < p.j1; j++ {
			var s float32
			for q := range p.k {
				s += at(a, tA, i, q, lda) * at(b, tB, q, j, ldb)
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}
