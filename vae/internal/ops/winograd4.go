package ops

// The larger Winograd form of the stride-2 4×4 convolutions (padding 1):
// each phase's 2×2 kernel runs as F(4×4, 2×2), a 4×4 output tile from a 5×5
// input tile with 25 products instead of 64, where winograd.go's F(2×2, 2×2)
// takes 36 for the same 16 outputs. It applies where the output planes'
// sides are multiples of 4 (the input's of 8); F(2×2, 2×2) takes the other
// Winograd-sized maps. The transforms come from the points 0, 1, −1, 2 and
// ∞, scaled so that the input and output transforms hold small integers
// (computed as sums, exact doublings included) and the weights' transform
// the fractions:
//
//	Bᵀ = [2 −1 −2 1 0; 0 2 1 −1 0; 0 −2 3 −1 0; 0 −1 0 1 0; 0 2 −1 −2 1]
//	Aᵀ = [1 1 1 1 0; 0 1 −1 2 0; 0 1 1 4 0; 0 1 −1 8 1]
//	G  = [½ 0; ½ ½; ⅙ −⅙; ⅙ ⅓; 0 1]
//
// The transforms run over the images of a block side by side: tile t of
// image j is column t·m + j of the products (m images in the block), and a
// plane is first laid out with the block's images innermost (lanes), so
// every transform is vectorised across images whatever the plane's size (the
// conv reference model's 8×8 maps hold one tile an image). The inner index
// is k = 4a + 2p + q as in winograd.go; point ξ = 5i + j of the 5×5 domain.

// wino4Fits reports whether the convolution between x (A×H×W) and y (B
// channels) runs as F(4×4, 2×2) (in float32).
func wino4Fits(g geom, A, B, H, W int) bool {
	return g == winogradGeom && H%8 == 0 && W%8 == 0 && H > 0 && W > 0 &&
		min(A, B) >= winogradMinChannels
}

// wino4Dims are the sizes the three passes share for a convolution between
// x (A×H×W) and y (B channels): y's size, the inner size K, the tiles of an
// image, the lanes' room per image and the weights' point stride.
type wino4Dims struct{ h, w, K, tpi, lanes, us int }

func dims4Of(A, B, H, W int) wino4Dims {
	h, w := H/2, W/2
	return wino4Dims{h: h, w: w, K: 4 * A, tpi: h * w / 16, lanes: max((H+2)*(W+2), h*w), us: pointStride(B, 4*A)}
}

// wino4Block is how many of N images with tpi tiles each one block holds:
// about tiles columns, in whole groups of 8 images (a vector's lanes) where
// the batch allows. The forward map and its adjoint take blocks of
// wino4Tiles; a block split between threads splits its transforms by
// channels and its 25 products between them (the 8×8 maps' one block of 64
// images ran 1.2-1.5x faster on 2 threads so than as two blocks of 32, whose
// products are half as wide). The filter gradient takes blocks of
// wino4GradTiles: its products sum over a block's tiles, and each block's sum
// is added to the others' after.
func wino4Block(N, tpi, tiles int) int {
	per := max(1, min(N, tiles/tpi))
	if per > 8 {
		per -= per % 8
	}
	return per
}

const (
	wino4Tiles     = 128
	wino4GradTiles = 256
)

// inRanges runs f over 0..n: split into ranges between the threads when
// inner is set (worker numbering each thread's scratch), else in one call.
func inRanges(inner bool, n int, f func(worker, lo, hi int)) {
	threads := threadsAllowed()
	if !inner || threads <= 1 || n < 2 {
		f(0, 0, n)
		return
	}
	parts := min(n, rangesPerThread*threads)
	shared(min(threads, parts), parts, func(w, p int) { f(w, p*n/parts, (p+1)*n/parts) })
}

// pointWeights4 is the weights' transform U in the op's slot 0.
func pointWeights4[T float](b *outBuf, w []T, B, A int, d wino4Dims) []T {
	U := scratch[T](b, 0, 25*d.us)
	parallel(B, weightRows(A), func(lo, hi int) {
		wino4Weights(w[lo*A*16:hi*A*16], hi-lo, A, U[lo*d.K:], d.us)
	})
	return U
}

