//go:build !(cgo && amd64)

package sgemm

type kernelCopy struct {
	name string
	id   int
}

func copiesHere() []kernelCopy { return nil }

func gemmWith(_ int, tA, tB bool, p block, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm(tA, tB, p, alpha, a, lda, b, ldb, beta, c, ldc)
}
