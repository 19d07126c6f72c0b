package vae

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
)

// gaussian: each pixel is Gaussian around the decoder's mean with a fixed
// standard deviation model.sigma; log p = −Σ (x−m)²/(2σ²) − D·(log σ + ½ log 2π).
type gaussian struct{ likelihoodBase }

func (gaussian) settings() []Setting {
	return []Setting{required(FloatSetting("sigma", 0, "the fixed standard deviation σ of every pixel", func(s float64) error {
		if !(s > 0) {
			return fmt.Errorf("%v must be positive for a gaussian likelihood", s)
		}
		return nil
	}))}
}

func (gaussian) logProb(o *objective, _, _ *G.Node) (*G.Node, error) {
	s, D := o.m.cfg.Float("sigma"), float64(o.m.inDim)
	norm := D * (math.Log(s) + halfLog2Pi())
	return G.Must(G.Sub(G.Must(G.Mul(o.squaredError(), o.scalar(-1/(2*s*s)))), o.scalar(norm))), nil
}