// A block's worker w keeps its two transforms and its lanes in slots
// first+3w, +1 and +2; a block split between threads gives each thread's
// lanes the slot of worker w + its thread number (w is then 0).
func wino4Slots(first, threads int) int { return first + 3*threads }

// wino4Forward is convForward as F(4×4, 2×2): y (N,B,H/2,W/2) from x
// (N,A,H,W) and w (B,A,4,4), then bias and ReLU.
func wino4Forward[T float](b *outBuf, x []T, N, A, H, W int, w []T, B int, y, bias []T, relu bool) {
	d := dims4Of(A, B, H, W)
	U := pointWeights4(b, w, B, A, d)
	b.reserve(wino4Slots(1, threadsAllowed()))
	xi, yi := A*H*W, B*d.h*d.w
	inBlocks(b, N, wino4Block(N, d.tpi, wino4Tiles), func(worker, i0, m int, inner bool) {
		nt := m * d.tpi
		vs, ms := pointStride(d.K, nt), pointStride(B, nt)
		V := scratch[T](b, 1+3*worker, 25*vs)
		M := scratch[T](b, 2+3*worker, 25*ms)
		inRanges(inner, A, func(t, a0, a1 int) {
			lanes := scratch[T](b, 3+3*(worker+t), m*d.lanes)
			wino4In(x[i0*xi:], xi, m, a0, a1, H, W, lanes, V, nt, vs)
		})
		gemmsOn(inner, 25, false, false, B, nt, d.K, U, d.us, d.K, V, vs, nt, 0, M, ms, nt)
		inRanges(inner, B, func(t, b0, b1 int) {
			lanes := scratch[T](b, 3+3*(worker+t), m*d.lanes)
			wino4Out(M, nt, ms, m, b0, b1, d.h, d.w, lanes, y[i0*yi:], yi)
			biasReLURange(y[i0*yi:], yi, m, bias, b0, b1, d.h*d.w, relu)
		})
	})
}

// wino4Adjoint is deconvForward as F(4×4, 2×2): x (N,A,H,W) from y
// (N,B,H/2,W/2) and w (B,A,4,4), then bias and ReLU.
func wino4Adjoint[T float](b *outBuf, y []T, N, B, H, W int, w []T, A int, x, bias []T, relu bool) {
	d := dims4Of(A, B, H, W)
	U := pointWeights4(b, w, B, A, d)
	b.reserve(wino4Slots(1, threadsAllowed()))
	xi, yi := A*H*W, B*d.h*d.w
	inBlocks(b, N, wino4Block(N, d.tpi, wino4Tiles), func(worker, i0, m int, inner bool) {
		nt := m * d.tpi
		ms, vs := pointStride(B, nt), pointStride(d.K, nt)
		dM := scratch[T](b, 1+3*worker, 25*ms)
		dV := scratch[T](b, 2+3*worker, 25*vs)
		inRanges(inner, B, func(t, b0, b1 int) {
			lanes := scratch[T](b, 3+3*(worker+t), m*d.lanes)
			wino4OutAdj(y[i0*yi:], yi, m, b0, b1, d.h, d.w, lanes, dM, nt, ms)
		})
		gemmsOn(inner, 25, true, false, d.K, nt, B, U, d.us, d.K, dM, ms, nt, 0, dV, vs, nt)
		inRanges(inner, A, func(t, a0, a1 int) {
			lanes := scratch[T](b, 3+3*(worker+t), m*d.lanes)
			wino4InAdj(dV, nt, vs, m, a0, a1, H, W, lanes, x[i0*xi:], xi)
			biasReLURange(x[i0*xi:], xi, m, bias, a0, a1, H*W, relu)
		})
	})
}

