package evaluate

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/internal/testenv"
	"github.com/vaelab/vaelab/metrics"
	"github.com/vaelab/vaelab/record"
	"github.com/vaelab/vaelab/vae"
)

// evaluateUntrained scores an untrained MLP VAE on 16×16 synthetic faces
// with eval.samples = n and the given feature spaces; training is not
// needed to check what the evaluation stores.
func evaluateUntrained(t *testing.T, n int, features []string, refs *ReferenceCache) map[string]record.Summary {
	t.Helper()
	ctx := context.Background()
	cfg := experiments.DefaultRunConfig()
	cfg.Dataset = data.Config{Name: "synthetic", Size: 16, Count: 500, TestFraction: 0.3, Seed: 1}
	cfg.Model.Hidden, cfg.Model.Latent = []int{32}, 4
	cfg.Eval.Samples, cfg.Eval.Samplers, cfg.Eval.Features = n, []string{"prior", "gmm"}, features
	cfg.Eval = cfg.Eval.With("gmm_components", 3)
	cfg.Seed = 7
	ds, err := data.Load(ctx, cfg.Dataset, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ds = ds.CapTest(n)
	m, err := vae.NewModel(cfg.Model, vae.ShapeOf(ds.Train), tensor.Float32, vae.NewRand(cfg.Seed, vae.StreamInit))
	if err != nil {
		t.Fatal(err)
	}
	fits, err := FitSamplers(ctx, m, ds.Train, cfg, "untrained", func(string) [][]byte { return nil })
	if err != nil {
		t.Fatal(err)
	}
	sums, err := Run(ctx, m, ds, cfg, fits, refs)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]record.Summary{}
	for _, s := range sums {
		if _, dup := out[s.Key]; dup {
			t.Errorf("%s stored twice", s.Key)
		}
		out[s.Key] = s
	}
	return out
}

// Acceptance: the Fréchet distances and KIDs of every sampler's samples and
// of the real-vs-real baseline carry their image-sampling SE (key_se, with
// its protocol), and it is larger with 12 images a side than with 150.
func TestSamplingErrorFewImages(t *testing.T) {
	id := metrics.ExtractorID()
	var keys []string
	for _, k := range []string{"samples/fd_" + id, "samples/kid_" + id} {
		keys = append(keys, SamplerKey("prior", k), SamplerKey("gmm", k))
	}
	keys = append(keys, "real/fd_"+id, "real/kid_"+id)
	few := evaluateUntrained(t, 12, nil, &ReferenceCache{})
	many := evaluateUntrained(t, 150, nil, &ReferenceCache{})
	for _, k := range keys {
		f, ok := few[k+SESuffix]
		m, ok2 := many[k+SESuffix]
		if !ok || !ok2 {
			t.Errorf("%s: no %s stored", k, k+SESuffix)
			continue
		}
		if !strings.HasPrefix(f.Protocol, "bootstrap standard error") || !strings.Contains(f.Protocol, "B=100") || !strings.Contains(f.Protocol, "12 real test images") {
			t.Errorf("%s protocol: %q", k+SESuffix, f.Protocol)
		}
		// Above fewImages an FD replicate costs an SVD of up to d × d: fewer of them.
		if wantB := map[bool]string{true: "B=20", false: "B=100"}[strings.Contains(k, "/fd_")]; !strings.Contains(m.Protocol, wantB) {
			t.Errorf("%s over 150 images: protocol %q, want %s", k+SESuffix, m.Protocol, wantB)
		}
		if !(f.Value > m.Value && m.Value > 0) {
			t.Errorf("%s: SE %.4g with 12 images, %.4g with 150; want larger with fewer, both positive", k+SESuffix, f.Value, m.Value)
		}
		t.Logf("%-28s 12 images: %.4g ± %.4g   150 images: %.4g ± %.4g", k, few[k].Value, f.Value, many[k].Value, m.Value)
	}
	for k := range few {
		if strings.HasSuffix(k, SESuffix) && strings.HasPrefix(k, "recon/") {
			t.Errorf("%s: the reconstructions, paired with their own images, have no unpaired bootstrap", k)
		}
	}
}

// The face-space distances carry their SE too.
func TestSamplingErrorFaceSpace(t *testing.T) {
	dir := testenv.DlibWeights(t)
	if filepath.Base(dir) != data.DlibFaceDir {
		t.Skipf("the weights' folder %s is not named %s", dir, data.DlibFaceDir)
	}
	got := evaluateUntrained(t, 12, []string{"dlib"}, &ReferenceCache{DataDir: filepath.Dir(dir)})
	for _, k := range []string{SamplerKey("prior", "samples/fd_dlib"), SamplerKey("gmm", "samples/fd_dlib"), "real/fd_dlib"} {
		se, ok := got[k+SESuffix]
		if !ok || !(se.Value > 0) || !strings.Contains(se.Protocol, "dlib face descriptor") {
			t.Errorf("%s: SE %+v (stored: %v)", k, se, ok)
			continue
		}
		t.Logf("%-22s 12 images: %.4g ± %.4g", k, got[k].Value, se.Value)
	}
}

func TestSmallEvaluationsRunSideBySideLargeOnesTakeTurns(t *testing.T) {
	var c ReferenceCache
	ctx := context.Background()
	small := EvaluationBytes(300, 32*32)
	large := EvaluationBytes(1000, 64*64*3)
	d1, err := c.Turn(ctx, small)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := c.Turn(ctx, small)
	if err != nil {
		t.Fatal("a second small evaluation waited:", err)
	}
	d1()
	d2()
	done, err := c.Turn(ctx, large)
	if err != nil {
		t.Fatal(err)
	}
	waiting, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := c.Turn(waiting, large); err == nil {
		t.Fatal("a second large evaluation ran beside the first")
	}
	done()
	if d, err := c.Turn(ctx, large); err != nil {
		t.Fatal("the turn was not handed on:", err)
	} else {
		d()
	}
}
