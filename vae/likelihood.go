package vae

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	G "gorgonia.org/gorgonia"
)

// A Likelihood is the decoder's data model p(x|z). Each lives in a file of
// its own (likelihood_*.go) and is named for model.likelihood by one line of
// likelihoods; adding one touches nothing else. One with settings of its
// own (model.sigma) declares them with a settings() []Setting method.
//
// The decoder's output layer gives one value per pixel (the "logits"); the
// image mean is their sigmoid. A likelihood may add parameters: a head beside
// the output layer (addHeads, called right after it) or parameters of its
// own after every layer (addParams). Parameter order is part of checkpoints,
// so these hooks run at fixed places.
type Likelihood interface {
	// addHeads adds decoder heads right after the output layer; prev is the
	// width of the last fully connected layer before it.
	addHeads(m *Model, prev int, rng *rand.Rand)
	// addParams adds parameters of its own after every layer.
	addParams(m *Model)
	// logProb is log p(x|z) per image (batch), in the objective's graph; out
	// is the decoder output and last its last hidden layer.
	logProb(o *objective, out, last *G.Node) (*G.Node, error)
	// onLogits tells that its loss reads only the decoder output, so a
	// training graph need not compute the means.
	onLogits() bool
	// afterStep runs after each training step (the optimal σ's update).
	afterStep(t *trainer)
	// Continuous tells whether it is a density on continuous values, for
	// which bits per dimension of the dequantised data are reported.
	Continuous() bool
}

// likelihoods names every likelihood for model.likelihood.
func likelihoods() map[string]Likelihood {
	return map[string]Likelihood{
		"bernoulli":        bernoulli{},
		"gaussian":         gaussian{},
		"gaussian_learned": gaussianLearned{},
		"gaussian_optimal": gaussianOptimal{},
		"gaussian_pixel":   gaussianPixel{},
		"laplace":          laplace{},
	}
}

// LikelihoodNamed returns the likelihood called name.
func LikelihoodNamed(name string) (Likelihood, error) {
	return lookup(likelihoods(), "model.likelihood", name)
}

// lookup finds name in a plug-in table; the error names the spec key and
// lists the table's names.
func lookup[T any](table map[string]T, key, name string) (T, error) {
	if v, ok := table[name]; ok {
		return v, nil
	}
	names := make([]string, 0, len(table))
	for n := range table {
		names = append(names, n)
	}
	slices.Sort(names)
	var zero T
	return zero, fmt.Errorf("%s: %q is not supported (supported: %s)", key, name, strings.Join(names, ", "))
}

// likelihoodBase gives the hooks most likelihoods leave empty.
type likelihoodBase struct{}

func (likelihoodBase) addHeads(*Model, int, *rand.Rand) {}
func (likelihoodBase) addParams(*Model)                 {}
func (likelihoodBase) onLogits() bool                   { return false }
func (likelihoodBase) afterStep(*trainer)               {}
func (likelihoodBase) Continuous() bool                 { return true }

// squaredError is Σ_pixels (x − mean)² per image.
func (o *objective) squaredError() *G.Node {
	return G.Must(G.Sum(G.Must(G.Square(G.Must(G.Sub(o.target, o.mean)))), 1))
}

// halfLog2Pi is ½ log 2π, the Gaussian's normalising constant per pixel.
func halfLog2Pi() float64 { return 0.5 * math.Log(2*math.Pi) }