// wino4FilterGrad is filterGrad as F(4×4, 2×2): dw (B,A,4,4) from x
// (N,A,H,W) and the gradient gy (N,B,H/2,W/2). Each block of images (fixed
// by the shapes alone) sums into a dU of its own, slot blk, and the blocks'
// sums are added in order, so the bits do not depend on the thread count.
func wino4FilterGrad[T float](b *outBuf, x []T, N, A, H, W int, gy []T, B int, dw []T) {
	if N == 0 {
		clear(dw)
		return
	}
	d := dims4Of(A, B, H, W)
	per := wino4Block(N, d.tpi, wino4GradTiles)
	blocks := (N + per - 1) / per
	b.reserve(wino4Slots(blocks, threadsAllowed()))
	xi, yi := A*H*W, B*d.h*d.w
	dUs := make([][]T, blocks)
	inBlocks(b, N, per, func(worker, i0, m int, inner bool) {
		blk := i0 / per
		dM := scratch[T](b, blocks+3*worker, 25*pointStride(B, per*d.tpi))
		V := scratch[T](b, blocks+3*worker+1, 25*pointStride(d.K, per*d.tpi))
		dUs[blk] = scratch[T](b, blk, 25*d.us)
		nt := m * d.tpi
		ms, vs := pointStride(B, nt), pointStride(d.K, nt)
		inRanges(inner, B+A, func(t, lo, hi int) {
			lanes := scratch[T](b, blocks+3*(worker+t)+2, m*d.lanes)
			if lo < B {
				wino4OutAdj(gy[i0*yi:], yi, m, lo, min(hi, B), d.h, d.w, lanes, dM, nt, ms)
			}
			if hi > B {
				wino4In(x[i0*xi:], xi, m, max(lo, B)-B, hi-B, H, W, lanes, V, nt, vs)
			}
		})
		gemmsOn(inner, 25, false, true, B, d.K, nt, dM, ms, nt, V, vs, nt, 0, dUs[blk], d.us, d.K)
	})
	dU := dUs[0]
	addBlocks(dU, dUs[1:])
	parallel(B, weightRows(A), func(lo, hi int) {
		wino4WeightsAdj(dU[lo*d.K:], d.us, hi-lo, A, dw[lo*A*16:hi*A*16])
	})
}

// biasReLURange is biasReLU on channels c0..c1 of m images (image stride
// xi, planes of n values).
func biasReLURange[T float](x []T, xi, m int, bias []T, c0, c1, n int, relu bool) {
	if bias == nil && !relu {
		return
	}
	var bs []T
	if bias != nil {
		bs = bias[c0:c1]
	}
	for j := range m {
		biasReLU(x[j*xi+c0*n:j*xi+c1*n], bs, n, relu)
	}
}

// ---- transforms (Go; float32 runs in C with the same operations in the same order) ----

// The one-dimensional transforms, as sums: 2x is x+x and 3x (x+x)+x, which
// round as the products would, so no compiler can fuse them differently.

// bt5 is Bᵀ: five values of an input tile's row or column to five points.
func bt5[T float](d0, d1, d2, d3, d4 T) (v0, v1, v2, v3, v4 T) {
	s, u := d0-d2, d1-d3
	v0 = (s + s) + (d3 - d1)
	v1 = (d1 + d1) + (d2 - d3)
	v2 = ((d2 + d2) + d2) - ((d1 + d1) + d3)
	v3 = d3 - d1
	v4 = (u + u) + (d4 - d2)
	return
}

// b5 is bt5's adjoint (B).
func b5[T float](v0, v1, v2, v3, v4 T) (d0, d1, d2, d3, d4 T) {
	t, s := (v1-v2)+v4, v0+v3
	d0 = v0 + v0
	d1 = (t + t) - s
	d2 = (((v2 + v2) + v2) - (v0 + v0)) + (v1 - v4)
	d3 = (s - (v1 + v2)) - (v4 + v4)
	d4 = v4
	return
}

// at5 is Aᵀ: five points to a row or column of four outputs.
func at5[T float](m0, m1, m2, m3, m4 T) (y0, y1, y2, y3 T) {
	s, d := m1+m2, m1-m2
	t2 := m3 + m3
	t4 := t2 + t2
	t8 := t4 + t4
	y0 = (m0 + s) + m3
	y1 = d + t2
	y2 = s + t4
	y3 = (d + t8) + m4
	return
}

