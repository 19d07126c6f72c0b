package vae

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/vaelab/vaelab/vae/internal/ops"
)

// adam is the Adam optimiser (Kingma & Ba 2015) with bias correction. It is
// ours rather than Gorgonia's so that its state can be checkpointed. Moments
// have their parameter's dtype, as in PyTorch; checkpoints store them as
// float64, which holds float32 values exactly.
type adam struct {
	cfg  AdamConfig
	t    int           // steps taken
	m, v []adamMoments // first and second adamMoments, one per parameter
}

// adamMoments holds one parameter's adamMoments in its dtype: f32 or f64 is set.
type adamMoments struct {
	f32 []float32
	f64 []float64
}

func newAdamMoments(dt tensor.Dtype, n int) adamMoments {
	if dt == tensor.Float32 {
		return adamMoments{f32: make([]float32, n)}
	}
	return adamMoments{f64: make([]float64, n)}
}

// values returns the adamMoments as float64.
func (m adamMoments) values() []float64 {
	if m.f32 == nil {
		return append([]float64(nil), m.f64...)
	}
	out := make([]float64, len(m.f32))
	for i, x := range m.f32 {
		out[i] = float64(x)
	}
	return out
}

// set overwrites the adamMoments with v.
func (m adamMoments) set(v []float64) {
	if m.f32 == nil {
		copy(m.f64, v)
		return
	}
	for i := range m.f32 {
		m.f32[i] = float32(v[i])
	}
}

func newAdam(cfg AdamConfig, params []*G.Node) *adam {
	a := &adam{cfg: cfg}
	for _, p := range params {
		n := p.Shape().TotalSize()
		a.m, a.v = append(a.m, newAdamMoments(p.Dtype(), n)), append(a.v, newAdamMoments(p.Dtype(), n))
	}
	return a
}

// step applies one update to every parameter from its gradient (the value
// of grads[i]) times scale, with learning rate lr.
func (a *adam) step(params, grads []*G.Node, lr, scale float64) error {
	a.t++
	b1, b2, eps := a.cfg.Beta1, a.cfg.Beta2, a.cfg.Epsilon
	c1, c2 := 1-math.Pow(b1, float64(a.t)), 1-math.Pow(b2, float64(a.t))
	c := ops.AdamConsts{B1: b1, B2: b2, Step: lr / c1, Inv2: 1 / c2, Eps: eps, Scale: scale}
	for i, p := range params {
		g := grads[i].Value()
		if g == nil {
			return fmt.Errorf("gradient of %s was not computed", p.Name())
		}
		switch w := p.Value().(*tensor.Dense).Data().(type) {
		case []float32:
			ops.Adam32(w, g.Data().([]float32), a.m[i].f32, a.v[i].f32, c)
		case []float64:
			ops.AdamUpdate(w, g.Data().([]float64), a.m[i].f64, a.v[i].f64, c)
		default:
			return fmt.Errorf("adam: parameter %s of type %T", p.Name(), w)
		}
	}
	return nil
}
