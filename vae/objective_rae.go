package vae

import (
	"fmt"

	G "gorgonia.org/gorgonia"
)

// Keys of the RAE's regularisers, recorded at every step.
const (
	KeyRAECodes = "train/rae_codes" // batch mean of ½‖μ(x)‖², the code penalty
	KeyRAEDecay = "train/rae_decay" // ‖θ_dec‖², the decoder's squared weights and biases
)

// rae is the regularised deterministic autoencoder of Ghosh et al. 2020
// ("From variational to deterministic autoencoders"), the RAE-L2 variant:
// −log p(x|μ(x)) + β·½‖μ(x)‖² + λ·‖θ_dec‖², batch means. The codes are
// deterministic, the encoder's means μ(x), decoded without noise; ½‖z‖²
// stands in for the VAE's KL toward N(0, I) and the decoder's weight decay
// for the smoothness the noise would have forced. It is meant to be
// sampled ex post (eval.samplers: gmm), as in the paper; the prior's
// samples only show how far the codes are from N(0, I).
//
// The decoder penalty is weight decay on the decoder's weights and biases
// (the paper's L2 variant), written into the loss so that Adam sees it as
// the paper's optimiser did; the gradient-penalty variant would need
// second derivatives through the decoder, which the graph does not give.
//
// The encoder's variance head and the noise ε take no part: the variational
// path is kept in the graph at weight zero, so that every parameter gets an
// exact zero gradient and is checkpointed alike. Evaluation reads the
// network as a VAE (test/loss is its −ELBO, with the untrained variances),
// which says little about an RAE: compare RAEs by their samples.
// The defaults, β = 1e-4 and λ = 1e-7, are those of the paper's setting as
// pythae's RAE_L2 gives them, for a squared-error reconstruction; with a
// likelihood in nats (σ = 0.1 weighs the squared error 50 times) the
// penalties weigh relatively less.
type rae struct{}

func (rae) settings() []Setting {
	return []Setting{
		FloatSetting("beta", 1e-4, "weight β of the code penalty ½‖z‖², z = μ(x) the deterministic code", between(0, 1e6)),
		FloatSetting("decoder_decay", 1e-7, "weight λ of the decoder's weight decay ‖θ_dec‖² (the RAE-L2 regulariser)", between(0, 1)),
	}
}

func (rae) Scalars() []string                      { return nil }
func (rae) at(ObjectiveConfig, int, int) []float64 { return nil }
func (rae) final(ObjectiveConfig) []float64        { return nil }
func (rae) LossText() string {
	return "−log p(x|μ) + β·½‖μ‖² + λ·‖θ_dec‖² (RAE: deterministic codes, decoder weight decay)"
}

func (rae) loss(o *objective, c ObjectiveConfig, _ []*G.Node, _ func() *G.Node) (*G.Node, error) {
	if o.batch != o.images {
		return nil, fmt.Errorf("objective.type: rae decodes one code per image")
	}
	// The variational path (z = μ + σ·ε), at weight zero.
	unused := G.Must(G.Mul(G.Must(G.Add(o.recon, o.klm)), o.scalar(0)))

	// The likelihood reads the objective's decoder output (a σ set from the
	// batch's error reads o.mean): point both at the decode of μ, so that
	// train/recon and the likelihood's own updates follow the RAE's
	// reconstruction.
	out, last := o.decodeWithHidden(o.mu)
	o.logits = out
	if o.mean != nil {
		o.mean = o.meanOf(out)
	}
	logpx, err := o.m.lik.logProb(o, out, last)
	if err != nil {
		return nil, err
	}
	o.logpx = logpx
	o.recon = G.Must(G.Neg(G.Must(G.Mean(logpx))))

	codes := G.Must(G.Mul(G.Must(G.Mean(G.Must(G.Sum(G.Must(G.Square(o.mu)), 1)))), o.scalar(0.5)))
	o.record(KeyRAECodes, codes)
	var decay *G.Node
	for _, i := range decoderParams(o.m) {
		sq := G.Must(G.Sum(G.Must(G.Square(o.param(i)))))
		if decay == nil {
			decay = sq
		} else {
			decay = G.Must(G.Add(decay, sq))
		}
	}
	o.record(KeyRAEDecay, decay)
	loss := G.Must(G.Add(o.recon, G.Must(G.Mul(codes, o.scalar(c.Float("beta"))))))
	loss = G.Must(G.Add(loss, G.Must(G.Mul(decay, o.scalar(c.Float("decoder_decay"))))))
	return G.Must(G.Add(loss, unused)), nil
}

func (rae) evalLoss(_ ObjectiveConfig, _ []float64, recon, kl float64) float64 { return recon + kl }

// decoderParams are the indices of the decoder's weights and biases: its
// fully connected layers, then the conv decoder's or the output layer.
func decoderParams(m *Model) []int {
	var idx []int
	for _, l := range m.dec {
		idx = append(idx, l.w, l.b)
	}
	if c := m.conv; c != nil {
		idx = append(idx, c.toMap.w, c.toMap.b)
		for _, l := range c.dec {
			idx = append(idx, l.w, l.b)
		}
		return append(idx, c.out.w, c.out.b)
	}
	return append(idx, m.out.w, m.out.b)
}
