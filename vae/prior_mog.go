package vae

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	G "gorgonia.org/gorgonia"

	"github.com/vaelab/vaelab/vae/internal/ops"
)

// mog is a learned mixture of K diagonal Gaussians, p(z) = Σ_k w_k
// N(z; m_k, diag s_k²), with w = softmax(logits): means, log-variances and
// logits are model parameters (prior.means K×L, prior.logvars K×L,
// prior.logits K), trained with the model and checkpointed with it. The KL
// has no closed form: it is the one-sample Monte-Carlo estimate
// log q(z|x) − log p(z) at the step's z, and it does not split over
// dimensions (no free bits).
type mog struct{ unbound }

func (mog) settings() []Setting {
	return []Setting{componentsSetting("K, the mixture's components")}
}

// bind adds the mixture's parameters: means drawn from N(0, I) so that the
// components start apart, unit variances, equal weights.
func (mog) bind(m *Model, rng *rand.Rand) Prior {
	k, L := m.cfg.Int("prior_components"), m.cfg.Latent
	p := &mogPrior{k: k, means: len(m.params)}
	m.params = append(m.params,
		Param{Name: "prior.means", Value: m.newDense(normals(rng, k*L), k, L)},
		Param{Name: "prior.logvars", Value: m.newDense(make([]float64, k*L), k, L)},
		Param{Name: "prior.logits", Value: m.newDense(make([]float64, k), k)})
	p.m = m
	return p
}

// mogPrior is the mixture bound to its parameters in m.params, from index
// means: means, log-variances, logits.
type mogPrior struct {
	m     *Model
	k     int
	means int
}

func (p *mogPrior) kl(o *objective) (*G.Node, func() *G.Node) { return mixtureKL(o, p.parts) }
func (p *mogPrior) logRatio(o *objective) *G.Node             { return mixtureLogRatio(o, p.parts) }

// parts are the mixture's means and log-variances (K×L) and log weights (K,
// the log softmax of the logits, shifted by their maximum).
func (p *mogPrior) parts(o *objective) (means, logvars, logW *G.Node) {
	logits := o.param(p.means + 2)
	hi := G.Must(G.Max(logits))
	shifted := G.Must(G.Sub(logits, hi))
	logW = G.Must(G.Sub(shifted, G.Must(G.Log(G.Must(G.Sum(G.Must(G.Exp(shifted))))))))
	return o.param(p.means), o.param(p.means + 1), logW
}

// mixtureParts builds a diagonal Gaussian mixture's means and log-variances
// (K×L) and log weights (K) in the objective's graph.
type mixtureParts func(o *objective) (means, logvars, logW *G.Node)

// mixtureKL is the one-sample Monte-Carlo KL of a mixture prior, log q(z|x) −
// log p(z) at the step's z; it does not split over dimensions.
func mixtureKL(o *objective, parts mixtureParts) (*G.Node, func() *G.Node) {
	return G.Must(G.Neg(mixtureLogRatio(o, parts))), nil
}

// mixtureLogRatio: log p(z) − log q(z|x), with log q(z|x) = −½ Σ_j (ε_j² +
// logvar_j + log 2π) since z = μ + σ·ε.
func mixtureLogRatio(o *objective, parts mixtureParts) *G.Node {
	L := float64(o.m.cfg.Latent)
	q := G.Must(G.Add(G.Must(G.Sum(G.Must(G.Add(G.Must(G.Square(o.eps)), o.logvar)), 1)), o.scalar(L*math.Log(2*math.Pi))))
	logq := G.Must(G.Mul(q, o.scalar(-0.5)))
	return G.Must(G.Sub(mixtureLogProb(o, o.z, parts), logq))
}