// a5 is at5's adjoint (A).
func a5[T float](g0, g1, g2, g3 T) (e0, e1, e2, e3, e4 T) {
	s, t := g0+g2, g1+g3
	u2 := g2 + g2
	u8 := (g3 + g3) + (g3 + g3)
	e0 = g0
	e1 = s + t
	e2 = s - t
	e3 = ((g0 + (g1 + g1)) + (u2 + u2)) + (u8 + u8)
	e4 = g3
	return
}

const (
	half  = 0.5
	sixth = 1.0 / 6
)

// g5 is G: a phase kernel's row or column to five points.
func g5[T float](g0, g1 T) (r0, r1, r2, r3, r4 T) {
	return g0 * half, (g0 + g1) * half, (g0 - g1) * sixth, ((g0 + g1) + g1) * sixth, g1
}

// gt5 is g5's adjoint (Gᵀ); the conversions keep each product rounded.
func gt5[T float](u0, u1, u2, u3, u4 T) (g0, g1 T) {
	g0 = T((u0+u1)*half) + T((u2+u3)*sixth)
	g1 = (T(u1*half) + T(((u3+u3)-u2)*sixth)) + u4
	return
}

// wino4Weights writes U[ξ·xs + b·4A + k] = (G g Gᵀ)[ξ] for each of B output
// channels b and inner index k, g being the 2×2 kernel of k's phase.
func wino4Weights[T float](w []T, B, A int, U []T, xs int) {
	if w32, ok := any(w).([]float32); ok {
		wino4Weights32(w32, B, A, any(U).([]float32), xs)
		return
	}
	wino4WeightsGo(w, B, A, U, xs)
}

func wino4WeightsGo[T float](w []T, B, A int, U []T, xs int) {
	K := 4 * A
	for b := range B {
		for a := range A {
			wk := w[(b*A+a)*16 : (b*A+a+1)*16]
			for p := range 2 {
				for q := range 2 {
					var r [5][2]T
					for be := range 2 {
						r[0][be], r[1][be], r[2][be], r[3][be], r[4][be] = g5(wk[p*4+2*be+q], wk[(2+p)*4+2*be+q])
					}
					dst := U[b*K+4*a+2*p+q:]
					for i := range 5 {
						u0, u1, u2, u3, u4 := g5(r[i][0], r[i][1])
						dst[(5*i+0)*xs], dst[(5*i+1)*xs], dst[(5*i+2)*xs], dst[(5*i+3)*xs], dst[(5*i+4)*xs] = u0, u1, u2, u3, u4
					}
				}
			}
		}
	}
}

// wino4WeightsAdj is wino4Weights' adjoint: dw (B,A,4,4) = Gᵀ dU G.
func wino4WeightsAdj[T float](dU []T, xs, B, A int, dw []T) {
	if u32, ok := any(dU).([]float32); ok {
		wino4WeightsAdj32(u32, xs, B, A, any(dw).([]float32))
		return
	}
	wino4WeightsAdjGo(dU, xs, B, A, dw)
}

func wino4WeightsAdjGo[T float](dU []T, xs, B, A int, dw []T) {
	K := 4 * A
	for b := range B {
		for a := range A {
			wk := dw[(b*A+a)*16 : (b*A+a+1)*16]
			for p := range 2 {
				for q := range 2 {
					src := dU[b*K+4*a+2*p+q:]
					var e [5][2]T
					for i := range 5 {
						e[i][0], e[i][1] = gt5(src[(5*i)*xs], src[(5*i+1)*xs], src[(5*i+2)*xs], src[(5*i+3)*xs], src[(5*i+4)*xs])
					}
					for be := range 2 {
						g0, g1 := gt5(e[0][be], e[1][be], e[2][be], e[3][be], e[4][be])
						wk[p*4+2*be+q], wk[(2+p)*4+2*be+q] = g0, g1
					}
				}
			}
		}
	}
}

// lanesIn lays out m planes of rows×cols values (plane j at x[j·xi:], rows
// cols apart) with the images innermost: l[(r·ld + c)·m + j].
func lanesIn[T float](x []T, xi, m, rows, cols int, l []T, ld int) {
	for j := range m {
		for r := range rows {
			for c := range cols {
				l[(r*ld+c)*m+j] = x[j*xi+r*cols+c]
			}
		}
	}
}

