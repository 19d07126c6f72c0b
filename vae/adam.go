package vae

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// adam is the Adam optimiser (Kingma & Ba 2015) with bias correction. It is
// ours rather than Gorgonia's so that its state can be checkpointed. Moments
// are kept in float64.
type adam struct {
	cfg  AdamConfig
	t    int         // steps taken
	m, v [][]float64 // first and second moments, one slice per parameter
}

func newAdam(cfg AdamConfig, params []*G.Node) *adam {
	a := &adam{cfg: cfg}
	for _, p := range params {
		n := p.Shape().TotalSize()
		a.m, a.v = append(a.m, make([]float64, n)), append(a.v, make([]float64, n))
	}
	return a
}

// step applies one update to every parameter from its gradient times scale,
// with learning rate lr.
func (a *adam) step(params []*G.Node, lr, scale float64) error {
	a.t++
	b1, b2, eps := a.cfg.Beta1, a.cfg.Beta2, a.cfg.Epsilon
	c1, c2 := 1-math.Pow(b1, float64(a.t)), 1-math.Pow(b2, float64(a.t))
	for i, p := range params {
		g, err := p.Grad()
		if err != nil {
			return fmt.Errorf("gradient of %s: %w", p.Name(), err)
		}
		// One pass per parameter: moments, update and clearing the gradient
		// (the tape machine adds into gradient buffers).
		m, v := a.m[i], a.v[i]
		step, inv2 := lr/c1, 1/c2
		switch w := p.Value().(*tensor.Dense).Data().(type) {
		case []float32:
			gd := g.Data().([]float32)
			for j, gv := range gd[:len(w)] {
				grad := scale * float64(gv)
				mj := b1*m[j] + (1-b1)*grad
				vj := b2*v[j] + (1-b2)*grad*grad
				m[j], v[j], gd[j] = mj, vj, 0
				w[j] -= float32(step * mj / (math.Sqrt(vj*inv2) + eps))
			}
		case []float64:
			gd := g.Data().([]float64)
			for j, gv := range gd[:len(w)] {
				grad := scale * gv
				mj := b1*m[j] + (1-b1)*grad
				vj := b2*v[j] + (1-b2)*grad*grad
				m[j], v[j], gd[j] = mj, vj, 0
				w[j] -= step * mj / (math.Sqrt(vj*inv2) + eps)
			}
		default:
			return fmt.Errorf("adam: parameter %s of type %T", p.Name(), w)
		}
	}
	return nil
}
