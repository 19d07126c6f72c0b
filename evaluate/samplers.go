package evaluate

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/vae"
)

// A FittedSampler is one of a run's eval.samplers fitted to its final model,
// with the stored form of its fit (File, kept as the run's fit_NAME
// artifact so that later evaluations and `vaelab sample --sampler` reuse it).
type FittedSampler struct {
	Name    string
	Sampler vae.Sampler
	File    []byte
	Reused  bool // restored from a stored fit rather than fitted
}

// fitFormat is the stored fit's format: a JSON object with the sampler, the
// key of what the fit depends on, and the sampler's own encoding.
const fitFormat = "vaelab-sampler-fit-1"

type fitFile struct {
	Format  string          `json:"format"`
	Sampler string          `json:"sampler"`
	Key     string          `json:"key"`
	Fit     json.RawMessage `json:"fit"`
}

// fitKey names everything a fit depends on: the sampler and its settings,
// the run's seed and its final model (the checkpoint's sha256).
func fitKey(name string, s vae.Sampler, seed uint64, model string) string {
	return fmt.Sprintf("%s %s seed=%d model=%s", name, s.Key(), seed, model)
}

// FitStream is the generator a sampler's fit draws from: one per sampler,
// so that a fit does not depend on the other samplers evaluated beside it.
func FitStream(name string) vae.Stream { return vae.Stream("fit-" + name) }

// FitSamplers fits each of the run's eval.samplers to m, whose final
// checkpoint has sha256 model. stored gives the stored fit files of a
// sampler (newest first); one with the same key is restored instead of
// fitting again. The training images are encoded only when a sampler that
// needs their codes is fitted.
func FitSamplers(ctx context.Context, m *vae.Model, train data.Images, cfg experiments.RunConfig, model string, stored func(name string) [][]byte) ([]FittedSampler, error) {
	ev := cfg.Eval.WithDefaults()
	var codes vae.Codes
	var out []FittedSampler
	for _, name := range ev.Samplers {
		s, err := vae.NewSampler(name, ev)
		if err != nil {
			return nil, err
		}
		key := fitKey(name, s, cfg.Seed, model)
		f := FittedSampler{Name: name, Sampler: s}
		if f.File, f.Reused = restoreFit(m, s, key, stored(name)); !f.Reused {
			if s.NeedsLatents() && codes.Mu == nil {
				if codes.Mu, codes.LogVar, err = m.Encode(ctx, train, ev.BatchSize); err != nil {
					return nil, err
				}
			}
			if err := s.Fit(ctx, m, codes, vae.NewRand(cfg.Seed, FitStream(name))); err != nil {
				return nil, fmt.Errorf("fit sampler %s: %w", name, err)
			}
			if f.File, err = encodeFit(name, key, s); err != nil {
				return nil, fmt.Errorf("encode the %s sampler's fit: %w", name, err)
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// restoreFit loads the first stored fit with the key; corrupt or foreign
// files are passed over (the sampler is fitted again).
func restoreFit(m *vae.Model, s vae.Sampler, key string, files [][]byte) ([]byte, bool) {
	for _, b := range files {
		var f fitFile
		if json.Unmarshal(b, &f) != nil || f.Format != fitFormat || f.Key != key {
			continue
		}
		if s.UnmarshalFit(m, f.Fit) == nil {
			return b, true
		}
	}
	return nil, false
}

func encodeFit(name, key string, s vae.Sampler) ([]byte, error) {
	b, err := s.MarshalFit()
	if err != nil {
		return nil, err
	}
	return json.Marshal(fitFile{Format: fitFormat, Sampler: name, Key: key, Fit: b})
}

// FitKind is the artifact kind of a sampler's stored fit.
func FitKind(name string) string { return "fit_" + name }

// SampleKind is the artifact kind of a sampler's grid of samples: samples
// for the prior, samples_NAME for another.
func SampleKind(name string) string { return SamplerPrefix(name) }

// Find returns the fitted sampler called name.
func Find(fits []FittedSampler, name string) (FittedSampler, bool) {
	i := slices.IndexFunc(fits, func(f FittedSampler) bool { return f.Name == name })
	if i < 0 {
		return FittedSampler{}, false
	}
	return fits[i], true
}
