package vae

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Keys of β-TCVAE's estimates, recorded at every step (nats per image).
const (
	KeyMI    = "train/mi"     // index-code mutual information
	KeyTC    = "train/tc"     // total correlation of the aggregate posterior
	KeyDimKL = "train/dim_kl" // dimension-wise KL to the prior
)

// betaTC is β-TCVAE (Chen et al. 2018, "Isolating sources of
// disentanglement"): −log p(x|z) + α·MI + β·TC + γ·dimKL, batch means, where
// the KL's Monte-Carlo estimate log q(z|x) − log p(z) is split through the
// aggregate posterior q(z) = (1/N) Σ_n q(z|x_n) into
//
//	MI    = log q(z|x) − log q(z)
//	TC    = log q(z) − Σ_j log q(z_j)
//	dimKL = Σ_j log q(z_j) − log p(z)
//
// log q(z_i) and log q(z_ij) are estimated from the batch's B posteriors,
// with the dataset's size N: mss (the default) is minibatch stratified
// sampling, mws minibatch-weighted sampling, both as in the paper's code.
// MWS drops the other N − B images' mass and is biased low for wide
// posteriors; MSS is the leave-one-in estimate that tends to the truth. α
// and γ default to 1 (the paper's setting, where the loss is the β-weighted
// TC added to the ELBO); the prior must be N(0, I), which factorises.
type betaTC struct{}

// settings are listed β, γ, α: the order of the run's identity.
func (betaTC) settings() []Setting {
	return []Setting{
		FloatSetting("beta", 1, "weight β of the total correlation", between(0, 1e6)),
		FloatSetting("gamma", 1, "weight γ of the dimension-wise KL", between(0, 1e6)),
		FloatSetting("alpha", 1, "weight α of the index-code mutual information", between(0, 1e6)),
		StringSetting("estimator", "mss", "estimator of log q(z): mss (minibatch stratified sampling) or mws (minibatch-weighted)", func(e string) error {
			if e != "mss" && e != "mws" {
				return fmt.Errorf("%q is not an estimator of log q(z) (supported: mss, mws)", e)
			}
			return nil
		}),
	}
}

func (betaTC) Scalars() []string                      { return nil }
func (betaTC) LossText() string                       { return "−log p(x|z) + α·MI + β·TC + γ·dimKL (β-TCVAE)" }
func (betaTC) at(ObjectiveConfig, int, int) []float64 { return nil }
func (betaTC) final(ObjectiveConfig) []float64        { return nil }

func (betaTC) loss(o *objective, c ObjectiveConfig, _ []*G.Node, _ func() *G.Node) (*G.Node, error) {
	if p := o.m.cfg.Prior; p != "" && p != "standard" {
		return nil, fmt.Errorf("objective.type: beta_tc splits the KL over latent dimensions and needs the standard prior, not %q", p)
	}
	if o.batch < 2 || o.dataset < o.batch {
		return nil, fmt.Errorf("objective.type: beta_tc needs batches of at least 2 images from a training set at least as large (batch %d, %d images)", o.batch, o.dataset)
	}
	mi, tc, dimKL := o.tcTerms(o.z, o.mu, o.logvar, o.eps, c.String("estimator"))
	o.record(KeyMI, mi)
	o.record(KeyTC, tc)
	o.record(KeyDimKL, dimKL)
	// α and γ left out are 1 and multiply nothing, keeping the graph of
	// the paper's setting.
	weighted := func(n *G.Node, key string) *G.Node {
		if key != "beta" && !c.Has(key) {
			return n
		}
		return G.Must(G.Mul(n, o.scalar(c.Float(key))))
	}
	kl := G.Must(G.Add(G.Must(G.Add(weighted(mi, "alpha"), weighted(tc, "beta"))), weighted(dimKL, "gamma")))
	return G.Must(G.Add(o.recon, kl)), nil
}

func (betaTC) evalLoss(_ ObjectiveConfig, _ []float64, recon, kl float64) float64 { return recon + kl }

