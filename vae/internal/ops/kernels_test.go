package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randVec32(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// assertSameBits fails unless got and want hold the same float32 values bit
// for bit.
func assertSameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s[%d] = %v, Go reference %v", what, i, got[i], want[i])
		}
	}
}

// TestKernelsMatchGo checks the float32 kernels (C under cgo) against their Go
// references, bit for bit, on every convolution geometry of the conv tests.
func TestKernelsMatchGo(t *testing.T) {
	forEachKernelCopy(t, checkKernelsMatchGo)
}

// forEachKernelCopy runs check with each copy of the C kernels the CPU can
// run (baseline and AVX2) in turn.
func forEachKernelCopy(t *testing.T, check func(t *testing.T)) {
	for _, name := range kernelCopies() {
		t.Run(name, func(t *testing.T) {
			defer useKernelCopy(useKernelCopy(name))
			check(t)
		})
	}
}

func checkKernelsMatchGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, tc := range convGeoms {
		g := tc.g
		oh, ow := g.out(tc.H), g.out(tc.W)
		n, rows := oh*ow, tc.C*g.k*g.k
		x := randVec32(rng, tc.C*tc.H*tc.W)
		got, want := make([]float32, n*rows), make([]float32, n*rows)
		im2row32(x, tc.C, tc.H, tc.W, g, oh, ow, got)
		im2rowGo(x, tc.C, tc.H, tc.W, g, oh, ow, want)
		assertSameBits(t, tc.name+" im2row", got, want)

		patches := randVec32(rng, n*rows)
		got, want = randVec32(rng, len(x)), make([]float32, len(x))
		copy(want, got) // row2im adds onto x
		row2im32(patches, tc.C, tc.H, tc.W, g, oh, ow, got)
		row2imGo(patches, tc.C, tc.H, tc.W, g, oh, ow, want)
		assertSameBits(t, tc.name+" row2im", got, want)
	}

	x, gr := randVec32(rng, 1003), randVec32(rng, 1003)
	x[3] = float32(math.NaN())
	for _, g := range [][]float32{nil, gr} {
		got, want := make([]float32, len(x)), make([]float32, len(x))
		relu32(got, x, g)
		relu(want, x, g)
		assertSameBits(t, "relu", got, want)
	}

	// The bias gradient's column sums and the linear map's bias, on a row
	// length that leaves a vector tail.
	rows := randVec32(rng, 37*403)
	got, want := randVec32(rng, 403), make([]float32, 403)
	copy(want, got) // both add onto y
	colSums32(403, got, rows)
	colSums(403, want, rows)
	assertSameBits(t, "colSums", got, want)
	// The conv bias gradient's channel sums: maps of 16 or more values with
	// and without a tail, a map shorter than the 16 lanes, and a channel
	// range that leaves the others alone.
	for _, cs := range []struct{ images, C, c0, c1, n int }{{3, 5, 0, 5, 64}, {2, 7, 2, 6, 37}, {4, 3, 0, 3, 9}, {1, 2, 1, 2, 1024}} {
		x := randVec32(rng, cs.images*cs.C*cs.n)
		got, want := randVec32(rng, cs.C), make([]float32, cs.C)
		copy(want, got) // both add onto y
		channelRange32(got, x, cs.images, cs.C, cs.c0, cs.c1, cs.n)
		channelRange(want, x, cs.images, cs.C, cs.c0, cs.c1, cs.n)
		assertSameBits(t, fmt.Sprintf("channelSums %+v", cs), got, want)
	}
	bias := randVec32(rng, 403)
	got, want = append([]float32(nil), rows...), append([]float32(nil), rows...)
	rowBias32(got, bias)
	rowBias(want, bias)
	assertSameBits(t, "rowBias", got, want)

	for _, bias := range [][]float32{nil, randVec32(rng, 17)} {
		for _, fused := range []bool{false, true} {
			got, want := randVec32(rng, 17*59), make([]float32, 17*59)
			copy(want, got)
			biasReLU32(got, bias, 59, fused)
			biasReLUGo(want, bias, 59, fused)
			assertSameBits(t, fmt.Sprintf("bias (%d) and relu (%t)", len(bias), fused), got, want)
		}
	}

	for _, n := range []int{0, 5, 8, 1003} {
		if got, want := SumSquares32(gr[:n]), sumSquaresGo(gr[:n]); got != want {
			t.Fatalf("sum of %d squares = %v, Go reference %v", n, got, want)
		}
	}

	c := AdamConsts{B1: 0.9, B2: 0.999, Step: 1e-3 / 0.1, Inv2: 1 / 0.001, Eps: 1e-8, Scale: 0.5}
	w, m, v := randVec32(rng, 1003), randVec32(rng, 1003), randVec32(rng, 1003)
	for i := range v {
		v[i] *= v[i]
	}
	g, g2 := append([]float32(nil), gr[:1003]...), append([]float32(nil), gr[:1003]...)
	w2, m2, v2 := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
	Adam32(w, g, m, v, c)
	AdamUpdate(w2, g2, m2, v2, c)
	for _, p := range []struct {
		name      string
		got, want []float32
	}{{"adam weights", w, w2}, {"adam m", m, m2}, {"adam v", v, v2},
		{"adam's gradient, which it only reads", g, gr[:1003]}, {"the Go reference's gradient", g2, gr[:1003]}} {
		assertSameBits(t, p.name, p.got, p.want)
	}
}

