package ops

// The conv models' stride-2 4×4 convolutions (padding 1) between feature maps
// of many channels run as Winograd convolutions, with 9 multiplications
// for every 16 of the direct form. A stride-2 4×4 kernel is four stride-1
// 2×2 kernels, one per phase (row and column parity) of the padded input;
// each runs as F(2×2, 2×2): a 2×2 output tile from a 3×3 input tile with 9
// products instead of 16. The four phases of a channel sum into the same
// output, so they join the channels as the inner size of 9 matrix products,
// one per point ξ of the 3×3 transform domain:
//
//	M[ξ] (B × tiles) = U[ξ] (B × 4A) · V[ξ] (4A × tiles)
//
// with U the weights' transform (G g Gᵀ), V the input tiles' (Bᵀ d B), and
// the output tile Aᵀ M A. The transposed convolution and the filter gradient
// are the adjoints of that same linear map, so they use the same transforms
// and products transposed. The transforms only add and subtract (F(2,2)'s
// matrices hold 0 and ±1), and the sums round about as the direct form's do
// (TestWinogradOps measures both).
//
// Notation: the large side x is A channels of H×W, the small side y B
// channels of H/2×W/2, the weights B × A × 4 × 4 (convOp's (O,C,k,k) and
// deconvOp's (C,O,k,k) alike). Inner index k = 4a + 2p + q for input channel
// a and phase (p, q); tile t = ty·(W/4) + tx covers y's rows 2ty, 2ty+1 and
// columns 2tx, 2tx+1, and reads x's rows 4ty−1 … 4ty+4 and columns likewise.

// winogradGeom is the one geometry with a Winograd form here.
var winogradGeom = geom{k: 4, s: 2, p: 1}

// winogradMinChannels is the fewest channels on either side for the Winograd
// form: with fewer, its products are too thin to run near the BLAS's peak
// (the conv models' first and last layers, with the image's 1 or 3 channels,
// stay direct).
const winogradMinChannels = 16

// winogradTiles is about how many tiles one block of images gives its 9
// products: the products' width.
const winogradTiles = 256

// single reports whether T is float32. float64 models keep the direct form:
// the transforms are C for float32 only (the Go references are for tests and
// builds without cgo), and the float64 gradient checks then run against the
// definitions.
func single[T float]() bool {
	var z T
	_, ok := any(z).(float32)
	return ok
}

// winogradFits reports whether the convolution between x (A×H×W) and y (B
// channels) runs in Winograd form (in float32).
func winogradFits(g geom, A, B, H, W int) bool {
	return g == winogradGeom && H%4 == 0 && W%4 == 0 && H > 0 && W > 0 &&
		min(A, B) >= winogradMinChannels
}

// winoPlane is the working room the input transform and its adjoint need
// for one plane: its padded copy split by column mod 4, and the adjoint's
// third columns of a row of tiles.
func winoPlane(H, W int) int { return 4*(H+2)*(W/4+1) + 3*(W/4) }

// pointStride is the distance between the matrices of two transform points
// for matrices of rows × ld: 16 values (a cache line of float32) more than
// their size, so the 9 values of a tile, read or written together, do not
// share a cache set (with sizes of powers of two they all would, and evict
// each other).
func pointStride(rows, ld int) int { return rows*ld + 16 }

// winoBlock is how many of N images with tpi tiles each one block holds.
func winoBlock(N, tpi int) int { return max(1, min(N, winogradTiles/tpi)) }

// winoBlocks is winoBlock for the forward map and its adjoint, smaller when
// that leaves threads without a block of their own: a block's thread then
// runs its products and transforms alone, where splitting each between
// threads scaled worse (the conv reference model's 8×8 maps, one block of
// 64 images: 1.33x on 2 threads). Their sums run over channels, not images,
// so the blocks do not change their bits.
func winoBlocks(N, tpi int) int {
	per, threads := winoBlock(N, tpi), threadsAllowed()
	if threads > 1 && (N+per-1)/per < threads {
		per = max(1, N/threads)
	}
	return per
}

