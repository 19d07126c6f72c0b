package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/vaelab/vaelab/internal/numtest"
)

// winoShapes are convolutions between x (N,A,H,W) and y (N,B,H/2,W/2) for
// the Winograd form, called directly (below its channel threshold): square
// and not, one tile, and enough images for several blocks with a short last
// one (16 tiles an image, 16 images a block).
var winoShapes = []struct{ N, A, B, H, W int }{
	{3, 2, 3, 8, 12},
	{1, 1, 1, 4, 4},
	{2, 3, 2, 12, 4},
	{20, 2, 3, 16, 16},
	{2, 2, 3, 8, 32}, // 8 tiles a row: the C kernels' full vectors
	{1, 1, 2, 4, 44}, // 11: full vectors and the rest
}

// directFilterGrad is Σ gy[n,b,y,x]·x[n,a,2y+ky−1,2x+kx−1]: the weights'
// gradient of the stride-2 4×4 convolution written from its definition.
func directFilterGrad(x []float64, N, A, H, W int, gy []float64, B int) []float64 {
	h, w := H/2, W/2
	dw := make([]float64, B*A*16)
	for n := range N {
		for b := range B {
			for a := range A {
				for ky := range 4 {
					for kx := range 4 {
						s := 0.0
						for i := range h {
							for j := range w {
								yy, xx := 2*i+ky-1, 2*j+kx-1
								if yy >= 0 && yy < H && xx >= 0 && xx < W {
									s += gy[((n*B+b)*h+i)*w+j] * x[((n*A+a)*H+yy)*W+xx]
								}
							}
						}
						dw[((b*A+a)*4+ky)*4+kx] += s
					}
				}
			}
		}
	}
	return dw
}

func to32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func to64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// TestWinogradMatchesDirect checks the three Winograd passes against the
// convolution, its transpose and its filter gradient written from their
// definitions: to rounding in float64, and in float32 (C under cgo) to
// float32's precision.
func TestWinogradMatchesDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	g := numtest.Geom{K: 4, S: 2, P: 1}
	for _, s := range winoShapes {
		t.Run(fmt.Sprintf("%dx%dx%dx%d-to-%d", s.N, s.A, s.H, s.W, s.B), func(t *testing.T) {
			h, w := s.H/2, s.W/2
			x := numtest.RandVec(rng, s.N*s.A*s.H*s.W)
			wt := numtest.RandVec(rng, s.B*s.A*16)
			gy := numtest.RandVec(rng, s.N*s.B*h*w)
			wantY, _, _ := numtest.DirectConv(x, s.N, s.A, s.H, s.W, wt, s.B, make([]float64, s.B), g)
			wantX := numtest.DirectDeconv(gy, s.N, s.B, h, w, wt, s.A, make([]float64, s.A), g, s.H, s.W)
			wantW := directFilterGrad(x, s.N, s.A, s.H, s.W, gy, s.B)

			y := make([]float64, len(wantY))
			winoForward(nil, x, s.N, s.A, s.H, s.W, wt, s.B, y, nil, false)
			assertClose(t, "forward", y, wantY, 1e-12)
			xt := make([]float64, len(wantX))
			winoAdjoint(nil, gy, s.N, s.B, s.H, s.W, wt, s.A, xt, nil, false)
			assertClose(t, "adjoint", xt, wantX, 1e-12)
			dw := make([]float64, len(wantW))
			winoFilterGrad(nil, x, s.N, s.A, s.H, s.W, gy, s.B, dw)
			assertClose(t, "filter gradient", dw, wantW, 1e-12)

			y32 := make([]float32, len(wantY))
			winoForward(nil, to32(x), s.N, s.A, s.H, s.W, to32(wt), s.B, y32, nil, false)
			assertClose(t, "float32 forward", to64(y32), wantY, 1e-5)
			x32 := make([]float32, len(wantX))
			winoAdjoint(nil, to32(gy), s.N, s.B, s.H, s.W, to32(wt), s.A, x32, nil, false)
			assertClose(t, "float32 adjoint", to64(x32), wantX, 1e-5)
			dw32 := make([]float32, len(wantW))
			winoFilterGrad(nil, to32(x), s.N, s.A, s.H, s.W, to32(gy), s.B, dw32)
			assertClose(t, "float32 filter gradient", to64(dw32), wantW, 1e-4)
		})
	}
}