// TestBernoulliKernelMatchesMath checks the float32 Bernoulli log-likelihood
// and its gradient, with their exp and log1p polynomials, against float64
// arithmetic with the math package, one logit at a time over the whole float32
// range, and summed over rows.
func TestBernoulliKernelMatchesMath(t *testing.T) {
	forEachKernelCopy(t, checkBernoulliKernel)
}

func checkBernoulliKernel(t *testing.T) {
	var logits []float32
	for _, v := range []float32{0, 1e-30, 1e-9, 0.3465, 0.5, 1, 3, 10, 30, 80, 87, 88, 100, 1e4, 3e38} {
		logits = append(logits, v, -v)
	}
	for i := range 200001 {
		logits = append(logits, float32(-100+200*float64(i)/200000))
	}
	x := make([]float32, len(logits))
	rng := rand.New(rand.NewPCG(9, 10))
	for i := range x {
		x[i] = rng.Float32()
	}
	ll, grad, g := make([]float32, len(logits)), make([]float32, len(logits)), make([]float32, len(logits))
	for i := range g {
		g[i] = 1
	}
	bernoulliLogLik32(1, ll, x, logits)
	bernoulliGrad32(1, grad, x, logits, g)
	worstLL, worstGrad := 0.0, 0.0
	for i, l := range logits {
		lv, xv := float64(l), float64(x[i])
		want := xv*lv - softplus64(lv)
		// Each term is rounded to float32: the error scale is its parts'.
		errLL := math.Abs(float64(ll[i])-want) / (math.Abs(xv*lv) + softplus64(lv) + 1e-30)
		errGrad := math.Abs(float64(grad[i]) - (xv - sigmoid64(lv)))
		worstLL, worstGrad = max(worstLL, errLL), max(worstGrad, errGrad)
	}
	if worstLL > 5e-7 || worstGrad > 2e-7 {
		t.Fatalf("largest error: log-likelihood %.2g relative, gradient %.2g", worstLL, worstGrad)
	}

	// Rows: the sums of 560 terms are accumulated in float64.
	const d = 560
	rowX, rowL := randVec32(rng, 4*d), randVec32(rng, 4*d)
	y := make([]float32, 4)
	bernoulliLogLik32(d, y, rowX, rowL)
	want := make([]float64, 4)
	bernoulliLogLik(d, want, toFloat64(rowX), toFloat64(rowL))
	for b := range y {
		if math.Abs(float64(y[b])-want[b]) > 1e-6*math.Abs(want[b]) {
			t.Errorf("row %d: %v, want %v", b, y[b], want[b])
		}
	}
	t.Logf("largest error: log-likelihood %.2g relative, gradient %.2g", worstLL, worstGrad)
}

func toFloat64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