// winoDims are the sizes the three passes share for a convolution between
// x (A×H×W) and y (B channels): y's size, the products' inner size K, the
// tiles of an image, a plane's working room and the weights' point stride.
type winoDims struct{ h, w, K, tpi, plane, us int }

func dimsOf(A, B, H, W int) winoDims {
	h, w, K := H/2, W/2, 4*A
	return winoDims{h: h, w: w, K: K, tpi: h * w / 4, plane: winoPlane(H, W), us: pointStride(B, K)}
}

// pointWeights is the weights' transform U in the op's slot 0.
func pointWeights[T float](b *outBuf, w []T, B, A int, d winoDims) []T {
	U := scratch[T](b, 0, 9*d.us)
	winoWeights(w, B, A, U, d.us)
	return U
}

// winoForward is convForward in Winograd form: y (N,B,H/2,W/2) from x
// (N,A,H,W) and w (B,A,4,4), then bias and ReLU.
func winoForward[T float](b *outBuf, x []T, N, A, H, W int, w []T, B int, y, bias []T, relu bool) {
	d := dimsOf(A, B, H, W)
	h, wd, K, tpi, plane, us := d.h, d.w, d.K, d.tpi, d.plane, d.us
	U := pointWeights(b, w, B, A, d)
	b.reserve(1 + 3*threadsAllowed())
	inBlocks(b, N, winoBlocks(N, tpi), func(worker, i0, m int, inner bool) {
		nt := m * tpi
		vs, ms := pointStride(K, nt), pointStride(B, nt)
		V := scratch[T](b, 1+3*worker, 9*vs)
		M := scratch[T](b, 2+3*worker, 9*ms)
		pad := scratch[T](b, 3+3*worker, m*plane)
		loop(inner, m, func(j int) {
			winoIn(x[(i0+j)*A*H*W:(i0+j+1)*A*H*W], A, H, W, pad[j*plane:(j+1)*plane], V[j*tpi:], nt, vs)
		})
		gemmsOn(inner, 9, false, false, B, nt, K, U, us, K, V, vs, nt, 0, M, ms, nt)
		loop(inner, m, func(j int) {
			yi := y[(i0+j)*B*h*wd : (i0+j+1)*B*h*wd]
			winoOut(M[j*tpi:], nt, ms, B, h, wd, yi)
			biasReLU(yi, bias, h*wd, relu)
		})
	})
}

// winoAdjoint is deconvForward in Winograd form: x (N,A,H,W) from y
// (N,B,H/2,W/2) and w (B,A,4,4), then bias and ReLU.
func winoAdjoint[T float](b *outBuf, y []T, N, B, H, W int, w []T, A int, x, bias []T, relu bool) {
	d := dimsOf(A, B, H, W)
	h, wd, K, tpi, plane, us := d.h, d.w, d.K, d.tpi, d.plane, d.us
	U := pointWeights(b, w, B, A, d)
	b.reserve(1 + 3*threadsAllowed())
	inBlocks(b, N, winoBlocks(N, tpi), func(worker, i0, m int, inner bool) {
		nt := m * tpi
		ms, vs := pointStride(B, nt), pointStride(K, nt)
		dM := scratch[T](b, 1+3*worker, 9*ms)
		dV := scratch[T](b, 2+3*worker, 9*vs)
		pad := scratch[T](b, 3+3*worker, m*plane)
		loop(inner, m, func(j int) {
			winoOutAdj(y[(i0+j)*B*h*wd:(i0+j+1)*B*h*wd], B, h, wd, dM[j*tpi:], nt, ms)
		})
		gemmsOn(inner, 9, true, false, K, nt, B, U, us, K, dM, ms, nt, 0, dV, vs, nt)
		loop(inner, m, func(j int) {
			xi := x[(i0+j)*A*H*W : (i0+j+1)*A*H*W]
			winoInAdj(dV[j*tpi:], nt, vs, A, H, W, pad[j*plane:(j+1)*plane], xi)
			biasReLU(xi, bias, H*W, relu)
		})
	})
}