// lanesOut is lanesIn's inverse.
func lanesOut[T float](l []T, ld, m, rows, cols int, x []T, xi int) {
	for j := range m {
		for r := range rows {
			for c := range cols {
				x[j*xi+r*cols+c] = l[(r*ld+c)*m+j]
			}
		}
	}
}

// padLanes is lanesIn into a plane with a border of zeros: (H+2)×(W+2)
// positions of m lanes.
func padLanes[T float](x []T, xi, m, H, W int, l []T) {
	wp := W + 2
	clear(l[:(H+2)*wp*m])
	lanesIn(x, xi, m, H, W, l[(wp+1)*m:], wp)
}

// wino4In writes the input transform of channels a0..a1 of m images (x,
// image stride xi): V[ξ·xs + k·ld + t·m + j] = (Bᵀ d B)[ξ] for tile t's 5×5
// input d of inner index k in image j. l is room for m padded planes.
func wino4In[T float](x []T, xi, m, a0, a1, H, W int, l, V []T, ld, xs int) {
	if x32, ok := any(x).([]float32); ok {
		wino4In32(x32, xi, m, a0, a1, H, W, any(l).([]float32), any(V).([]float32), ld, xs)
		return
	}
	wino4InGo(x, xi, m, a0, a1, H, W, l, V, ld, xs)
}

func wino4InGo[T float](x []T, xi, m, a0, a1, H, W int, l, V []T, ld, xs int) {
	th, tw, wp := H/8, W/8, W+2
	for a := a0; a < a1; a++ {
		padLanes(x[a*H*W:], xi, m, H, W, l)
		for ty := range th {
			for tx := range tw {
				for p := range 2 {
					for q := range 2 {
						base := ((8*ty+p)*wp + 8*tx + q) * m
						out := V[(4*a+2*p+q)*ld+(ty*tw+tx)*m:]
						for j := range m {
							var e [5][5]T
							for c := range 5 {
								at := func(i int) T { return l[base+(2*i*wp+2*c)*m+j] }
								e[0][c], e[1][c], e[2][c], e[3][c], e[4][c] = bt5(at(0), at(1), at(2), at(3), at(4))
							}
							for i := range 5 {
								v0, v1, v2, v3, v4 := bt5(e[i][0], e[i][1], e[i][2], e[i][3], e[i][4])
								out[(5*i)*xs+j], out[(5*i+1)*xs+j], out[(5*i+2)*xs+j], out[(5*i+3)*xs+j], out[(5*i+4)*xs+j] = v0, v1, v2, v3, v4
							}
						}
					}
				}
			}
		}
	}
}

// wino4InAdj is wino4In's adjoint: it writes channels a0..a1 of m images x
// as the sums of every tile's B dV Bᵀ over the positions the tile reads,
// tile after tile.
func wino4InAdj[T float](dV []T, ld, xs, m, a0, a1, H, W int, l, x []T, xi int) {
	if v32, ok := any(dV).([]float32); ok {
		wino4InAdj32(v32, ld, xs, m, a0, a1, H, W, any(l).([]float32), any(x).([]float32), xi)
		return
	}
	wino4InAdjGo(dV, ld, xs, m, a0, a1, H, W, l, x, xi)
}

func wino4InAdjGo[T float](dV []T, ld, xs, m, a0, a1, H, W int, l, x []T, xi int) {
	th, tw, wp := H/8, W/8, W+2
	for a := a0; a < a1; a++ {
		clear(l[:(H+2)*wp*m])
		for ty := range th {
			for tx := range tw {
				for p := range 2 {
					for q := range 2 {
						base := ((8*ty+p)*wp + 8*tx + q) * m
						src := dV[(4*a+2*p+q)*ld+(ty*tw+tx)*m:]
						for j := range m {
							var e [5][5]T
							for i := range 5 {
								e[i][0], e[i][1], e[i][2], e[i][3], e[i][4] = b5(src[(5*i)*xs+j], src[(5*i+1)*xs+j], src[(5*i+2)*xs+j], src[(5*i+3)*xs+j], src[(5*i+4)*xs+j])
							}
							for c := range 5 {
								d0, d1, d2, d3, d4 := b5(e[0][c], e[1][c], e[2][c], e[3][c], e[4][c])
								for i, v := range [5]T{d0, d1, d2, d3, d4} {
									l[base+(2*i*wp+2*c)*m+j] += v
								}
							}
						}
					}
				}
			}
		}
		lanesOut(l[(wp+1)*m:], wp, m, H, W, x[a*H*W:], xi)
	}
}

