package vae

import (
	"math"

	G "gorgonia.org/gorgonia"

	"github.com/vaelab/vaelab/vae/internal/ops"
)

// gaussianOptimal: the optimal σ-VAE (Rybkin et al. 2021). Like
// gaussianLearned, but after every step its σ is set to the batch's
// root-mean-square error per pixel, the σ that maximises the batch's
// likelihood (soft limits aside); Adam's update of it is overwritten.
type gaussianOptimal struct{ gaussianLearned }

func (gaussianOptimal) logProb(o *objective, _, _ *G.Node) (*G.Node, error) {
	logSigma := o.param(o.m.logSigma)
	sq := o.squaredError()
	o.sqErr = new(G.Value) // afterStep reads each image's squared error from it
	G.Read(sq, o.sqErr)
	return o.sharedSigmaLogProb(logSigma, sq), nil
}

func (gaussianOptimal) afterStep(t *trainer) {
	sq := ops.Values64(*t.o.sqErr)
	mse := 0.0
	for _, v := range sq {
		mse += v
	}
	mse /= float64(len(sq) * t.m.inDim)
	logSigma := math.Min(math.Max(0.5*math.Log(mse), LogSigmaMin), LogSigmaMax)
	ops.SetValues(t.m.params[t.m.logSigma].Value, []float64{logSigma})
}