// winoFilterGrad is filterGrad in Winograd form: dw (B,A,4,4) from x
// (N,A,H,W) and the gradient gy (N,B,H/2,W/2).
func winoFilterGrad[T float](b *outBuf, x []T, N, A, H, W int, gy []T, B int, dw []T) {
	if N == 0 {
		clear(dw)
		return
	}
	d := dimsOf(A, B, H, W)
	h, wd, K, tpi, plane, us := d.h, d.w, d.K, d.tpi, d.plane, d.us
	// Each block of per images (per fixed by the shapes alone) sums into a
	// dU of its own, slot blk, and the blocks' sums are added in order: the
	// order of every sum is the one thread's whatever the thread count (a
	// product's beta-1 accumulation adds the same way). Threads take whole
	// blocks; a worker keeps its block's two transforms and padded planes in
	// slots blocks+3w, +1 and +2.
	per := winoBlock(N, tpi)
	blocks := (N + per - 1) / per
	b.reserve(blocks + 3*threadsAllowed())
	dUs := make([][]T, blocks)
	inBlocks(b, N, per, func(w, i0, m int, inner bool) {
		blk := i0 / per
		dM := scratch[T](b, blocks+3*w, 9*pointStride(B, per*tpi))
		V := scratch[T](b, blocks+3*w+1, 9*pointStride(K, per*tpi))
		pad := scratch[T](b, blocks+3*w+2, per*plane)
		dUs[blk] = scratch[T](b, blk, 9*us)
		nt := m * tpi
		ms, vs := pointStride(B, nt), pointStride(K, nt)
		loop(inner, m, func(j int) {
			i := i0 + j
			winoOutAdj(gy[i*B*h*wd:(i+1)*B*h*wd], B, h, wd, dM[j*tpi:], nt, ms)
			winoIn(x[i*A*H*W:(i+1)*A*H*W], A, H, W, pad[j*plane:(j+1)*plane], V[j*tpi:], nt, vs)
		})
		gemmsOn(inner, 9, false, true, B, K, nt, dM, ms, nt, V, vs, nt, 0, dUs[blk], us, K)
	})
	dU := dUs[0]
	addBlocks(dU, dUs[1:])
	winoWeightsAdj(dU, us, B, A, dw)
}

// ---- transforms (Go; float32 runs in C with the same operations in the same order) ----

// weightRows is the fewest output channels (of A input channels' 4×4
// kernels) a thread takes in the weights' transforms and their adjoints:
// about 16k weights.
func weightRows(A int) int { return max(1, 1<<14/(16*A)) }

// winoWeights writes U[ξ·xs + b·4A + k] = (G g Gᵀ)[ξ] for each output
// channel b and inner index k, g being the 2×2 kernel of k's phase.
func winoWeights[T float](w []T, B, A int, U []T, xs int) {
	// Threads take output channels: rows of every point's matrix.
	parallel(B, weightRows(A), func(lo, hi int) {
		wb, Ub := w[lo*A*16:hi*A*16], U[lo*4*A:]
		if w32, ok := any(wb).([]float32); ok {
			winoWeights32(w32, hi-lo, A, any(Ub).([]float32), xs)
			return
		}
		winoWeightsGo(wb, hi-lo, A, Ub, xs)
	})
}

func winoWeightsGo[T float](w []T, B, A int, U []T, xs int) {
	K := 4 * A
	for b := range B {
		for a := range A {
			wk := w[(b*A+a)*16 : (b*A+a+1)*16]
			for p := range 2 {
				for q := range 2 {
					g00, g01, g10, g11 := wk[p*4+q], wk[p*4+2+q], wk[(2+p)*4+q], wk[(2+p)*4+2+q]
					r := [3][2]T{{g00, g01}, {g00 + g10, g01 + g11}, {g10, g11}}
					dst := U[b*K+4*a+2*p+q:]
					for i := range 3 {
						dst[(3*i+0)*xs] = r[i][0]
						dst[(3*i+1)*xs] = r[i][0] + r[i][1]
						dst[(3*i+2)*xs] = r[i][1]
					}
				}
			}
		}
	}
}

