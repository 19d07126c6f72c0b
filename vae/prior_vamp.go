package vae

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/vae/internal/ops"
)

// vamp is the VampPrior (Tomczak & Welling 2018): p(z) = (1/K) Σ_k q(z|u_k),
// the mixture of the encoder's posteriors at K learned pseudo-inputs u_k
// (prior.pseudo_inputs, K × the image size, model parameters, checkpointed;
// K is model.prior_components, default 10). The KL is the one-sample
// Monte-Carlo estimate, as for mog. The pseudo-inputs go through the
// encoder (MLP or conv) in the training graph, with gradients to both;
// batch norm is refused, as its batch statistics would mix them with the
// images.
type vamp struct{ unbound }

func (vamp) settings() []Setting {
	return []Setting{componentsSetting("K, the learned pseudo-inputs (at most the number of training images)")}
}

func (vamp) checkModel(c ModelConfig) error {
	if c.Norm == "batch" {
		return fmt.Errorf("model.norm: the vamp prior encodes its pseudo-inputs in every training step, which batch norm's statistics would mix with the images'; use norm: group or none, or prior: mog")
	}
	return nil
}

// checkImages refuses more pseudo-inputs than training images.
func (vamp) checkImages(c ModelConfig, train int) error {
	if k := c.Int("prior_components"); k > train {
		return fmt.Errorf("model.prior_components: %d pseudo-inputs for %d training images; give at most %d", k, train, train)
	}
	return nil
}

// bind adds the pseudo-inputs, drawn uniformly in [0, 1] like images.
func (vamp) bind(m *Model, rng *rand.Rand) Prior {
	k := m.cfg.Int("prior_components")
	u := make([]float64, k*m.inDim)
	for i := range u {
		u[i] = rng.Float64()
	}
	p := &vampPrior{m: m, k: k, pseudo: len(m.params)}
	m.params = append(m.params, Param{Name: "prior.pseudo_inputs", Value: m.newDense(u, k, m.inDim)})
	return p
}

type vampPrior struct {
	m      *Model
	k      int
	pseudo int // index of the pseudo-inputs in m.params
}

func (p *vampPrior) kl(o *objective) (*G.Node, func() *G.Node) { return mixtureKL(o, p.parts) }
func (p *vampPrior) logRatio(o *objective) *G.Node             { return mixtureLogRatio(o, p.parts) }

// parts encode the pseudo-inputs: the components are q(z|u_k), weighted 1/K.
func (p *vampPrior) parts(o *objective) (means, logvars, logW *G.Node) {
	means, logvars = o.posterior(o.param(p.pseudo), false)
	w := make([]float64, p.k)
	for i := range w {
		w[i] = -math.Log(float64(p.k))
	}
	logW = G.NewVector(o.g, p.m.dtype, G.WithShape(p.k), G.WithValue(p.m.newDense(w, p.k)), G.WithName("vamp_logw")) // a constant in the graph
	return means, logvars, logW
}

// components encodes the pseudo-inputs with the current weights: each
// component's means and standard deviations.
func (p *vampPrior) components() (mu, sd []float64) {
	u := ops.Values64(p.m.params[p.pseudo].Value)
	pix := make([]float32, len(u))
	for i, v := range u {
		pix[i] = float32(v)
	}
	s := p.m.shape
	mu, logvar, err := p.m.Encode(context.Background(), data.Images{N: p.k, Height: s.Height, Width: s.Width, Channels: s.Channels, Pix: pix}, p.k)
	if err != nil { // the pseudo-inputs have the model's own shape
		panic(fmt.Sprintf("vae: encode the VampPrior's pseudo-inputs: %v", err))
	}
	for _, lv := range logvar {
		sd = append(sd, math.Exp(lv/2))
	}
	return mu, sd
}

func (p *vampPrior) Sample(rng *rand.Rand, n, latent int) []float64 {
	mu, sd := p.components()
	return drawMixture(rng, n, latent, mu, sd, func() int { return rng.IntN(p.k) })
}

// TraversalRange spans every component's mean ± 3 standard deviations.
func (p *vampPrior) TraversalRange() (lo, hi float64) { return mixtureRange(p.components()) }