// mixtureLogProb builds log p(z) per row of z (B×L): the components' log
// densities as B×K products, then a log-sum-exp over K. (No Reshape:
// Gorgonia's reshapes a shared value in place.)
func mixtureLogProb(o *objective, z *G.Node, parts mixtureParts) *G.Node {
	L := o.m.cfg.Latent
	means, logvars, logW := parts(o)
	invVar := G.Must(G.Exp(G.Must(G.Neg(logvars)))) // K×L
	t := func(x *G.Node) *G.Node { return G.Must(G.Transpose(x)) }
	quad := G.Must(G.Mul(G.Must(G.Square(z)), t(invVar)))               // B×K: Σ_j z_j²/s²
	cross := G.Must(G.Mul(z, t(G.Must(G.HadamardProd(means, invVar))))) // B×K: Σ_j z_j m_j/s²
	perK := G.Must(G.Add(G.Must(G.Sum(G.Must(G.HadamardProd(G.Must(G.Square(means)), invVar)), 1)),
		G.Must(G.Sum(logvars, 1)))) // K: Σ_j m_j²/s² + log s²
	rows := func(m, v *G.Node) *G.Node { return G.Must(G.BroadcastAdd(m, v, nil, []byte{0})) } // v in every row of m
	maha := rows(G.Must(G.Sub(quad, G.Must(G.Mul(cross, o.scalar(2))))), perK)
	logN := G.Must(G.Mul(G.Must(G.Add(maha, o.scalar(float64(L)*math.Log(2*math.Pi)))), o.scalar(-0.5)))
	return logSumExpRows(rows(logN, logW))
}

// logSumExpRows is log Σ_k exp(x_bk) per row of x (B×K), shifted by the
// row's maximum for stability (the shift's gradient cancels exactly).
func logSumExpRows(x *G.Node) *G.Node {
	hi := G.Must(G.Max(x, 1))
	shifted := G.Must(G.BroadcastSub(x, hi, nil, []byte{1})) // hi (B) repeated along K
	return G.Must(G.Add(G.Must(G.Log(G.Must(G.Sum(G.Must(G.Exp(shifted)), 1)))), hi))
}

// values are the mixture's current parameters: means and variances (K×L
// each) and weights.
func (p *mogPrior) values() (means, vars, weights []float64) {
	means = ops.Values64(p.m.params[p.means].Value)
	for _, lv := range ops.Values64(p.m.params[p.means+1].Value) {
		vars = append(vars, math.Exp(lv))
	}
	logits := ops.Values64(p.m.params[p.means+2].Value)
	lse := floats.LogSumExp(logits)
	for _, l := range logits {
		weights = append(weights, math.Exp(l-lse))
	}
	return means, vars, weights
}

func (p *mogPrior) Sample(rng *rand.Rand, n, latent int) []float64 {
	means, vars, weights := p.values()
	return drawMixture(rng, n, latent, means, stddevs(vars), func() int { return pickWeighted(rng, weights) })
}

// TraversalRange spans every component's mean ± 3 standard deviations in
// every dimension.
func (p *mogPrior) TraversalRange() (lo, hi float64) {
	means, vars, _ := p.values()
	return mixtureRange(means, stddevs(vars))
}

func stddevs(vars []float64) []float64 {
	out := make([]float64, len(vars))
	for i, v := range vars {
		out[i] = math.Sqrt(v)
	}
	return out
}

// pickWeighted draws an index with probability weights[i] (summing to 1).
func pickWeighted(rng *rand.Rand, weights []float64) int {
	u := rng.Float64()
	for i, w := range weights {
		if u -= w; u < 0 {
			return i
		}
	}
	return len(weights) - 1
}

// drawMixture draws n codes of a diagonal Gaussian mixture (K×L means and
// standard deviations): a component from pick, then mean + sd·N(0, 1) in
// each dimension.
func drawMixture(rng *rand.Rand, n, latent int, means, sd []float64, pick func() int) []float64 {
	out := make([]float64, 0, n*latent)
	for range n {
		c := pick()
		for j := range latent {
			out = append(out, means[c*latent+j]+sd[c*latent+j]*rng.NormFloat64())
		}
	}
	return out
}

// mixtureRange spans every component's mean ± 3 standard deviations.
func mixtureRange(means, sd []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for i, m := range means {
		lo, hi = math.Min(lo, m-3*sd[i]), math.Max(hi, m+3*sd[i])
	}
	return lo, hi
}
