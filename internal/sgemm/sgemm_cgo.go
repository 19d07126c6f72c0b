//go:build cgo && amd64

package sgemm

/*
#cgo CFLAGS: -O3
#include "kernel.h"
*/
import "C"

import (
	"sync"
	"unsafe"
)

// kernelNames are the copies of the micro-kernel, by kernel.c's numbers.
var kernelNames = [...]string{"baseline", "avx2", "avx512", "avx512 8x48"}

// avx512Alt is the other AVX-512 tile (8×48), chosen per product.
const avx512Alt = 3

// best is the fastest copy the CPU runs; a property of the CPU, read once.
var best = sync.OnceValue(func() int { return int(C.vaelab_sgemm_best()) })

// Available reports whether a compiled kernel runs here.
func Available() bool { return true }

// Kernel names the micro-kernel this CPU runs: "avx512", "avx2" or "baseline".
func Kernel() string { return kernelNames[best()] }

func tile() (mr, nr int) { return tileOf(best()) }

func tileOf(kernel int) (mr, nr int) {
	var cm, cn C.int
	C.vaelab_sgemm_tile(C.int(kernel), &cm, &cn)
	return int(cm), int(cn)
}

func gemm(tA, tB bool, p block, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmWith(kernelFor(best(), p.i1-p.i0, p.j1-p.j0), tA, tB, p, alpha, a, lda, b, ldb, beta, c, ldc)
}

// kernelFor is the copy of the kernel for an m×n block of c: with AVX-512,
// the tile that pads it least (12×32 or 8×48). Every element is summed the
// same way whatever the tile, so the choice changes speed, not bits.
func kernelFor(best, m, n int) int {
	if best != 2 {
		return best
	}
	padded := func(kernel int) int {
		mr, nr := tileOf(kernel)
		return (m + mr - 1) / mr * mr * ((n + nr - 1) / nr * nr)
	}
	if padded(avx512Alt) < padded(best) {
		return avx512Alt
	}
	return best
}

// gemmWith runs one block with the given copy of the kernel (tests run each).
func gemmWith(kernel int, tA, tB bool, p block, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	blockWith(kernel, true, tA, tB, p, alpha, a, lda, b, ldb, beta, c, ldc)
}

// blockWith is gemmWith, reading b in place where kernel.c may (inPlace)
// or always packing it (tests compare the two).
func blockWith(kernel int, inPlace, tA, tB bool, p block, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if C.vaelab_sgemm_block(C.int(kernel), C.int(b2i(tA)), C.int(b2i(tB)), C.int(p.i0), C.int(p.i1), C.int(p.j0), C.int(p.j1), C.int(p.k),
		C.float(alpha), (*C.float)(unsafe.Pointer(&a[0])), C.long(lda), (*C.float)(unsafe.Pointer(&b[0])), C.long(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.long(ldc), C.int(b2i(inPlace))) != 0 {
		panic("sgemm: out of memory for the packed panels")
	}
}

// readsBInPlace reports whether blockWith, let, reads b in place for m rows
// of c with the given kernel.
func readsBInPlace(kernel int, tB bool, m, ldb int) bool {
	return C.vaelab_sgemm_reads_b_in_place(C.int(kernel), C.int(b2i(tB)), C.int(m), C.long(ldb)) == 1
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
