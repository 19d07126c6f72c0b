package evaluate

import (
	"slices"
	"strings"

	"github.com/vaelab/vaelab/metrics"
)

// Direction says which way a metric improves.
type Direction int

const (
	Neutral        Direction = iota // no better direction (KL, active units)
	HigherIsBetter                  // likelihoods, MIG
	LowerIsBetter                   // distances
	NearerOne                       // ratios to the data, best at 1
)

// Arrow is the symbol papers print beside a metric's name.
func (d Direction) Arrow() string {
	return [...]string{"", "↑", "↓", "→1"}[d]
}

// Metric is an entry of the catalogue: how tables, plots and show present a
// stored summary. The protocol that produced a value is stored beside it.
type Metric struct {
	Key     string
	Title   string // as a table's column or a plot names it
	Dir     Direction
	Digits  int    // decimals shown
	Meaning string // one line
	// Needs is the eval.features entry the metric is computed with, "" for
	// one every evaluation stores.
	Needs string
}

// Catalogue lists the metrics vaelab presents, in the order of the per-run
// table. Keys that name a feature space carry the extractor's id.
func Catalogue() []Metric {
	id := metrics.ExtractorID()
	return append([]Metric{
		{"test/elbo", "test ELBO", HigherIsBetter, 2, "test ELBO, nats per image", ""},
		{"test/iwae", "IWAE", HigherIsBetter, 2, "importance-weighted bound on the test log-likelihood, nats per image", ""},
		{"test/kl", "KL", Neutral, 2, "test KL(q(z|x) ‖ p(z)), nats per image", ""},
		{"test/recon", "recon", LowerIsBetter, 2, "test −log p(x|z), nats per image", ""},
		{"posterior/active_units", "active units", Neutral, 1, "latent dimensions whose posterior mean varies over the test set (Var > 0.01)", ""},
		{"posterior/tc", "TC", Neutral, 3, "total correlation of the aggregate posterior over test images, nats (lower: more factorised codes)", ""},
		{"samples/fd_" + id, "FD " + id, LowerIsBetter, 4, "Fréchet distance of prior samples to test images in " + id + " features", ""},
		{"samples/fd_" + id + "_inf", "FD∞", LowerIsBetter, 4, "the same, extrapolated to infinitely many samples", ""},
		{"samples/kid_" + id, "KID", LowerIsBetter, 5, "kernel distance of prior samples to test images", ""},
		{"samples/precision_" + id, "precision", HigherIsBetter, 3, "share of samples inside the real data's k-NN balls", ""},
		{"samples/recall_" + id, "recall", HigherIsBetter, 3, "share of real images inside the samples' k-NN balls", ""},
		{"samples/swd", "SWD", LowerIsBetter, 4, "sliced Wasserstein distance of Laplacian-pyramid patches of samples", ""},
		{"recon/fd_" + id, "FD recon", LowerIsBetter, 4, "Fréchet distance of reconstructions to their test images", ""},
		{"samples/sharpness_laplacian", "sharpness samples", NearerOne, 3, "Laplacian variance of samples over that of real images (1 = as sharp)", ""},
		{"recon/sharpness_laplacian", "sharpness recon", NearerOne, 3, "Laplacian variance of reconstructions over that of real images", ""},
		{"samples/fd_dlib", "FD dlib", LowerIsBetter, 4, "Fréchet distance of prior samples to test images in dlib's face descriptor space (eval.features: [dlib])", "dlib"},
		{"recon/fd_dlib", "FD dlib recon", LowerIsBetter, 4, "Fréchet distance of reconstructions to their test images in dlib's face descriptor space", "dlib"},
		{"recon/id_similarity", "ID similarity", HigherIsBetter, 3, "mean cosine similarity of each test image's dlib descriptor and its reconstruction's", "dlib"},
		{"recon/id_match", "ID match", HigherIsBetter, 3, "share of reconstructions within dlib's same-person distance 0.6 of their image", "dlib"},
		{"recon/id_nearest", "ID nearest", HigherIsBetter, 3, "share of reconstructions whose nearest real test image is the same person", "dlib"},
		{"samples/spectrum_db_4", "HF power samples", Neutral, 1, "power at 0.25–0.5 cycles/pixel against the data's, dB: negative is blur, positive noise or artefacts", ""},
		{"recon/spectrum_db_4", "HF power recon", Neutral, 1, "the same for reconstructions", ""},
		{"disent/mig", "MIG", HigherIsBetter, 3, "mutual information gap to the synthetic faces' factors", ""},
		{"stability/loss_spikes", "spikes", LowerIsBetter, 0, "steps with a loss far above the recent median", ""},
	}, faceCatalogue()...)
}

// Lookup returns the catalogue entry of key.
func Lookup(key string) (Metric, bool) {
	for _, m := range Catalogue() {
		if m.Key == key {
			return m, true
		}
	}
	return Metric{}, false
}

// Pick returns the catalogue entries of keys, in that order (unknown keys are
// skipped).
func Pick(keys ...string) []Metric {
	var out []Metric
	for _, k := range keys {
		if m, ok := Lookup(k); ok {
			out = append(out, m)
		}
	}
	return out
}

// SummaryTable is the columns of the per-configuration table an ablation
// section prints (the report's summary, export md and latex).
func SummaryTable() []Metric {
	id := metrics.ExtractorID()
	return Pick("test/elbo", "test/iwae", "test/kl", "test/recon", "samples/fd_"+id, "samples/kid_"+id,
		"samples/sharpness_laplacian", "recon/sharpness_laplacian", "posterior/active_units", "disent/mig")
}

// EffectPlots are the metrics plotted against each swept parameter.
func EffectPlots() []Metric {
	return Pick("test/elbo", "samples/fd_"+metrics.ExtractorID(), "samples/sharpness_laplacian")
}

// SamplerPrefix is the key prefix of a sampler's block of sample metrics:
// samples for the prior, samples_NAME for another sampler.
func SamplerPrefix(name string) string {
	if name == "prior" {
		return "samples"
	}
	return "samples_" + name
}

// SamplerKey is a samples/… key of the catalogue for sampler name.
func SamplerKey(name, key string) string {
	return SamplerPrefix(name) + strings.TrimPrefix(key, "samples")
}

// SamplerTable is the columns of the table that compares samplers: the
// sample-quality metrics of the catalogue, under their samples/… keys.
func SamplerTable() []Metric {
	var out []Metric
	for _, m := range Catalogue() {
		if strings.HasPrefix(m.Key, "samples/") {
			out = append(out, m)
		}
	}
	return out
}

// SamplersIn lists the samplers that have sample metrics among keys, the
// prior first, the others by name.
func SamplersIn(keys []string) []string {
	var names []string
	for _, k := range keys {
		head, _, ok := strings.Cut(k, "/")
		switch {
		case !ok:
		case head == "samples":
			names = append(names, "prior")
		case strings.HasPrefix(head, "samples_"):
			names = append(names, strings.TrimPrefix(head, "samples_"))
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if i := slices.Index(names, "prior"); i > 0 {
		names = append([]string{"prior"}, slices.Delete(names, i, i+1)...)
	}
	return names
}