// TestWinogradKernelsMatchGo checks the float32 transforms (C under cgo)
// against their Go references bit for bit, with each copy the CPU can run.
func TestWinogradKernelsMatchGo(t *testing.T) {
	forEachKernelCopy(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(13, 14))
		for _, s := range winoShapes {
			A, B, H, W := s.A, s.B, s.H, s.W
			h, w, K := H/2, W/2, 4*A
			tiles := H * W / 16
			ld := tiles + 3 // a block's width: this image's tiles and others'
			vs, ms := pointStride(K, ld), pointStride(B, ld)
			name := fmt.Sprintf("%dx%dx%d-to-%d", A, H, W, B)
			pad := make([]float32, winoPlane(H, W))
			pair := func(n int) ([]float32, []float32) { return make([]float32, n), make([]float32, n) }

			wt := randVec32(rng, B*A*16)
			us := pointStride(B, K)
			got, want := pair(9 * us)
			winoWeights32(wt, B, A, got, us)
			winoWeightsGo(wt, B, A, want, us)
			assertSameBits(t, name+" weights", got, want)
			dU := randVec32(rng, 9*us)
			got, want = pair(B * A * 16)
			winoWeightsAdj32(dU, us, B, A, got)
			winoWeightsAdjGo(dU, us, B, A, want)
			assertSameBits(t, name+" weights adjoint", got, want)

			x := randVec32(rng, A*H*W)
			got, want = pair(9 * vs)
			winoIn32(x, A, H, W, pad, got, ld, vs)
			winoInGo(x, A, H, W, pad, want, ld, vs)
			assertSameBits(t, name+" input", got, want)
			dV := randVec32(rng, 9*vs)
			got, want = pair(A * H * W)
			winoInAdj32(dV, ld, vs, A, H, W, pad, got)
			winoInAdjGo(dV, ld, vs, A, H, W, pad, want)
			assertSameBits(t, name+" input adjoint", got, want)

			M := randVec32(rng, 9*ms)
			got, want = pair(B * h * w)
			winoOut32(M, ld, ms, B, h, w, got)
			winoOutGo(M, ld, ms, B, h, w, want)
			assertSameBits(t, name+" output", got, want)
			gy := randVec32(rng, B*h*w)
			got, want = pair(9 * ms)
			winoOutAdj32(gy, B, h, w, got, ld, ms)
			winoOutAdjGo(gy, B, h, w, want, ld, ms)
			assertSameBits(t, name+" output adjoint", got, want)
		}
	})
}

// TestWinogradOps checks the float32 ops that take the Winograd form (16
// channels and more) against the definitions, through their Do.
func TestWinogradOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	g := numtest.Geom{K: 4, S: 2, P: 1}
	for _, H := range []int{8, 12, 16} { // F(4×4, 2×2) for 8 and 16, F(2×2, 2×2) for 12
		N, A, B, h := 3, 16, 24, H/2
		x, w := numtest.RandVec(rng, N*A*H*H), numtest.RandVec(rng, B*A*16)
		bias, gy := numtest.RandVec(rng, B), numtest.RandVec(rng, N*B*h*h)
		biasT := numtest.RandVec(rng, A)
		dense := func(v []float64, shape ...int) G.Value {
			return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(to32(v)))
		}
		run := func(op interface {
			Do(...G.Value) (G.Value, error)
		}, in ...G.Value) []float64 {
			t.Helper()
			out, err := op.Do(in...)
			if err != nil {
				t.Fatal(err)
			}
			return to64(out.Data().([]float32))
		}
		wantY, _, _ := numtest.DirectConv(x, N, A, H, H, w, B, bias, g)
		gotY := run(convOp{g: winogradGeom, bias: true}, dense(x, N, A, H, H), dense(w, B, A, 4, 4), dense(bias, B))
		assertCloseMax(t, fmt.Sprintf("%dx%d conv", H, H), gotY, wantY, 1e-5)
		// The direct form in float32, for its rounding error.
		direct := make([]float32, len(wantY))
		convDirect(convOp{g: winogradGeom, bias: true}, tensor.Shape{N, A, H, H}, tensor.Shape{N, B, h, h}, direct,
			[][]float32{to32(x), to32(w), to32(bias)})
		errW, errD := maxError(gotY, wantY), maxError(to64(direct), wantY)
		t.Logf("%dx%d conv, largest error over the largest value: Winograd %.2g, direct %.2g", H, H, errW, errD)
		// F(4×4, 2×2)'s transforms scale the sums by up to 8 (and its weights
		// by 1/6): its error is several times F(2×2, 2×2)'s (2e-6 against a
		// direct form's 2e-7 to 6e-7, depending on the BLAS).
		factor := 10.0
		if wino4Fits(winogradGeom, A, B, H, H) {
			factor = 30
		}
		if errW > factor*max(errD, 1e-7) {
			t.Errorf("%dx%d conv: Winograd error %.2g is more than %g times the direct form's %.2g", H, H, errW, factor, errD)
		}
		wantX := numtest.DirectDeconv(gy, N, B, h, h, w, A, biasT, g, H, H)
		gotX := run(deconvOp{g: winogradGeom, bias: true, outH: H, outW: H}, dense(gy, N, B, h, h), dense(w, B, A, 4, 4), dense(biasT, A))
		assertCloseMax(t, fmt.Sprintf("%dx%d conv transpose", H, H), gotX, wantX, 1e-5)
		wantW := directFilterGrad(x, N, A, H, H, gy, B)
		gotW := run(filterGradOp{g: winogradGeom}, dense(x, N, A, H, H), dense(gy, N, B, h, h))
		assertCloseMax(t, fmt.Sprintf("%dx%d filter gradient", H, H), gotW, wantW, 1e-5)
	}
}

