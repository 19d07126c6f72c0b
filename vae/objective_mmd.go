package vae

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// mmd is the InfoVAE / WAE-MMD family (Zhao et al. 2019; Tolstikhin et al.
// 2018): −log p(x|z) + β·KL + λ·MMD²(q(z), p(z)), batch means; β = 0 gives
// WAE-MMD, β = 1 the InfoVAE with α = 0. MMD² is the unbiased U-statistic
// with the inverse multiquadric kernel k(a, b) = C/(C + ‖a − b‖²), C = 2·L
// (Tolstikhin et al.'s choice for a unit-variance prior in L dimensions),
// between the batch's codes z_i and the standard normal draws ε_j of the
// same step. Pairs i = j are left out of every sum, so that each term pairs
// independent draws (z_i depends on ε_i only): the prior must be N(0, I).
// The evaluation's loss leaves the MMD out (it is a batch statistic): the
// test loss is −log p(x|z) + β·KL.
type mmd struct{}

func (mmd) settings() []Setting {
	return []Setting{
		FloatSetting("beta", 1, "weight of the KL term (0: WAE-MMD; 1: InfoVAE with α = 0)", between(0, 1e6)),
		required(FloatSetting("lambda", 0, "weight λ of the MMD² between the codes and the prior", func(l float64) error {
			if !(l > 0) || l > 1e6 {
				return fmt.Errorf("%v must be between 0 (excluded) and 1e6 for the mmd objective", l)
			}
			return nil
		})),
	}
}

func (mmd) Scalars() []string { return nil }
func (mmd) LossText() string {
	return "−log p(x|z) + β·KL + λ·MMD²(q(z), p(z)) (InfoVAE / WAE-MMD)"
}
func (mmd) at(ObjectiveConfig, int, int) []float64 { return nil }
func (mmd) final(ObjectiveConfig) []float64        { return nil }

func (mmd) loss(o *objective, c ObjectiveConfig, _ []*G.Node, _ func() *G.Node) (*G.Node, error) {
	if p := o.m.cfg.Prior; p != "" && p != "standard" {
		return nil, fmt.Errorf("objective.type: mmd compares the codes with N(0, I) draws and needs the standard prior, not %q", p)
	}
	if o.batch < 2 {
		return nil, fmt.Errorf("objective.type: mmd needs batches of at least 2 images")
	}
	L := float64(o.m.cfg.Latent)
	k := func(a, b *G.Node) *G.Node { return o.offDiagonalMean(o.imqKernel(a, b, 2*L)) }
	mmd2 := G.Must(G.Sub(G.Must(G.Add(k(o.z, o.z), k(o.eps, o.eps))), G.Must(G.Mul(k(o.z, o.eps), o.scalar(2)))))
	elbo := G.Must(G.Add(o.recon, G.Must(G.Mul(o.klm, o.scalar(c.Float("beta"))))))
	return G.Must(G.Add(elbo, G.Must(G.Mul(mmd2, o.scalar(c.Float("lambda")))))), nil
}

func (mmd) evalLoss(c ObjectiveConfig, _ []float64, recon, kl float64) float64 {
	return recon + c.Float("beta")*kl
}

// imqKernel is the n×n matrix C/(C + ‖a_i − b_j‖²) of two n×L batches, the
// squared distances as ‖a_i‖² + ‖b_j‖² − 2 a_i·b_j.
func (o *objective) imqKernel(a, b *G.Node, c float64) *G.Node {
	n := a.Shape()[0]
	ones := G.NewConstant(o.m.newDense(onesOf(n), 1, n), G.WithName(fmt.Sprintf("ones_%d", n)))
	col := func(x *G.Node) *G.Node {
		return G.Must(G.Reshape(G.Must(G.Sum(G.Must(G.Square(x)), 1)), tensor.Shape{n, 1}))
	}
	na := G.Must(G.Mul(col(a), ones))                      // ‖a_i‖² in every column
	nb := G.Must(G.Transpose(G.Must(G.Mul(col(b), ones)))) // ‖b_j‖² in every row
	ab := G.Must(G.Mul(a, G.Must(G.Transpose(b))))
	d := G.Must(G.Sub(G.Must(G.Add(na, nb)), G.Must(G.Mul(ab, o.scalar(2)))))
	return G.Must(G.Mul(G.Must(G.Inverse(G.Must(G.Add(d, o.scalar(c))))), o.scalar(c)))
}

// offDiagonalMean is the mean of an n×n matrix's entries off its diagonal.
func (o *objective) offDiagonalMean(m *G.Node) *G.Node {
	n := m.Shape()[0]
	mask := make([]float64, n*n)
	for i := range mask {
		if i/n != i%n {
			mask[i] = 1
		}
	}
	off := G.NewConstant(o.m.newDense(mask, n, n), G.WithName(fmt.Sprintf("offdiag_%d", n)))
	return G.Must(G.Mul(G.Must(G.Sum(G.Must(G.HadamardProd(m, off)))), o.scalar(1/float64(n*(n-1)))))
}
