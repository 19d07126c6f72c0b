package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/vaelab/vaelab/internal/numtest"
)

// wino4Shapes are convolutions for F(4×4, 2×2), called directly (below its
// channel threshold): square and not, one tile, blocks of fewer images than
// a vector's 8 lanes and of more, and several blocks with a short last one
// (16 tiles an image, 16 images a block).
var wino4Shapes = []struct{ N, A, B, H, W int }{
	{3, 2, 3, 8, 16},
	{1, 1, 1, 8, 8},
	{2, 3, 2, 24, 8},
	{11, 2, 3, 8, 8},
	{20, 2, 3, 32, 32},
	{9, 3, 2, 16, 16},
}

// TestWinograd4MatchesDirect checks the three F(4×4, 2×2) passes against the
// convolution, its transpose and its filter gradient written from their
// definitions: to rounding in float64, and in float32 (C under cgo) within
// 1e-4 of the largest value (the transforms' factors, up to 8 and 1/6, add to
// the rounding; TestWinogradOps compares it with the direct form's).
func TestWinograd4MatchesDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	g := numtest.Geom{K: 4, S: 2, P: 1}
	for _, s := range wino4Shapes {
		t.Run(fmt.Sprintf("%dx%dx%dx%d-to-%d", s.N, s.A, s.H, s.W, s.B), func(t *testing.T) {
			h, w := s.H/2, s.W/2
			x := numtest.RandVec(rng, s.N*s.A*s.H*s.W)
			wt := numtest.RandVec(rng, s.B*s.A*16)
			gy := numtest.RandVec(rng, s.N*s.B*h*w)
			bias, biasT := numtest.RandVec(rng, s.B), numtest.RandVec(rng, s.A)
			wantY, _, _ := numtest.DirectConv(x, s.N, s.A, s.H, s.W, wt, s.B, bias, g)
			wantX := numtest.DirectDeconv(gy, s.N, s.B, h, w, wt, s.A, biasT, g, s.H, s.W)
			wantW := directFilterGrad(x, s.N, s.A, s.H, s.W, gy, s.B)

			y := make([]float64, len(wantY))
			wino4Forward(nil, x, s.N, s.A, s.H, s.W, wt, s.B, y, bias, false)
			assertClose(t, "forward", y, wantY, 1e-12)
			xt := make([]float64, len(wantX))
			wino4Adjoint(nil, gy, s.N, s.B, s.H, s.W, wt, s.A, xt, biasT, false)
			assertClose(t, "adjoint", xt, wantX, 1e-12)
			dw := make([]float64, len(wantW))
			wino4FilterGrad(nil, x, s.N, s.A, s.H, s.W, gy, s.B, dw)
			assertClose(t, "filter gradient", dw, wantW, 1e-12)

			y32 := make([]float32, len(wantY))
			wino4Forward(nil, to32(x), s.N, s.A, s.H, s.W, to32(wt), s.B, y32, to32(bias), false)
			assertClose(t, "float32 forward", to64(y32), wantY, 1e-4)
			x32 := make([]float32, len(wantX))
			wino4Adjoint(nil, to32(gy), s.N, s.B, s.H, s.W, to32(wt), s.A, x32, to32(biasT), false)
			assertClose(t, "float32 adjoint", to64(x32), wantX, 1e-4)
			dw32 := make([]float32, len(wantW))
			wino4FilterGrad(nil, to32(x), s.N, s.A, s.H, s.W, to32(gy), s.B, dw32)
			assertClose(t, "float32 filter gradient", to64(dw32), wantW, 1e-4)
		})
	}
}

// TestWinograd4KernelsMatchGo checks the float32 F(4×4, 2×2) transforms (C
// under cgo) against their Go references bit for bit, with each copy the CPU
// can run, on blocks of images that fill a vector's lanes and that do not,
// and on a range of channels.
func TestWinograd4KernelsMatchGo(t *testing.T) {
	forEachKernelCopy(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(23, 24))
		for _, s := range wino4Shapes {
			for _, m := range []int{1, 3, 8, 19} {
				A, B, H, W := s.A, s.B, s.H, s.W
				h, w, K := H/2, W/2, 4*A
				nt := m*H*W/64 + 5 // a block's width, and room past its tiles
				vs, ms, us := pointStride(K, nt), pointStride(B, nt), pointStride(B, K)
				xi, yi := A*H*W+7, B*h*w+5 // images apart by more than their size
				lanes := make([]float32, m*max((H+2)*(W+2), h*w))
				name := fmt.Sprintf("%dx%dx%d-to-%d, %d images", A, H, W, B, m)
				pair := func(n int) ([]float32, []float32) {
					got := randVec32(rng, n) // what the kernels leave alone must stay
					return got, append([]float32(nil), got...)
				}
				a0, b0 := A/2, B/2 // the last channels only

				wt := randVec32(rng, B*A*16)
				got, want := pair(25 * us)
				wino4Weights32(wt, B, A, got, us)
				wino4WeightsGo(wt, B, A, want, us)
				assertSameBits(t, name+" weights", got, want)
				dU := randVec32(rng, 25*us)
				got, want = pair(B * A * 16)
				wino4WeightsAdj32(dU, us, B, A, got)
				wino4WeightsAdjGo(dU, us, B, A, want)
				assertSameBits(t, name+" weights adjoint", got, want)

				x := randVec32(rng, m*xi)
				got, want = pair(25 * vs)
				wino4In32(x, xi, m, a0, A, H, W, lanes, got, nt, vs)
				wino4InGo(x, xi, m, a0, A, H, W, lanes, want, nt, vs)
				assertSameBits(t, name+" input", got, want)
				dV := randVec32(rng, 25*vs)
				got, want = pair(m * xi)
				wino4InAdj32(dV, nt, vs, m, a0, A, H, W, lanes, got, xi)
				wino4InAdjGo(dV, nt, vs, m, a0, A, H, W, lanes, want, xi)
				assertSameBits(t, name+" input adjoint", got, want)

				M := randVec32(rng, 25*ms)
				got, want = pair(m * yi)
				wino4Out32(M, nt, ms, m, b0, B, h, w, lanes, got, yi)
				wino4OutGo(M, nt, ms, m, b0, B, h, w, lanes, want, yi)
				assertSameBits(t, name+" output", got, want)
				gy := randVec32(rng, m*yi)
				got, want = pair(25 * ms)
				wino4OutAdj32(gy, yi, m, b0, B, h, w, lanes, got, nt, ms)
				wino4OutAdjGo(gy, yi, m, b0, B, h, w, lanes, want, nt, ms)
				assertSameBits(t, name+" output adjoint", got, want)
			}
		}
	})
}