// winoWeightsAdj is winoWeights' adjoint: dw (B,A,4,4) = Gᵀ dU G for each
// output channel, input channel and phase.
func winoWeightsAdj[T float](dU []T, xs, B, A int, dw []T) {
	parallel(B, weightRows(A), func(lo, hi int) {
		Ub, wb := dU[lo*4*A:], dw[lo*A*16:hi*A*16]
		if u32, ok := any(Ub).([]float32); ok {
			winoWeightsAdj32(u32, xs, hi-lo, A, any(wb).([]float32))
			return
		}
		winoWeightsAdjGo(Ub, xs, hi-lo, A, wb)
	})
}

func winoWeightsAdjGo[T float](dU []T, xs, B, A int, dw []T) {
	K := 4 * A
	for b := range B {
		for a := range A {
			wk := dw[(b*A+a)*16 : (b*A+a+1)*16]
			for p := range 2 {
				for q := range 2 {
					src := dU[b*K+4*a+2*p+q:]
					var u [3][3]T
					for i := range 3 {
						for j := range 3 {
							u[i][j] = src[(3*i+j)*xs]
						}
					}
					var e [2][3]T
					for j := range 3 {
						e[0][j] = u[0][j] + u[1][j]
						e[1][j] = u[1][j] + u[2][j]
					}
					for al := range 2 {
						wk[(2*al+p)*4+q] = e[al][0] + e[al][1]
						wk[(2*al+p)*4+2+q] = e[al][1] + e[al][2]
					}
				}
			}
		}
	}
}

// padPlane copies one H×W plane into pad ((H+2)×(W+2)) with a border of
// zeros.
func padPlane[T float](x []T, H, W int, pad []T) {
	clear(pad[:W+2])
	for r := range H {
		row := pad[(r+1)*(W+2) : (r+2)*(W+2)]
		row[0], row[W+1] = 0, 0
		copy(row[1:W+1], x[r*W:(r+1)*W])
	}
	clear(pad[(H+1)*(W+2) : (H+2)*(W+2)])
}

// winoIn writes the input transform of one image x (A×H×W): V[ξ·xs + k·ld
// + t] = (Bᵀ d B)[ξ] for tile t's 3×3 input d of inner index k. pad is
// room for one padded plane.
func winoIn[T float](x []T, A, H, W int, pad, V []T, ld, xs int) {
	if x32, ok := any(x).([]float32); ok {
		winoIn32(x32, A, H, W, any(pad).([]float32), any(V).([]float32), ld, xs)
		return
	}
	winoInGo(x, A, H, W, pad, V, ld, xs)
}

func winoInGo[T float](x []T, A, H, W int, pad, V []T, ld, xs int) {
	th, tw, wp := H/4, W/4, W+2
	for a := range A {
		padPlane(x[a*H*W:(a+1)*H*W], H, W, pad)
		for ty := range th {
			for tx := range tw {
				t := ty*tw + tx
				for p := range 2 {
					for q := range 2 {
						var d [3][3]T
						for i := range 3 {
							for j := range 3 {
								d[i][j] = pad[(4*ty+2*i+p)*wp+4*tx+2*j+q]
							}
						}
						var e [3][3]T
						for j := range 3 {
							e[0][j] = d[0][j] - d[1][j]
							e[1][j] = d[1][j]
							e[2][j] = d[2][j] - d[1][j]
						}
						dst := V[(4*a+2*p+q)*ld+t:]
						for i := range 3 {
							dst[(3*i+0)*xs] = e[i][0] - e[i][1]
							dst[(3*i+1)*xs] = e[i][1]
							dst[(3*i+2)*xs] = e[i][2] - e[i][1]
						}
					}
				}
			}
		}
	}
}

// winoInAdj is winoIn's adjoint: it writes x (A×H×W) as the sum of every
// tile's B dV Bᵀ over the positions the tile reads, row of tiles after row,
// in the order winoInAdjGo gives (the same on every path).
func winoInAdj[T float](dV []T, ld, xs, A, H, W int, pad, x []T) {
	if v32, ok := any(dV).([]float32); ok {
		winoInAdj32(v32, ld, xs, A, H, W, any(pad).([]float32), any(x).([]float32))
		return
	}
	winoInAdjGo(dV, ld, xs, A, H, W, pad, x)
}

