package vae

import (
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
)

// gaussianPixel: a Gaussian with a σ per pixel and image, predicted by a
// decoder head beside the mean's: log σ = min + (max − min)·sigmoid(raw),
// softly kept in [LogSigmaMin, LogSigmaMax].
type gaussianPixel struct{ likelihoodBase }

func (gaussianPixel) addHeads(m *Model, prev int, rng *rand.Rand) { m.addPixelHead("sigma", prev, rng) }

func (gaussianPixel) logProb(o *objective, _, last *G.Node) (*G.Node, error) {
	D := float64(o.m.inDim)
	raw := o.pixelSigmaRaw(last)
	logSigma := G.Must(G.Add(G.Must(G.Mul(G.Must(G.Sigmoid(raw)), o.scalar(LogSigmaMax-LogSigmaMin))), o.scalar(LogSigmaMin)))
	invVar := G.Must(G.Exp(G.Must(G.Mul(logSigma, o.scalar(-2)))))
	terms := G.Must(G.Add(G.Must(G.Mul(G.Must(G.HadamardProd(G.Must(G.Square(G.Must(G.Sub(o.target, o.mean)))), invVar)), o.scalar(0.5))), logSigma))
	return G.Must(G.Neg(G.Must(G.Add(G.Must(G.Sum(terms, 1)), o.scalar(D*halfLog2Pi()))))), nil
}
