package vae

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestAdamMatchesItsDefinition runs three steps on f(w) = Σ c·w²/2 (gradient
// c·w) and compares with the update rule computed by hand.
func TestAdamMatchesItsDefinition(t *testing.T) {
	g := G.NewGraph()
	w0 := []float64{1, -2, 0.5}
	c := []float64{1, 10, 0.1}
	wt := tensor.New(tensor.WithShape(3), tensor.WithBacking(append([]float64(nil), w0...)))
	w := G.NewVector(g, G.Float64, G.WithShape(3), G.WithName("w"), G.WithValue(wt))
	ct := G.NewConstant(tensor.New(tensor.WithShape(3), tensor.WithBacking(c)))
	cost := G.Must(G.Sum(G.Must(G.Mul(G.Must(G.HadamardProd(ct, G.Must(G.Square(w)))), G.NewConstant(0.5)))))
	grads, err := G.Grad(cost, w)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	cfg := AdamConfig{Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8}
	a := newAdam(cfg, []*G.Node{w})
	want := append([]float64(nil), w0...)
	m, v := make([]float64, 3), make([]float64, 3)
	for step := 1; step <= 3; step++ {
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		if err := a.step([]*G.Node{w}, grads, 0.1, 1); err != nil {
			t.Fatal(err)
		}
		vm.Reset()
		for j := range want {
			grad := c[j] * want[j]
			m[j] = 0.9*m[j] + 0.1*grad
			v[j] = 0.999*v[j] + 0.001*grad*grad
			mh, vh := m[j]/(1-math.Pow(0.9, float64(step))), v[j]/(1-math.Pow(0.999, float64(step)))
			want[j] -= 0.1 * mh / (math.Sqrt(vh) + 1e-8)
		}
		got := wt.Data().([]float64)
		for j := range want {
			if math.Abs(got[j]-want[j]) > 1e-12 {
				t.Fatalf("step %d w[%d] = %.15g, definition gives %.15g", step, j, got[j], want[j])
			}
		}
	}
}
