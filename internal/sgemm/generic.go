package sgemm

// The tile sizes by which Gemm splits work between threads.
const tileM, tileN = 16, 32

// Kernel names the micro-kernel this CPU runs: "avx512", "avx2" or "go".
func Kernel() string { return "go" }

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
