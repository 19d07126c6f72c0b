package vae

import (
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
)

// The kernels below work on one image at a time in NCHW layout and on plain
// slices of float32 or float64, the two dtypes a model can have.

type float interface{ ~float32 | ~float64 }

// geom is a square convolution's kernel size, stride and zero padding.
type geom struct{ k, s, p int }

// out is the output size of a convolution over n input positions, 0 if the
// padded input is smaller than the kernel.
func (g geom) out(n int) int {
	if n+2*g.p < g.k {
		return 0
	}
	return (n+2*g.p-g.k)/g.s + 1
}

// im2col lays out the k×k patches of x (c×h×w) as the columns of col: c·k·k
// rows of oh·ow values, ld apart (ld ≥ oh·ow leaves room for other images'
// columns); positions in the padding read as 0. float32 runs in C.
func im2col[T float](x []T, c, h, w int, g geom, oh, ow int, col []T, ld int) {
	if x32, ok := any(x).([]float32); ok {
		im2col32(x32, c, h, w, g, oh, ow, any(col).([]float32), ld)
		return
	}
	im2colGo(x, c, h, w, g, oh, ow, col, ld)
}

// im2colGo is im2col in Go: the float64 path and the C kernel's reference.
func im2colGo[T float](x []T, c, h, w int, g geom, oh, ow int, col []T, ld int) {
	n := oh * ow
	for ch := range c {
		plane := x[ch*h*w : (ch+1)*h*w]
		for ky := range g.k {
			for kx := range g.k {
				row := col[((ch*g.k+ky)*g.k+kx)*ld:][:n]
				lo, hi := validRange(kx, g, w, ow)
				for oy := range oh {
					iy := oy*g.s + ky - g.p
					dst := row[oy*ow : (oy+1)*ow]
					if iy < 0 || iy >= h || lo >= hi {
						clear(dst)
						continue
					}
					clear(dst[:lo])
					clear(dst[hi:])
					src := plane[iy*w : (iy+1)*w]
					if g.s == 1 {
						copy(dst[lo:hi], src[lo+kx-g.p:])
						continue
					}
					ix := lo*g.s + kx - g.p
					for ox := lo; ox < hi; ox++ {
						dst[ox] = src[ix]
						ix += g.s
					}
				}
			}
		}
	}
}

// validRange is the range [lo, hi) of output columns whose kernel column kx
// falls inside an input row of w values rather than in the padding.
func validRange(kx int, g geom, w, ow int) (lo, hi int) {
	// ox·s + kx − p ≥ 0  and  ox·s + kx − p ≤ w − 1
	lo = max(0, (g.p-kx+g.s-1)/g.s)
	if g.p-kx < 0 {
		lo = 0
	}
	hi = min(ow, (w-1+g.p-kx)/g.s+1)
	if w-1+g.p-kx < 0 {
		hi = 0
	}
	return lo, max(lo, hi)
}

// col2im is im2col's adjoint: it adds every column entry of col (rows ld
// apart) back onto the position of x it was read from, skipping the padding.
func col2im[T float](col []T, c, h, w int, g geom, oh, ow int, x []T, ld int) {
	if x32, ok := any(x).([]float32); ok {
		col2im32(any(col).([]float32), c, h, w, g, oh, ow, x32, ld)
		return
	}
	col2imGo(col, c, h, w, g, oh, ow, x, ld)
}

// col2imGo is col2im in Go: the float64 path and the C kernel's reference.
func col2imGo[T float](col []T, c, h, w int, g geom, oh, ow int, x []T, ld int) {
	n := oh * ow
	for ch := range c {
		plane := x[ch*h*w : (ch+1)*h*w]
		for ky := range g.k {
			for kx := range g.k {
				row := col[((ch*g.k+ky)*g.k+kx)*ld:][:n]
				lo, hi := validRange(kx, g, w, ow)
				if lo >= hi {
					continue
				}
				for oy := range oh {
					iy := oy*g.s + ky - g.p
					if iy < 0 || iy >= h {
						continue
					}
					dst, src := plane[iy*w:(iy+1)*w], row[oy*ow:(oy+1)*ow]
					ix := lo*g.s + kx - g.p
					for ox := lo; ox < hi; ox++ {
						dst[ix] += src[ox]
						ix += g.s
					}
				}
			}
		}
	}
}

// gemm computes c = op(a)·op(b) + beta·c for row-major matrices, with op the
// transpose when tA or tB is set; m×n is c's shape and k the inner size. It
// goes through Gorgonia's BLAS so that a faster BLAS installed with G.Use is
// used here too.
func gemm[T float](tA, tB bool, m, n, k int, a, b []T, beta T, c []T) {
	ta, tb := blas.NoTrans, blas.NoTrans
	lda, ldb := k, n
	if tA {
		ta, lda = blas.Trans, m
	}
	if tB {
		tb, ldb = blas.Trans, k
	}
	impl := G.WhichBLAS()
	switch a := any(a).(type) {
	case []float32:
		impl.Sgemm(ta, tb, m, n, k, 1, a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), n)
	case []float64:
		impl.Dgemm(ta, tb, m, n, k, 1, a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), n)
	}
}

// biasReLU adds bias[ch] (if bias is not nil) to every value of channel ch
// of y (planes of n values), then, with relu set, sets the values not above 0
// to 0. float32 runs in C.
func biasReLU[T float](y, bias []T, n int, relu bool) {
	if y32, ok := any(y).([]float32); ok {
		biasReLU32(y32, any(bias).([]float32), n, relu)
		return
	}
	biasReLUGo(y, bias, n, relu)
}

// biasReLUGo is biasReLU in Go: the float64 path and the C kernel's reference.
func biasReLUGo[T float](y, bias []T, n int, relu bool) {
	for ch := range len(y) / n {
		plane := y[ch*n : (ch+1)*n]
		if bias != nil {
			b := bias[ch]
			for i := range plane {
				plane[i] += b
			}
		}
		if relu {
			for i, v := range plane {
				if !(v > 0) {
					plane[i] = 0
				}
			}
		}
	}
}