// wino4Out writes channels b0..b1 of m images y (image stride yi) from the
// products: each tile's Aᵀ M A. l is room for m planes of h×w.
func wino4Out[T float](M []T, ld, xs, m, b0, b1, h, w int, l, y []T, yi int) {
	if m32, ok := any(M).([]float32); ok {
		wino4Out32(m32, ld, xs, m, b0, b1, h, w, any(l).([]float32), any(y).([]float32), yi)
		return
	}
	wino4OutGo(M, ld, xs, m, b0, b1, h, w, l, y, yi)
}

func wino4OutGo[T float](M []T, ld, xs, m, b0, b1, h, w int, l, y []T, yi int) {
	th, tw := h/4, w/4
	for b := b0; b < b1; b++ {
		for ty := range th {
			for tx := range tw {
				src := M[b*ld+(ty*tw+tx)*m:]
				base := (4*ty*w + 4*tx) * m
				for j := range m {
					var f [5][4]T
					for i := range 5 {
						f[i][0], f[i][1], f[i][2], f[i][3] = at5(src[(5*i)*xs+j], src[(5*i+1)*xs+j], src[(5*i+2)*xs+j], src[(5*i+3)*xs+j], src[(5*i+4)*xs+j])
					}
					for c := range 4 {
						y0, y1, y2, y3 := at5(f[0][c], f[1][c], f[2][c], f[3][c], f[4][c])
						for r, v := range [4]T{y0, y1, y2, y3} {
							l[base+(r*w+c)*m+j] = v
						}
					}
				}
			}
		}
		lanesOut(l, w, m, 1, h*w, y[b*h*w:], yi)
	}
}

// wino4OutAdj is wino4Out's adjoint: dM[ξ·xs + b·ld + t·m + j] = (A g Aᵀ)[ξ]
// for each 4×4 tile g of channels b0..b1 of m images gy.
func wino4OutAdj[T float](gy []T, yi, m, b0, b1, h, w int, l, dM []T, ld, xs int) {
	if g32, ok := any(gy).([]float32); ok {
		wino4OutAdj32(g32, yi, m, b0, b1, h, w, any(l).([]float32), any(dM).([]float32), ld, xs)
		return
	}
	wino4OutAdjGo(gy, yi, m, b0, b1, h, w, l, dM, ld, xs)
}

func wino4OutAdjGo[T float](gy []T, yi, m, b0, b1, h, w int, l, dM []T, ld, xs int) {
	th, tw := h/4, w/4
	for b := b0; b < b1; b++ {
		lanesIn(gy[b*h*w:], yi, m, 1, h*w, l, w)
		for ty := range th {
			for tx := range tw {
				dst := dM[b*ld+(ty*tw+tx)*m:]
				base := (4*ty*w + 4*tx) * m
				for j := range m {
					var e [4][5]T
					for r := range 4 {
						at := func(c int) T { return l[base+(r*w+c)*m+j] }
						e[r][0], e[r][1], e[r][2], e[r][3], e[r][4] = a5(at(0), at(1), at(2), at(3))
					}
					for c := range 5 {
						v0, v1, v2, v3, v4 := a5(e[0][c], e[1][c], e[2][c], e[3][c])
						dst[(c)*xs+j], dst[(5+c)*xs+j], dst[(10+c)*xs+j], dst[(15+c)*xs+j], dst[(20+c)*xs+j] = v0, v1, v2, v3, v4
					}
				}
			}
		}
	}
}
