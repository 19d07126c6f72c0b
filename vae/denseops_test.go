package vae

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestDenseOpsMatchDefinitionsAndFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 1))
	x, w, b := randVec(rng, 4*5), randVec(rng, 5*3), randVec(rng, 3)
	got := applyOnce(t, linearOp{}, dense(x, 4, 5), dense(w, 5, 3), dense(b, 3))
	want := make([]float64, 4*3)
	for r := range 4 {
		for j := range 3 {
			want[r*3+j] = b[j]
			for k := range 5 {
				want[r*3+j] += x[r*5+k] * w[k*3+j]
			}
		}
	}
	assertClose(t, "linear", got, want, 1e-12)
	for _, tc := range []struct {
		name   string
		build  func(in G.Nodes) (*G.Node, error)
		inputs []*tensor.Dense
	}{
		{"linear", func(in G.Nodes) (*G.Node, error) { return G.ApplyOp(linearOp{}, in...) }, []*tensor.Dense{dense(x, 4, 5), dense(w, 5, 3), dense(b, 3)}},
		{"relu 2-D", func(in G.Nodes) (*G.Node, error) { return G.ApplyOp(reluOp{dims: 2}, in...) }, []*tensor.Dense{dense(x, 4, 5)}},
		{"relu 4-D", func(in G.Nodes) (*G.Node, error) { return G.ApplyOp(reluOp{dims: 4}, in...) }, []*tensor.Dense{dense(x, 1, 4, 5, 1)}},
	} {
		t.Run(tc.name, func(t *testing.T) { checkGradients(t, tc.build, tc.inputs...) })
	}
}

// TestFastSoftplusMatchesMath checks the float32 path's exp and log1p
// polynomials against the math package over their whole ranges.
func TestFastSoftplusMatchesMath(t *testing.T) {
	worstExp, worstLog := 0.0, 0.0
	for i := 0; i <= 200000; i++ {
		x := -745 * float64(i) / 200000
		if want := math.Exp(x); want > 1e-300 {
			worstExp = math.Max(worstExp, math.Abs(expNeg(x)-want)/want)
		}
		e := float64(i) / 200000
		if want := math.Log1p(e); want > 0 {
			worstLog = math.Max(worstLog, math.Abs(log1pUnit(e)-want)/want)
		}
	}
	if worstExp > 1e-11 || worstLog > 1e-11 {
		t.Fatalf("largest relative error: exp %.2g, log1p %.2g", worstExp, worstLog)
	}
	for _, v := range []float64{-1000, -80, -30, -1, -1e-9, 0, 1e-9, 0.5, 3, 30, 80, 1000} {
		sp, sig := softplus32(v), sigmoid32(v)
		wsp, wsig := softplus64(v), sigmoid64(v)
		if math.Abs(sp-wsp) > 1e-11*math.Max(1, wsp) || math.Abs(sig-wsig) > 1e-11 {
			t.Errorf("softplus32(%v) = %v, %v; math: %v, %v", v, sp, sig, wsp, wsig)
		}
	}
	t.Logf("largest relative error: exp %.2g, log1p %.2g", worstExp, worstLog)
}
