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

// colSums32 is colSums: y (n) += the sum of x's rows.
func colSums32(n int, y, x []float32) {
	checkLen("colSums", y, n)
	C.vaelab_col_sums(f32p(y), f32p(x), C.long(len(x)/n), C.long(n))
}

// channelRange32 is channelRange: y[c] += the sums of channels c0..c1-1 of
// x (images×channels×n), image after image.
func channelRange32(y, x []float32, images, channels, c0, c1, n int) {
	checkLen("channelSums", x, images*channels*n)
	checkLen("channelSums", y, channels)
	C.vaelab_channel_sums(f32p(y), f32p(x), C.long(images), C.long(channels), C.long(c0), C.long(c1), C.long(n))
}

// rowBias32 adds b (n) to every row of y.
func rowBias32(y, b []float32) {
	C.vaelab_row_bias(f32p(y), f32p(b), C.long(len(y)/len(b)), C.long(len(b)))
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
	parallel(len(y), max(1, minValues/max(d, 1)), func(lo, hi int) {
		C.vaelab_bernoulli_loglik(f32p(y[lo:hi]), f32p(x[lo*d:hi*d]), f32p(l[lo*d:hi*d]), C.long(hi-lo), C.long(d))
	})
}

func bernoulliGrad32(d int, y, x, l, g []float32) {
	for _, s := range [][]float32{y, x, l} {
		checkLen("bernoulli gradient", s, len(g)*d)
	}
	parallel(len(g), max(1, minValues/max(d, 1)), func(lo, hi int) {
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

// winoSpan is how many values a transform writes or reads from its first:
// to the last row of the 9th point's matrix, the tiles of one image.
func winoSpan(rows, ld, xs, tiles int) int { return 8*xs + (rows-1)*ld + tiles }

func winoWeights32(w []float32, B, A int, U []float32, xs int) {
	checkLen("winograd weights", w, B*A*16)
	checkLen("winograd weights", U, 8*xs+B*4*A)
	C.vaelab_wino_weights(f32p(w), C.int(B), C.int(A), f32p(U), C.long(xs))
}

func winoWeightsAdj32(dU []float32, xs, B, A int, dw []float32) {
	checkLen("winograd weights adjoint", dU, 8*xs+B*4*A)
	checkLen("winograd weights adjoint", dw, B*A*16)
	C.vaelab_wino_weights_adj(f32p(dU), C.long(xs), C.int(B), C.int(A), f32p(dw))
}

func winoIn32(x []float32, A, H, W int, pad, V []float32, ld, xs int) {
	checkLen("winograd input", x, A*H*W)
	checkLen("winograd input", pad, winoPlane(H, W))
	checkLen("winograd input", V, winoSpan(4*A, ld, xs, H*W/16))
	C.vaelab_wino_in(f32p(x), C.int(A), C.int(H), C.int(W), f32p(pad), f32p(V), C.long(ld), C.long(xs))
}

func winoInAdj32(dV []float32, ld, xs, A, H, W int, pad, x []float32) {
	checkLen("winograd input adjoint", dV, winoSpan(4*A, ld, xs, H*W/16))
	checkLen("winograd input adjoint", pad, winoPlane(H, W))
	checkLen("winograd input adjoint", x, A*H*W)
	C.vaelab_wino_in_adj(f32p(dV), C.long(ld), C.long(xs), C.int(A), C.int(H), C.int(W), f32p(pad), f32p(x))
}

func winoOut32(M []float32, ld, xs, B, h, w int, y []float32) {
	checkLen("winograd output", M, winoSpan(B, ld, xs, h*w/4))
	checkLen("winograd output", y, B*h*w)
	C.vaelab_wino_out(f32p(M), C.long(ld), C.long(xs), C.int(B), C.int(h), C.int(w), f32p(y))
}

func winoOutAdj32(gy []float32, B, h, w int, dM []float32, ld, xs int) {
	checkLen("winograd output adjoint", gy, B*h*w)
	checkLen("winograd output adjoint", dM, winoSpan(B, ld, xs, h*w/4))
	C.vaelab_wino_out_adj(f32p(gy), C.int(B), C.int(h), C.int(w), f32p(dM), C.long(ld), C.long(xs))
}

// wino4Span is how many values an F(4×4, 2×2) transform writes or reads
// from its first: to the last row (of rows) of the 25th point's matrix, the
// tiles of m images.
func wino4Span(rows, ld, xs, tiles int) int { return 24*xs + (rows-1)*ld + tiles }

// lanesSpan is how many values m images of stride xi span up to channel c1
// of planes of n.
func lanesSpan(xi, m, c1, n int) int { return (m-1)*xi + c1*n }

func wino4Weights32(w []float32, B, A int, U []float32, xs int) {
	checkLen("winograd4 weights", w, B*A*16)
	checkLen("winograd4 weights", U, 24*xs+B*4*A)
	C.vaelab_wino4_weights(f32p(w), C.int(B), C.int(A), f32p(U), C.long(xs))
}

func wino4WeightsAdj32(dU []float32, xs, B, A int, dw []float32) {
	checkLen("winograd4 weights adjoint", dU, 24*xs+B*4*A)
	checkLen("winograd4 weights adjoint", dw, B*A*16)
	C.vaelab_wino4_weights_adj(f32p(dU), C.long(xs), C.int(B), C.int(A), f32p(dw))
}

func wino4In32(x []float32, xi, m, a0, a1, H, W int, l, V []float32, ld, xs int) {
	if a1 <= a0 || m == 0 {
		return
	}
	checkLen("winograd4 input", x, lanesSpan(xi, m, a1, H*W))
	checkLen("winograd4 input", l, m*(H+2)*(W+2))
	checkLen("winograd4 input", V, wino4Span(4*a1, ld, xs, m*H*W/64))
	C.vaelab_wino4_in(f32p(x), C.long(xi), C.int(m), C.int(a0), C.int(a1), C.int(H), C.int(W), f32p(l), f32p(V),
		C.long(ld), C.long(xs))
}

func wino4InAdj32(dV []float32, ld, xs, m, a0, a1, H, W int, l, x []float32, xi int) {
	if a1 <= a0 || m == 0 {
		return
	}
	checkLen("winograd4 input adjoint", dV, wino4Span(4*a1, ld, xs, m*H*W/64))
	checkLen("winograd4 input adjoint", l, m*(H+2)*(W+2))
	checkLen("winograd4 input adjoint", x, lanesSpan(xi, m, a1, H*W))
	C.vaelab_wino4_in_adj(f32p(dV), C.long(ld), C.long(xs), C.int(m), C.int(a0), C.int(a1), C.int(H), C.int(W),
		f32p(l), f32p(x), C.long(xi))
}

func wino4Out32(M []float32, ld, xs, m, b0, b1, h, w int, l, y []float32, yi int) {
	if b1 <= b0 || m == 0 {
		return
	}
	checkLen("winograd4 output", M, wino4Span(b1, ld, xs, m*h*w/16))
	checkLen("winograd4 output", l, m*h*w)
	checkLen("winograd4 output", y, lanesSpan(yi, m, b1, h*w))
	C.vaelab_wino4_out(f32p(M), C.long(ld), C.long(xs), C.int(m), C.int(b0), C.int(b1), C.int(h), C.int(w),
		f32p(l), f32p(y), C.long(yi))
}

func wino4OutAdj32(gy []float32, yi, m, b0, b1, h, w int, l, dM []float32, ld, xs int) {
	if b1 <= b0 || m == 0 {
		return
	}
	checkLen("winograd4 output adjoint", gy, lanesSpan(yi, m, b1, h*w))
	checkLen("winograd4 output adjoint", l, m*h*w)
	checkLen("winograd4 output adjoint", dM, wino4Span(b1, ld, xs, m*h*w/16))
	C.vaelab_wino4_out_adj(f32p(gy), C.long(yi), C.int(m), C.int(b0), C.int(b1), C.int(h), C.int(w), f32p(l),
		f32p(dM), C.long(ld), C.long(xs))
}