func winoInAdjGo[T float](dV []T, ld, xs, A, H, W int, pad, x []T) {
	th, tw, wp := H/4, W/4, W+2
	// For each row of tiles and phase, every tile's first two columns, then
	// their third (the next tile's first): the C kernel's order, vectorised
	// across the row. The thirds wait past the padded plane (winoPlane).
	third := pad[(H+2)*wp : (H+2)*wp+3*tw]
	for a := range A {
		clear(pad[:(H+2)*wp])
		for ty := range th {
			for p := range 2 {
				for q := range 2 {
					for tx := range tw {
						src := dV[(4*a+2*p+q)*ld+ty*tw+tx:]
						var v [3][3]T
						for i := range 3 {
							for j := range 3 {
								v[i][j] = src[(3*i+j)*xs]
							}
						}
						var e [3][3]T
						for j := range 3 {
							e[0][j] = v[0][j]
							e[1][j] = v[1][j] - v[0][j] - v[2][j]
							e[2][j] = v[2][j]
						}
						for i := range 3 {
							row := pad[(4*ty+2*i+p)*wp+4*tx+q:]
							row[0] += e[i][0]
							row[2] += e[i][1] - e[i][0] - e[i][2]
							third[3*tx+i] = e[i][2]
						}
					}
					for tx := range tw {
						for i := range 3 {
							pad[(4*ty+2*i+p)*wp+4*tx+q+4] += third[3*tx+i]
						}
					}
				}
			}
		}
		for r := range H {
			copy(x[(a*H+r)*W:(a*H+r+1)*W], pad[(r+1)*wp+1:(r+1)*wp+1+W])
		}
	}
}

// winoOut writes one image y (B×h×w) from the products: each tile's Aᵀ M A.
func winoOut[T float](M []T, ld, xs, B, h, w int, y []T) {
	if m32, ok := any(M).([]float32); ok {
		winoOut32(m32, ld, xs, B, h, w, any(y).([]float32))
		return
	}
	winoOutGo(M, ld, xs, B, h, w, y)
}

func winoOutGo[T float](M []T, ld, xs, B, h, w int, y []T) {
	th, tw := h/2, w/2
	for b := range B {
		for ty := range th {
			for tx := range tw {
				src := M[b*ld+ty*tw+tx:]
				var m [3][3]T
				for i := range 3 {
					for j := range 3 {
						m[i][j] = src[(3*i+j)*xs]
					}
				}
				for r := range 2 {
					f0, f1, f2 := m[r][0]+m[r+1][0], m[r][1]+m[r+1][1], m[r][2]+m[r+1][2]
					row := y[(b*h+2*ty+r)*w+2*tx:]
					row[0] = f0 + f1
					row[1] = f1 + f2
				}
			}
		}
	}
}

// winoOutAdj is winoOut's adjoint: dM[ξ·xs + b·ld + t] = (A g Aᵀ)[ξ] for
// each 2×2 tile g of one image gy (B×h×w).
func winoOutAdj[T float](gy []T, B, h, w int, dM []T, ld, xs int) {
	if g32, ok := any(gy).([]float32); ok {
		winoOutAdj32(g32, B, h, w, any(dM).([]float32), ld, xs)
		return
	}
	winoOutAdjGo(gy, B, h, w, dM, ld, xs)
}

func winoOutAdjGo[T float](gy []T, B, h, w int, dM []T, ld, xs int) {
	th, tw := h/2, w/2
	for b := range B {
		for ty := range th {
			for tx := range tw {
				g0 := gy[(b*h+2*ty)*w+2*tx:]
				g1 := gy[(b*h+2*ty+1)*w+2*tx:]
				e := [3][2]T{{g0[0], g0[1]}, {g0[0] + g1[0], g0[1] + g1[1]}, {g1[0], g1[1]}}
				dst := dM[b*ld+ty*tw+tx:]
				for i := range 3 {
					dst[(3*i+0)*xs] = e[i][0]
					dst[(3*i+1)*xs] = e[i][0] + e[i][1]
					dst[(3*i+2)*xs] = e[i][1]
				}
			}
		}
	}
}
