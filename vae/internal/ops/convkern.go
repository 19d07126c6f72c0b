package ops

import (
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
)

// The kernels below work on one image at a time in NCHW layout and on plain
// slices of float32 or float64, the two dtypes a model can have.

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

// im2row lays out the k×k patches of x (c×h×w) as rows: row oy·ow + ox of
// rows holds the patch under output (oy, ox), channel after channel, each
// channel's k×k values row by row; positions in the padding read as 0. Every
// patch row is a run of k neighbouring input values, whatever the stride, so
// this layout copies runs where the column layout (patches as columns) makes
// strided copies of a few values each. float32 runs in C.
func im2row[T float](x []T, c, h, w int, g geom, oh, ow int, rows []T) {
	if x32, ok := any(x).([]float32); ok {
		im2row32(x32, c, h, w, g, oh, ow, any(rows).([]float32))
		return
	}
	im2rowGo(x, c, h, w, g, oh, ow, rows)
}

// im2rowGo is im2row in Go: the float64 path and the C kernel's reference.
func im2rowGo[T float](x []T, c, h, w int, g geom, oh, ow int, rows []T) {
	for i, j := range patchSources(c, h, w, g, oh, ow) {
		if j >= 0 {
			rows[i] = x[j]
		} else {
			rows[i] = 0
		}
	}
}

// patchSources gives, for every entry of im2row's rows in order, the index
// of the value of x (c×h×w) it holds, or −1 for the padding.
func patchSources(c, h, w int, g geom, oh, ow int) []int {
	src := make([]int, 0, oh*ow*c*g.k*g.k)
	for oy := range oh {
		for ox := range ow {
			for ch := range c {
				for ky := range g.k {
					iy := oy*g.s - g.p + ky
					for kx := range g.k {
						ix := ox*g.s - g.p + kx
						if iy < 0 || iy >= h || ix < 0 || ix >= w {
							src = append(src, -1)
						} else {
							src = append(src, (ch*h+iy)*w+ix)
						}
					}
				}
			}
		}
	}
	return src
}

// row2im is im2row's adjoint: it adds every entry of rows back onto the
// position of x it was read from, skipping the padding.
func row2im[T float](rows []T, c, h, w int, g geom, oh, ow int, x []T) {
	if x32, ok := any(x).([]float32); ok {
		row2im32(any(rows).([]float32), c, h, w, g, oh, ow, x32)
		return
	}
	row2imGo(rows, c, h, w, g, oh, ow, x)
}

// row2imGo is row2im in Go: the float64 path and the C kernel's reference,
// which adds the entries onto each value of x in the same order.
func row2imGo[T float](rows []T, c, h, w int, g geom, oh, ow int, x []T) {
	for i, j := range patchSources(c, h, w, g, oh, ow) {
		if j >= 0 {
			x[j] += rows[i]
		}
	}
}

// gemm computes c = op(a)·op(b) + beta·c for row-major matrices, with op the
// transpose when tA or tB is set; m×n is c's shape and k the inner size. It
// goes through Gorgonia's BLAS so that a faster BLAS installed with G.Use is
// used here too, on as many threads as the setup allows.
func gemm[T float](tA, tB bool, m, n, k int, a, b []T, beta T, c []T) {
	lda, ldb := k, n
	if tA {
		lda = m
	}
	if tB {
		ldb = k
	}
	gemmOn(true, tA, tB, m, n, k, a, lda, b, ldb, beta, c, n)
}

// oneThread is the installed BLAS's product on the calling thread alone.
type oneThread interface {
	SgemmOneThread(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}

// many is the installed BLAS's batch of products of one shape, threaded.
type many interface {
	SgemmMany(count int, tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, sa, lda int, b []float32, sb, ldb int, beta float32, c []float32, sc, ldc int)
}

// gemmsOn is gemmOn for count products of one shape, the i-th on a[i·sa:],
// b[i·sb:] and c[i·sc:] (a Winograd pass's 9 points). With inner set, a BLAS
// that batches products wakes its threads once for all of them, with the
// values of one threaded product each.
func gemmsOn[T float](inner bool, count int, tA, tB bool, m, n, k int, a []T, sa, lda int, b []T, sb, ldb int, beta T, c []T, sc, ldc int) {
	if a32, ok := any(a).([]float32); ok && inner {
		if bm, ok := G.WhichBLAS().(many); ok {
			bm.SgemmMany(count, transpose(tA), transpose(tB), m, n, k, 1, a32, sa, lda, any(b).([]float32), sb, ldb, float32(beta), any(c).([]float32), sc, ldc)
			return
		}
	}
	for i := range count {
		gemmOn(inner, tA, tB, m, n, k, a[i*sa:], lda, b[i*sb:], ldb, beta, c[i*sc:], ldc)
	}
}

// gemmOn is gemm with leading dimensions, threaded when inner is set and
// else on the calling thread (an op's workers already run side by side).
func gemmOn[T float](inner, tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	ta, tb := transpose(tA), transpose(tB)
	impl := G.WhichBLAS()
	switch a := any(a).(type) {
	case []float32:
		if one, ok := impl.(oneThread); ok && !inner {
			one.SgemmOneThread(ta, tb, m, n, k, 1, a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
			return
		}
		impl.Sgemm(ta, tb, m, n, k, 1, a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		impl.Dgemm(ta, tb, m, n, k, 1, a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
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

// transpose is the BLAS flag for a matrix used transposed when t is set.
func transpose(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}
