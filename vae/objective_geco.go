package vae

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
)

// Keys GECO records at every step.
const (
	KeyGECOLambda = "train/geco_lambda" // the Lagrange multiplier λ used at the step
	KeyGECOMSE    = "train/geco_mse"    // the batch's mean squared error per pixel
	KeyGECOMA     = "train/geco_ma"     // the moving average of the relative constraint after the step
)

// geco is GECO (Rezende & Viola 2018, "Taming VAEs"): minimise the KL
// subject to a reconstruction constraint, by the Lagrangian
// KL + λ·D·(MSE − κ), batch means, where MSE is the mean squared error per
// pixel of the decoder means at the sampled z and κ its target. After every
// step the relative constraint c = MSE/κ − 1 enters a moving average
// m ← α·m + (1 − α)·c (m starts at the first batch's c) and λ ← λ·exp(ν·m),
// kept in [1e-6, 1e6]; λ starts at 1. The constraint is relative so that ν
// does not depend on the images' size or scale (the paper's C is absolute).
// The defaults α = 0.95, ν = 0.02 settle within about 500 steps on Frey and
// Olivetti; α = 0.99, ν = 0.01 lag so that the MSE overshoots below κ and λ
// is still falling after 1000 steps.
// λ and m are the objective's state: fed, recorded and checkpointed. The
// model's likelihood is used by evaluation only (test/loss is its −ELBO).
type geco struct{}

const (
	defaultGECOAlpha = 0.95
	defaultGECORate  = 0.02
	gecoLambdaMin    = 1e-6
	gecoLambdaMax    = 1e6
)

func (geco) settings() []Setting {
	return []Setting{
		required(FloatSetting("kappa", 0, "reconstruction target κ: a mean squared error per pixel (0.01 is an RMSE of 0.1)", func(k float64) error {
			if !(k > 0) || k >= 1 {
				return fmt.Errorf("%v must be a mean squared error per pixel between 0 and 1, both excluded (e.g. 0.01: an RMSE of 0.1)", k)
			}
			return nil
		})),
		FloatSetting("geco_alpha", defaultGECOAlpha, "decay α of the constraint's moving average", func(a float64) error {
			if !(a > 0 && a < 1) {
				return fmt.Errorf("%v must be in (0, 1) (default %v)", a, defaultGECOAlpha)
			}
			return nil
		}),
		FloatSetting("geco_rate", defaultGECORate, "step ν of log λ per unit of relative constraint", func(r float64) error {
			if !(r > 0 && r <= 1) {
				return fmt.Errorf("%v must be in (0, 1] (default %v)", r, defaultGECORate)
			}
			return nil
		}),
	}
}

func (geco) Scalars() []string                      { return []string{KeyGECOLambda} }
func (geco) LossText() string                       { return "KL + λ·D·(MSE − κ) (GECO Lagrangian)" }
func (geco) at(ObjectiveConfig, int, int) []float64 { return []float64{1} }
func (geco) final(ObjectiveConfig) []float64        { return []float64{1} }

// The state is λ, the moving average m, and whether m has started.
func (geco) initial(ObjectiveConfig) []float64                    { return []float64{1, 0, 0} }
func (geco) scalarsFrom(_ ObjectiveConfig, s []float64) []float64 { return s[:1] }

func (geco) update(c ObjectiveConfig, s []float64, est []Metric) []float64 {
	lambda, ma, started := s[0], s[1], s[2]
	rel := metricValue(est, KeyGECOMSE)/c.Float("kappa") - 1
	if started == 0 {
		ma = rel
	} else {
		alpha := c.Float("geco_alpha")
		ma = alpha*ma + (1-alpha)*rel
	}
	lambda = min(max(lambda*math.Exp(c.Float("geco_rate")*ma), gecoLambdaMin), gecoLambdaMax)
	return []float64{lambda, ma, 1}
}

func (geco) recordState(s []float64) []Metric { return []Metric{{KeyGECOMA, s[1]}} }

func (geco) loss(o *objective, c ObjectiveConfig, fed []*G.Node, _ func() *G.Node) (*G.Node, error) {
	mean := o.mean
	if mean == nil {
		mean = o.meanOf(o.logits)
	}
	D := float64(o.m.inDim)
	sq := G.Must(G.Square(G.Must(G.Sub(o.target, mean))))
	mse := G.Must(G.Mean(sq))
	o.record(KeyGECOMSE, mse)
	gap := G.Must(G.Mul(G.Must(G.Sub(mse, o.scalar(c.Float("kappa")))), o.scalar(D)))
	// The likelihood's own parameters (a learned σ) do not enter the
	// Lagrangian; a zero-weighted reconstruction term gives them an exact
	// zero gradient, so that every parameter is trained (not moved) and
	// checkpointed alike.
	unused := G.Must(G.Mul(o.recon, o.scalar(0)))
	return G.Must(G.Add(G.Must(G.Add(o.klm, G.Must(G.Mul(gap, fed[0])))), unused)), nil
}

func (geco) evalLoss(_ ObjectiveConfig, _ []float64, recon, kl float64) float64 { return recon + kl }

func metricValue(ms []Metric, key string) float64 {
	for _, m := range ms {
		if m.Key == key {
			return m.Value
		}
	}
	return math.NaN()
}