// maxError is max|got − want| / max|want|.
func maxError(got, want []float64) float64 {
	worst, largest := 0.0, 0.0
	for i := range want {
		worst = max(worst, math.Abs(got[i]-want[i]))
		largest = max(largest, math.Abs(want[i]))
	}
	return worst / largest
}

// assertCloseMax fails unless every got[i] is within tol·max|want| of
// want[i]: the Winograd form's error scales with the sums' size, not with
// each value's.
func assertCloseMax(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	largest := 0.0
	for _, v := range want {
		largest = max(largest, math.Abs(v))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol*largest {
			t.Fatalf("%s[%d] = %v, want %v (largest %v)", what, i, got[i], want[i], largest)
		}
	}
}

// TestWinogradChosen checks which convolutions take the Winograd form.
func TestWinogradChosen(t *testing.T) {
	for _, tc := range []struct {
		g          geom
		A, B, H, W int
		want       bool
	}{
		{geom{4, 2, 1}, 32, 64, 32, 32, true},
		{geom{4, 2, 1}, 16, 16, 4, 8, true},
		{geom{4, 2, 1}, 3, 32, 64, 64, false},  // the image's channels
		{geom{4, 2, 1}, 32, 64, 30, 32, false}, // rows not a multiple of 4
		{geom{4, 2, 1}, 32, 64, 32, 6, false},  // columns likewise
		{geom{3, 1, 1}, 32, 64, 32, 32, false}, // other geometries stay direct
		{geom{4, 2, 0}, 32, 64, 32, 32, false},
	} {
		if got := winogradFits(tc.g, tc.A, tc.B, tc.H, tc.W); got != tc.want {
			t.Errorf("winogradFits(%v, A=%d, B=%d, %dx%d) = %v, want %v", tc.g, tc.A, tc.B, tc.H, tc.W, got, tc.want)
		}
	}
}

// BenchmarkConvForms times each pass of the conv reference model's
// Winograd-sized layers (batch 64) in the direct and both Winograd forms, on
// one thread unless the BLAS was set up with more:
//
//	go test ./vae/internal/ops -run XXX -bench ConvForms
func BenchmarkConvForms(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, s := range []struct{ A, B, H int }{{32, 64, 32}, {64, 128, 16}, {128, 256, 8}} {
		N, h := 64, s.H/2
		x := randVec32(rng, N*s.A*s.H*s.H)
		w := randVec32(rng, s.B*s.A*16)
		gy := randVec32(rng, N*s.B*h*h)
		xs := tensor.Shape{N, s.A, s.H, s.H}
		ys := tensor.Shape{N, s.B, h, h}
		y, dx, dw := make([]float32, len(gy)), make([]float32, len(x)), make([]float32, len(w))
		flops := float64(2 * N * s.B * h * h * s.A * 16)
		conv := convOp{opBase: opBase{out: &outBuf{}}, g: winogradGeom}
		deconv := deconvOp{opBase: opBase{out: &outBuf{}}, g: winogradGeom, outH: s.H, outW: s.H}
		fgrad := filterGradOp{opBase: opBase{out: &outBuf{}}, g: winogradGeom}
		passes := []struct {
			name                  string
			direct, winoFn, wino4 func()
		}{
			{"forward", func() { convDirect(conv, xs, ys, y, [][]float32{x, w}) },
				func() { winoForward(conv.out, x, N, s.A, s.H, s.H, w, s.B, y, nil, false) },
				func() { wino4Forward(conv.out, x, N, s.A, s.H, s.H, w, s.B, y, nil, false) }},
			{"adjoint", func() { deconvDirect(deconv, ys, xs, dx, [][]float32{gy, w}) },
				func() { winoAdjoint(deconv.out, gy, N, s.B, s.H, s.H, w, s.A, dx, nil, false) },
				func() { wino4Adjoint(deconv.out, gy, N, s.B, s.H, s.H, w, s.A, dx, nil, false) }},
			{"filter", func() { clear(dw); filterGradDirect(fgrad, xs, ys, dw, [][]float32{x, gy}) },
				func() { winoFilterGrad(fgrad.out, x, N, s.A, s.H, s.H, gy, s.B, dw) },
				func() { wino4FilterGrad(fgrad.out, x, N, s.A, s.H, s.H, gy, s.B, dw) }},
		}
		for _, p := range passes {
			for _, form := range []struct {
				name string
				f    func()
			}{{"direct", p.direct}, {"winograd", p.winoFn}, {"winograd4", p.wino4}} {
				b.Run(fmt.Sprintf("%dx%d-%d-to-%d/%s/%s", s.H, s.H, s.A, s.B, p.name, form.name), func(b *testing.B) {
					form.f()
					b.ResetTimer()
					for range b.N {
						form.f()
					}
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