// tcTerms builds the batch means of MI, TC and dimKL from the codes z =
// μ + σ·ε (B×L) of the posteriors (μ, log σ²).
func (o *objective) tcTerms(z, mu, logvar, eps *G.Node, estimator string) (mi, tc, dimKL *G.Node) {
	B, L := z.Shape()[0], z.Shape()[1]
	weights := logImportanceWeights(B, o.dataset, estimator)
	logW := o.constant("tc_logw_"+estimator, weights, B, B)
	log2pi := o.scalar(math.Log(2 * math.Pi))
	invVar := G.Must(G.Exp(G.Must(G.Neg(logvar))))

	// Joint: log q(z_i|x_j) = −½ Σ_d [(z_id − μ_jd)² / σ²_jd + log σ²_jd + log 2π],
	// expanded into products of B×L matrices.
	t := func(a *G.Node) *G.Node { return G.Must(G.Transpose(a)) }
	zz := G.Must(G.Mul(G.Must(G.Square(z)), t(invVar)))
	zm := G.Must(G.Mul(z, t(G.Must(G.HadamardProd(mu, invVar)))))
	rowTerms := G.Must(G.Sum(G.Must(G.Add(G.Must(G.HadamardProd(G.Must(G.Square(mu)), invVar)), logvar)), 1)) // per j
	ones := o.constant("ones", onesOf(B), B, 1)
	cross := G.Must(G.Mul(ones, G.Must(G.Reshape(rowTerms, tensor.Shape{1, B}))))
	quad := G.Must(G.Add(G.Must(G.Sub(zz, G.Must(G.Mul(zm, o.scalar(2))))), cross))
	joint := G.Must(G.Mul(G.Must(G.Add(quad, o.scalar(float64(L)*math.Log(2*math.Pi)))), o.scalar(-0.5)))
	logqz := logSumExpRows(G.Must(G.Add(joint, logW))) // B

	// Marginals: rows d·B + i of the (L·B)×B matrix hold log q(z_id|x_j).
	rep := o.constant("tc_repeat", repeatRows(L, B), L*B, L) // row d·B + i picks row d
	col := G.Must(G.Reshape(G.Must(G.Transpose(z)), tensor.Shape{L * B, 1}))
	perRow := func(a *G.Node) *G.Node { return G.Must(G.Mul(rep, t(a))) } // (L·B)×B: a_jd in row d·B+i
	diff := G.Must(G.Sub(G.Must(G.Mul(col, o.constant("ones", onesOf(B), 1, B))), perRow(mu)))
	dimTerms := G.Must(G.Add(G.Must(G.Add(G.Must(G.HadamardProd(G.Must(G.Square(diff)), perRow(invVar))), perRow(logvar))), log2pi))
	logWRows := o.constant("tc_logw_rows_"+estimator, tileRows(weights, L), L*B, B)
	marg := logSumExpRows(G.Must(G.Add(G.Must(G.Mul(dimTerms, o.scalar(-0.5))), logWRows))) // L·B
	logqProd := G.Must(G.Sum(G.Must(G.Reshape(marg, tensor.Shape{L, B})), 0))               // B

	// log q(z_i|x_i) from ε, and the standard normal's log p(z_i).
	logqzx := G.Must(G.Mul(G.Must(G.Sum(G.Must(G.Add(G.Must(G.Add(G.Must(G.Square(eps)), logvar)), log2pi)), 1)), o.scalar(-0.5)))
	logpz := G.Must(G.Mul(G.Must(G.Sum(G.Must(G.Add(G.Must(G.Square(z)), log2pi)), 1)), o.scalar(-0.5)))
	mean := func(a, b *G.Node) *G.Node { return G.Must(G.Mean(G.Must(G.Sub(a, b)))) }
	return mean(logqzx, logqz), mean(logqz, logqProd), mean(logqProd, logpz)
}

// logImportanceWeights is the B×B matrix of log weights w_ij of q(z_i|x_j)
// in the estimate log q(z_i) ≈ log Σ_j w_ij q(z_i|x_j), for batches of B of
// N images. mws: 1/(N·B) everywhere. mss: z_i's own image is one of N, 1/N;
// the other N − 1 images' mass is estimated from the batch's B − 1 others,
// (N − 1)/(N·(B − 1)) each; every row sums to 1.
func logImportanceWeights(B, N int, estimator string) []float64 {
	n, b := float64(N), float64(B)
	self, other := -math.Log(n), math.Log((n-1)/(n*(b-1)))
	if estimator == "mws" {
		self, other = -math.Log(n*b), -math.Log(n*b)
	}
	w := make([]float64, B*B)
	for i := range B {
		for j := range B {
			w[i*B+j] = other
			if i == j {
				w[i*B+j] = self
			}
		}
	}
	return w
}

// repeatRows is the (L·B)×L matrix whose row d·B + i picks row d.
func repeatRows(L, B int) []float64 {
	r := make([]float64, L*B*L)
	for d := range L {
		for i := range B {
			r[(d*B+i)*L+d] = 1
		}
	}
	return r
}

// tileRows stacks a matrix times.
func tileRows(m []float64, times int) []float64 {
	out := make([]float64, 0, len(m)*times)
	for range times {
		out = append(out, m...)
	}
	return out
}

// constant is a constant matrix of the graph's dtype; name must be unique
// to its values within the graph.
func (o *objective) constant(name string, v []float64, shape ...int) *G.Node {
	return G.NewConstant(o.m.newDense(v, shape...), G.WithName(fmt.Sprintf("%s_%v", name, shape)))
}
