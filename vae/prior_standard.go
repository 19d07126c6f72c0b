package vae

import (
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
)

// standardNormal is p(z) = N(0, I), the VAE's usual prior, with a closed-form
// KL from the diagonal Gaussian posterior.
type standardNormal struct{}

// kl: KL(N(μ, σ²) ‖ N(0, 1)) = ½ Σ_j (μ_j² + σ_j² − log σ_j² − 1).
func (standardNormal) kl(o *objective) (*G.Node, func() *G.Node) {
	terms := G.Must(G.Sub(G.Must(G.Add(G.Must(G.Square(o.mu)), G.Must(G.Exp(o.logvar)))), G.Must(G.Add(o.logvar, o.scalar(1)))))
	perImage := G.Must(G.Mul(G.Must(G.Sum(terms, 1)), o.scalar(0.5)))
	return perImage, func() *G.Node { return G.Must(G.Mul(terms, o.scalar(0.5))) }
}

// logRatio: log N(z; 0, I) − log N(z; μ, σ²) = Σ ½(ε² + log σ² − z²), since
// z = μ + σ·ε; the 2π terms cancel.
func (standardNormal) logRatio(o *objective) *G.Node {
	terms := G.Must(G.Sub(G.Must(G.Add(G.Must(G.Square(o.eps)), o.logvar)), G.Must(G.Square(o.z))))
	return G.Must(G.Mul(G.Must(G.Sum(terms, 1)), o.scalar(0.5)))
}

func (standardNormal) Sample(rng *rand.Rand, n, latent int) []float64 { return normals(rng, n*latent) }

// TraversalRange: ±3 standard deviations hold 99.7 % of each dimension's mass.
func (standardNormal) TraversalRange() (lo, hi float64) { return -3, 3 }
