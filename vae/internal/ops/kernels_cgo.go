//go:build cgo

package ops

/*
#cgo CFLAGS: -O3 -I${SRCDIR}
#cgo LDFLAGS: -lm
#include "vaelab_kernels.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// The float32 hot loops run in C (kernels.c), where the compiler vectorises
// them; Go's compiler does not. float64 models, the ones the gradient tests
// use, keep the Go code.

func f32p(s []float32) *C.float {
	if len(s) == 0 {
		return nil
	}
	return (*C.float)(unsafe.Pointer(&s[0]))
}

func im2row32(x []float32, c, h, w int, g geom, oh, ow int, rows []float32) {
	checkLen("im2row", x, c*h*w)
	checkLen("im2row", rows, oh*ow*c*g.k*g.k)
	C.vaelab_im2row(f32p(x), C.int(c), C.int(h), C.int(w), C.int(g.k), C.int(g.s), C.int(g.p),
		C.int(oh), C.int(ow), f32p(rows))
}

func row2im32(rows []float32, c, h, w int, g geom, oh, ow int, x []float32) {
	checkLen("row2im", x, c*h*w)
	checkLen("row2im", rows, oh*ow*c*g.k*g.k)
	C.vaelab_row2im(f32p(rows), C.int(c), C.int(h), C.int(w), C.int(g.k), C.int(g.s), C.int(g.p),
		C.int(oh), C.int(ow), f32p(x))
}

func relu32(y, x, g []float32) {
	checkLen("relu", y, len(x))
	if g != nil {
		checkLen("relu", g, len(x))
	}
	elementwise(len(x), func(lo, hi int) {
		var gp *C.float
		if g != nil {
			gp = f32p(g[lo:hi])
		}
		C.vaelab_relu(f32p(y[lo:hi]), f32p(x[lo:hi]), gp, C.long(hi-lo))
	})
}

func biasReLU32(y, bias []float32, n int, relu bool) {
	if bias != nil {
		checkLen("bias", bias, len(y)/n)
	}
	C.vaelab_bias_relu(f32p(y), f32p(bias), C.long(len(y)/n), C.long(n), C.int(b2i(relu)))
}

func Adam32(w, g, m, v []float32, c AdamConsts) {
	for _, s := range [][]float32{g, m, v} {
		checkLen("adam", s, len(w))
	}
	elementwise(len(w), func(lo, hi int) {
		C.vaelab_adam(f32p(w[lo:hi]), f32p(g[lo:hi]), f32p(m[lo:hi]), f32p(v[lo:hi]), C.long(hi-lo), C.float(c.B1), C.float(c.B2),
			C.float(c.Step), C.float(c.Inv2), C.float(c.Eps), C.float(c.Scale))
	})
}

func bernoulliLogLik32(d int, y, x, l []float32) {
	checkLen("bernoulli", x, len(y)*d)
	checkLen("bernoulli", l, len(y)*d)
	// Threads take whole images: each image's sum keeps its order.
	parallel(len(y), max(1, 1<<18/max(d, 1)), func(lo, hi int) {
		C.vaelab_bernoulli_loglik(f32p(y[lo:hi]), f32p(x[lo*d:hi*d]), f32p(l[lo*d:hi*d]), C.long(hi-lo), C.long(d))
	})
}

func bernoulliGrad32(d int, y, x, l, g []float32) {
	for _, s := range [][]float32{y, x, l} {
		checkLen("bernoulli gradient", s, len(g)*d)
	}
	parallel(len(g), max(1, 1<<18/max(d, 1)), func(lo, hi int) {
		C.vaelab_bernoulli_grad(f32p(y[lo*d:hi*d]), f32p(x[lo*d:hi*d]), f32p(l[lo*d:hi*d]), f32p(g[lo:hi]), C.long(hi-lo), C.long(d))
	})
}

// SumSquares32 is Σ v² in float64, summed as sumSquaresGo does.
func SumSquares32(v []float32) float64 { return float64(C.vaelab_sum_squares(f32p(v), C.long(len(v)))) }

// kernelCopies names the copies of the kernels this CPU can run, for tests:
// "baseline", and "avx2" if it has AVX2.
func kernelCopies() []string {
	if C.vaelab_kernels_have_avx2() == 1 {
		return []string{"baseline", "avx2"}
	}
	return []string{"baseline"}
}

// useKernelCopy makes the named copy run from now on and returns the one that
// ran before.
func useKernelCopy(name string) string {
	if C.vaelab_kernels_use_avx2(C.int(b2i(name == "avx2"))) == 1 {
		return "avx2"
	}
	return "baseline"
}

// checkLen guards the C code against short slices: a shape bug in the Go code
// panics here instead of corrupting memory.
func checkLen(kernel string, s []float32, n int) {
	if len(s) < n {
		panic(fmt.Sprintf("ops: %s kernel: slice of %d values, need %d", kernel, len(s), n))
	}
}
