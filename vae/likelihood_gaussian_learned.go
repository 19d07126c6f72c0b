package vae

import (
	"math"

	G "gorgonia.org/gorgonia"
)

// gaussianLearned: a Gaussian with one σ for every pixel, a parameter
// (log σ, 1×1) learned by gradient from model.sigma (default 1). Adam moves it
// by about the learning rate per step, so short runs barely move it; see
// gaussianOptimal.
type gaussianLearned struct{ likelihoodBase }

func (gaussianLearned) settings() []Setting {
	return []Setting{FloatSetting("sigma", 1, "the σ of every pixel at the start; learned (gaussian_optimal: set to the batch RMSE) from there", positive)}
}

func (gaussianLearned) addParams(m *Model) {
	start := m.cfg.Float("sigma")
	m.logSigma = len(m.params)
	m.params = append(m.params, Param{Name: "logsigma", Value: m.newDense([]float64{math.Log(start)}, 1, 1)})
}

func (gaussianLearned) logProb(o *objective, _, _ *G.Node) (*G.Node, error) {
	logSigma := o.param(o.m.logSigma)
	return o.sharedSigmaLogProb(logSigma, o.squaredError()), nil
}

// sharedSigmaLogProb is the Gaussian log-likelihood per image with the
// model's one log σ, given each image's squared error sq.
func (o *objective) sharedSigmaLogProb(logSigma, sq *G.Node) *G.Node {
	D := float64(o.m.inDim)
	col := G.Must(G.Reshape(sq, []int{o.batch, 1}))
	// (B×1)·(1×1) matrix products broadcast the scalar over the batch.
	invVar := G.Must(G.Exp(G.Must(G.Mul(logSigma, o.scalar(-2)))))
	scaled := G.Must(G.Mul(col, invVar))
	ones := G.NewConstant(o.m.newDense(onesOf(o.batch), o.batch, 1), G.WithName("ones"))
	norm := G.Must(G.Add(G.Must(G.Mul(G.Must(G.Mul(ones, logSigma)), o.scalar(D))), o.scalar(D*halfLog2Pi())))
	perImage := G.Must(G.Add(G.Must(G.Mul(scaled, o.scalar(0.5))), norm))
	return G.Must(G.Neg(G.Must(G.Reshape(perImage, []int{o.batch}))))
}
