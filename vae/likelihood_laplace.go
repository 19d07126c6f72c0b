package vae

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
)

// laplace: each pixel is Laplace-distributed around the decoder's mean with
// a fixed scale b = model.sigma: log p = −Σ |x − m|/b − D·log 2b. Its
// reconstruction term is the L1 distance, often used for sharper faces than
// the Gaussian's L2.
type laplace struct{ likelihoodBase }

func (laplace) settings() []Setting {
	return []Setting{required(FloatSetting("sigma", 0, "the fixed scale b of every pixel", func(b float64) error {
		if !(b > 0) {
			return fmt.Errorf("%v must be positive: it is the laplace likelihood's scale b", b)
		}
		return nil
	}))}
}

func (laplace) logProb(o *objective, _, _ *G.Node) (*G.Node, error) {
	b, D := o.m.cfg.Float("sigma"), float64(o.m.inDim)
	l1 := G.Must(G.Sum(G.Must(G.Abs(G.Must(G.Sub(o.target, o.mean)))), 1))
	return G.Must(G.Sub(G.Must(G.Mul(l1, o.scalar(-1/b))), o.scalar(D*math.Log(2*b)))), nil
}
