package vae

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/internal/testenv"
)

func smallSetup(seed uint64) Setup {
	return Setup{
		Model:     ModelConfig{Architecture: "mlp", Hidden: []int{32}, Latent: 4, Activation: "relu", Likelihood: "bernoulli"},
		Objective: ObjectiveConfig{Set: Values{"beta": 1.0}},
		Train:     TrainConfig{Epochs: 2, BatchSize: 16, LearningRate: 1e-3, Optimizer: "adam", Adam: AdamConfig{0.9, 0.999, 1e-8}},
		Eval:      EvalConfig{BatchSize: 50, GridImages: 4},
		Seed:      seed,
	}
}

// smallConvSetup is a conv VAE with batch norm for 12×12 faces (12 → 6 → 3).
func smallConvSetup(seed uint64) Setup {
	s := smallSetup(seed)
	s.Model = ModelConfig{Architecture: "conv", Channels: []int{4, 8}, Kernel: 4, Stride: 2, Decoder: "transpose", Norm: "batch",
		Hidden: []int{16}, Latent: 4, Activation: "leaky_relu", Likelihood: "bernoulli"}
	return s
}

func smallFaces(t *testing.T) (train, test data.Images) {
	t.Helper()
	im, _, err := data.Synthetic(240, 12, 3)
	if err != nil {
		t.Fatal(err)
	}
	idxTrain, idxTest := data.BlockSplit(im.N, 40)
	return im.Subset(idxTrain), im.Subset(idxTest)
}

func TestTrainIsBitIdenticalForASeed(t *testing.T) {
	train, test := smallFaces(t)
	run := func(seed uint64) *recording {
		rec := &recording{}
		if _, _, err := Train(context.Background(), smallSetup(seed), train, test, rec); err != nil {
			t.Fatal(err)
		}
		return rec
	}
	a, b, c := run(5), run(5), run(6)
	if len(a.steps) != 2*(200/16) || len(a.epochs) != 2 {
		t.Fatalf("recorded %d steps and %d epochs, want %d and 2", len(a.steps), len(a.epochs), 2*(200/16))
	}
	same := sameMetrics
	if !same(a.steps, b.steps) || !same(a.epochs, b.epochs) {
		t.Fatal("two runs with the same seed recorded different metrics")
	}
	if same(a.steps, c.steps) {
		t.Fatal("runs with different seeds recorded identical metrics")
	}
}

// train.steps_per_epoch ends each epoch early: the same first steps as a
// full pass (the epoch's shuffle is drawn as ever), then the next epoch.
func TestStepsPerEpoch(t *testing.T) {
	train, test := smallFaces(t)
	full, short := &recording{}, &recording{}
	s := smallSetup(5)
	if _, _, err := Train(context.Background(), s, train, test, full); err != nil {
		t.Fatal(err)
	}
	s.Train.StepsPerEpoch = 4
	if _, res, err := Train(context.Background(), s, train, test, short); err != nil || res.Steps != 8 || len(short.epochs) != 2 {
		t.Fatalf("%v: %d steps, %d epochs; want 8, 2", err, res.Steps, len(short.epochs))
	}
	if !sameMetrics(short.steps[:4], full.steps[:4]) {
		t.Error("the first epoch's steps differ from a full pass's")
	}
	s.Train.StepsPerEpoch = -1
	if err := s.Train.Validate(); err == nil || !strings.Contains(err.Error(), "train.steps_per_epoch") {
		t.Errorf("negative steps_per_epoch: %v", err)
	}
}

// sameMetrics reports whether two recordings hold the same metrics, bit for
// bit (NaN equal to NaN).
func sameMetrics(x, y [][]Metric) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if len(x[i]) != len(y[i]) {
			return false
		}
		for j := range x[i] {
			if x[i][j] != y[i][j] && !(math.IsNaN(x[i][j].Value) && math.IsNaN(y[i][j].Value)) {
				return false
			}
		}
	}
	return true
}

// TestParallelTrainingsMatchOneAtATime trains models at the same time in
// goroutines, as a sweep's workers do, and requires each to record exactly
// what it records alone: graphs keep their buffers and kept rows to
// themselves, and the C kernels share nothing.
func TestParallelTrainingsMatchOneAtATime(t *testing.T) {
	train, test := smallFaces(t)
	plainConv := smallConvSetup(5)
	plainConv.Model.Norm = "none" // ReLU fused into the convolutions
	setups := map[string]Setup{"mlp": smallSetup(5), "conv": plainConv, "conv batch norm": smallConvSetup(5)}
	run := func(s Setup) (*recording, error) {
		rec := &recording{}
		_, _, err := Train(context.Background(), s, train, test, rec)
		return rec, err
	}
	alone := map[string]*recording{}
	for name, s := range setups {
		rec, err := run(s)
		if err != nil {
			t.Fatal(err)
		}
		alone[name] = rec
	}
	var wg sync.WaitGroup
	together := make([]*recording, 2*len(setups))
	names := make([]string, len(together))
	errs := make([]error, len(together))
	i := 0
	for name, s := range setups {
		for range 2 {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				together[i], errs[i] = run(s)
			}(i)
			names[i] = name
			i++
		}
	}
	wg.Wait()
	for i, rec := range together {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !sameMetrics(rec.steps, alone[names[i]].steps) || !sameMetrics(rec.epochs, alone[names[i]].epochs) {
			t.Errorf("%s: a training run beside others recorded other metrics than alone", names[i])
		}
	}
}

func TestTrainMarksDivergence(t *testing.T) {
	train, test := smallFaces(t)
	s := smallSetup(1)
	s.Train.LearningRate = 1e9
	rec := &recording{}
	_, res, err := Train(context.Background(), s, train, test, rec)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Diverged() || res.DivergedStep < 1 || res.DivergedReason == "" {
		t.Fatalf("learning rate 1e9: result %+v, want diverged", res)
	}
	if len(rec.steps) != res.DivergedStep {
		t.Fatalf("recorded %d steps, diverged at %d", len(rec.steps), res.DivergedStep)
	}
	for _, m := range rec.steps[len(rec.steps)-1] {
		if math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
			t.Fatalf("non-finite %s was passed to the recorder", m.Key)
		}
	}
	t.Logf("diverged: %s", res.DivergedReason)
}

func TestTrainStopsOnCancel(t *testing.T) {
	train, test := smallFaces(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Train(ctx, smallSetup(1), train, test, &recording{}); err != context.Canceled {
		t.Fatalf("Train on a cancelled context: %v, want context.Canceled", err)
	}
}

func TestEvaluateDoesNotDependOnBatchSize(t *testing.T) {
	for name, setup := range map[string]Setup{"mlp": smallSetup(2), "conv batch norm": smallConvSetup(2)} {
		t.Run(name, func(t *testing.T) { checkEvaluationPaths(t, setup) })
	}
}

// checkEvaluationPaths trains setup briefly and checks that evaluation,
// encoding, reconstruction, traversal and sampling agree with one another.
// With batch norm, evaluation uses running statistics, so results must not
// depend on which images share a batch either.
func checkEvaluationPaths(t *testing.T, setup Setup) {
	train, test := smallFaces(t)
	m, _, err := Train(context.Background(), setup, train, test, &recording{})
	if err != nil {
		t.Fatal(err)
	}
	var results []EvalResult
	for _, b := range []int{7, 40, 1000} {
		r, err := m.Evaluate(context.Background(), test, ObjectiveConfig{Set: Values{"beta": 1.0}}, b, NewRand(9, StreamEval))
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, r)
	}
	for _, r := range results[1:] {
		if math.Abs(r.ELBO-results[0].ELBO) > 1e-4*math.Abs(results[0].ELBO) || r.N != test.N {
			t.Fatalf("evaluation depends on batch size: %+v vs %+v", r, results[0])
		}
	}
	// Encode's μ and log σ² must be the encoder's outputs, not buffers the tape
	// machine reused: the KL recomputed from them must equal the graph's KL.
	mu, lv, err := m.Encode(context.Background(), test, 11)
	if err != nil {
		t.Fatal(err)
	}
	kl := 0.0
	for j := range mu {
		kl += 0.5 * (mu[j]*mu[j] + math.Exp(lv[j]) - lv[j] - 1) / float64(test.N)
	}
	if math.Abs(kl-results[0].KL) > 1e-4*math.Max(1, results[0].KL) {
		t.Fatalf("KL from Encode's outputs %.6f, graph KL %.6f", kl, results[0].KL)
	}
	rec, err := m.Reconstruct(context.Background(), test, 13)
	if err != nil || rec.N != test.N || rec.Validate() != nil {
		t.Fatalf("reconstruct: %d images, %v, %v", rec.N, err, rec.Validate())
	}
	tr, err := m.Traverse(context.Background(), test.Subset([]int{0}), 5)
	if err != nil || tr.N != 5*4 || tr.Validate() != nil {
		t.Fatalf("traverse: %d images, %v", tr.N, err)
	}
	// The middle column (z_j = 0) differs from the ends: the sweep changes the image.
	if slices.Equal(tr.At(0), tr.At(4)) {
		t.Fatal("traversal ends decode to the same image")
	}
	smp, err := m.Sample(context.Background(), 9, test, NewRand(1, StreamSamples))
	if err != nil || smp.N != 9 || smp.Validate() != nil {
		t.Fatalf("sample: %d images, %v, %v", smp.N, err, smp.Validate())
	}
}

// TestMLPLearnsFreyFace trains on the real Frey Face frames with a Gaussian
// decoder (σ = 0.1, the classic setting for Frey) and checks that the test ELBO
// beats the best constant-image model by a wide margin, and that reconstructions
// are much closer to their inputs than the mean face is. The best constant model
// under the same likelihood is N(training mean, σ²) per pixel; with no latent its
// ELBO is its log-likelihood.
func TestMLPLearnsFreyFace(t *testing.T) {
	dir := testenv.SharedData(t, data.FreyFile)
	im, _, err := data.LoadFrey(filepath.Join(dir, data.FreyFile))
	if err != nil {
		t.Fatal(err)
	}
	idxTrain, idxTest := data.BlockSplit(im.N, 200)
	train, test := im.Subset(idxTrain), im.Subset(idxTest)
	const sigma = 0.1
	s := Setup{
		Model:     ModelConfig{Architecture: "mlp", Hidden: []int{200}, Latent: 10, Activation: "relu", Likelihood: "gaussian", Set: Values{"sigma": sigma}},
		Objective: ObjectiveConfig{Set: Values{"beta": 1.0}},
		Train:     TrainConfig{Epochs: 25, BatchSize: 64, LearningRate: 1e-3, Optimizer: "adam", Adam: AdamConfig{0.9, 0.999, 1e-8}},
		Eval:      EvalConfig{BatchSize: 200, GridImages: 16},
		Seed:      1,
	}
	rec := &recording{}
	m, res, err := Train(context.Background(), s, train, test, rec)
	if err != nil || res.Diverged() {
		t.Fatalf("train: %v, %+v", err, res)
	}

	mean := make([]float64, train.Dim())
	for i := range train.N {
		for j, v := range train.At(i) {
			mean[j] += float64(v) / float64(train.N)
		}
	}
	meanSE := 0.0
	for i := range test.N {
		for j, v := range test.At(i) {
			meanSE += (float64(v) - mean[j]) * (float64(v) - mean[j]) / float64(test.N)
		}
	}
	constLL := -meanSE/(2*sigma*sigma) - float64(test.Dim())*math.Log(sigma*math.Sqrt(2*math.Pi))
	elbo := rec.last(KeyTestELBO)
	t.Logf("test ELBO %.1f nats per image; best constant-image model %.1f", elbo, constLL)
	if !(elbo > constLL+100) {
		t.Errorf("test ELBO %.1f does not beat the constant-image model %.1f by 100 nats", elbo, constLL)
	}

	recon, err := m.Reconstruct(context.Background(), test, 100)
	if err != nil {
		t.Fatal(err)
	}
	reconSE, testPix := 0.0, test.Values()
	for i := range recon.Pix {
		e := float64(recon.Pix[i] - testPix[i])
		reconSE += e * e / float64(test.N)
	}
	t.Logf("squared error per image: reconstruction %.2f, mean face %.2f", reconSE, meanSE)
	if !(reconSE < 0.6*meanSE) {
		t.Errorf("reconstructions (squared error %.2f) are not much closer to their inputs than the mean face (%.2f)", reconSE, meanSE)
	}
}

// TestConvVariantsLearn trains each conv variant for a few epochs on small
// synthetic faces and checks that it learns: the test ELBO after the last
// epoch is clearly above the one after the first.
func TestConvVariantsLearn(t *testing.T) {
	variants := map[string]func(*ModelConfig){
		"transpose relu":        func(c *ModelConfig) {},
		"upsample elu":          func(c *ModelConfig) { c.Decoder, c.Activation, c.Kernel = "upsample", "elu", 3 },
		"batch norm leaky_relu": func(c *ModelConfig) { c.Norm, c.Activation = "batch", "leaky_relu" },
		"group norm tanh":       func(c *ModelConfig) { c.Norm, c.Groups, c.Activation = "group", 4, "tanh" },
		"per-pixel σ":           func(c *ModelConfig) { c.Likelihood = "gaussian_pixel" },
		"learned σ upsample norm": func(c *ModelConfig) {
			c.Decoder, c.Kernel, c.Norm, c.Likelihood = "upsample", 3, "batch", "gaussian_learned"
		},
		"RGB group norm": func(c *ModelConfig) { c.Norm, c.Groups = "group", 2 },
	}
	gray, grayTest := smallFaces(t)
	for name, edit := range variants {
		t.Run(name, func(t *testing.T) {
			train, test := gray, grayTest
			if strings.Contains(name, "RGB") {
				train, test = tinted(gray), tinted(grayTest)
			}
			s := smallConvSetup(3)
			s.Model.Norm = "none"
			edit(&s.Model)
			s.Train.Epochs, s.Train.LearningRate = 4, 3e-3
			rec := &recording{}
			if _, res, err := Train(context.Background(), s, train, test, rec); err != nil || res.Diverged() {
				t.Fatalf("train: %v, diverged %q", err, res.DivergedReason)
			}
			first, last := metric(rec.epochs[0], KeyTestELBO), rec.last(KeyTestELBO)
			if !(last > first+0.02*math.Abs(first)) {
				t.Fatalf("test ELBO %.2f after epoch 1, %.2f after epoch 4: not learning", first, last)
			}
			t.Logf("test ELBO %.2f → %.2f", first, last)
		})
	}
}

// tinted makes RGB images from grey ones, each channel scaled differently, so
// that a model must keep the channels apart.
func tinted(g data.Images) data.Images {
	out := data.Images{N: g.N, Height: g.Height, Width: g.Width, Channels: 3, Pix: make([]float32, 0, 3*len(g.Pix))}
	for _, v := range g.Pix {
		out.Pix = append(out.Pix, v, 0.7*v, 0.3+0.4*v)
	}
	return out
}

// TestConvBeatsMLPOnOlivetti is the conv VAE's acceptance on real faces: on
// Olivetti (64x64, 4 people held out), with the same latent size, likelihood
// (Gaussian, σ = 0.1), batch and number of epochs, the conv VAE (32-64-128-256,
// transposed-conv decoder) reaches a better test ELBO than the MLP VAE (512
// hidden), and its reconstructions keep identity: each test image's
// reconstruction is closer to that image than to any other test image, the
// others including 9 more photos of the same person.
func TestConvBeatsMLPOnOlivetti(t *testing.T) {
	testenv.Full(t, "trains a conv and an MLP VAE for 30 epochs on Olivetti, about 4 minutes on 2 cores")
	ds, err := data.Load(context.Background(), data.Config{Name: "olivetti", TestFraction: 0.1, Split: "identity", Seed: 1},
		testenv.SharedData(t, data.OlivettiFile))
	if err != nil {
		t.Fatal(err)
	}
	base := Setup{
		Objective: ObjectiveConfig{Set: Values{"beta": 1.0}},
		Train:     TrainConfig{Epochs: 30, BatchSize: 40, LearningRate: 1e-3, Optimizer: "adam", Adam: AdamConfig{0.9, 0.999, 1e-8}},
		Eval:      EvalConfig{BatchSize: 40, GridImages: 16},
		Seed:      1,
	}
	mlp, conv := base, base
	mlp.Model = ModelConfig{Architecture: "mlp", Hidden: []int{512}, Latent: 32, Activation: "relu", Likelihood: "gaussian", Set: Values{"sigma": 0.1}}
	conv.Model = ModelConfig{Architecture: "conv", Channels: []int{32, 64, 128, 256}, Latent: 32, Activation: "relu", Likelihood: "gaussian", Set: Values{"sigma": 0.1}}
	type outcome struct {
		m   *Model
		res Result
		err error
	}
	results := make([]outcome, 2)
	var wg sync.WaitGroup
	for i, s := range []Setup{mlp, conv} {
		wg.Add(1)
		go func() { // independent graphs train safely side by side
			defer wg.Done()
			m, res, err := Train(context.Background(), s, ds.Train, ds.Test, &recording{})
			results[i] = outcome{m, res, err}
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.err != nil || r.res.Diverged() {
			t.Fatalf("model %d: %v, %+v", i, r.err, r.res)
		}
	}
	mlpELBO, convELBO := results[0].res.Test.ELBO, results[1].res.Test.ELBO
	t.Logf("test ELBO after 30 epochs: conv %.1f, MLP %.1f nats per image", convELBO, mlpELBO)
	if !(convELBO > mlpELBO) {
		t.Errorf("conv VAE test ELBO %.1f does not beat the MLP's %.1f", convELBO, mlpELBO)
	}
	var samePerson [2]int
	for i, name := range []string{"MLP", "conv"} {
		rec, err := results[i].m.Reconstruct(context.Background(), ds.Test, 40)
		if err != nil {
			t.Fatal(err)
		}
		own, person := nearestOriginals(ds.Test, rec, ds.TestLabels)
		samePerson[i] = person
		t.Logf("%s: the test photo nearest to a reconstruction is its own for %d of %d, of the same person for %d", name, own, ds.Test.N, person)
	}
	// Measured: conv 36 of 40, MLP 29 (OpenBLAS); the bounds leave room for
	// another BLAS's rounding.
	if samePerson[1] < ds.Test.N*85/100 || samePerson[1] < samePerson[0] {
		t.Errorf("conv reconstructions keep identity for %d of %d test images (MLP: %d)", samePerson[1], ds.Test.N, samePerson[0])
	}
}

// nearestOriginals counts the reconstructions whose nearest original (in
// squared distance, among all of im) is the image they reconstruct, and those
// whose nearest original shows the same person.
func nearestOriginals(im, rec data.Images, labels []int) (own, person int) {
	for i := range rec.N {
		best, bestD := -1, math.Inf(1)
		for j := range im.N {
			d := 0.0
			for k, v := range rec.At(i) {
				e := float64(v - im.At(j)[k])
				d += e * e
			}
			if d < bestD {
				best, bestD = j, d
			}
		}
		if best == i {
			own++
		}
		if labels[best] == labels[i] {
			person++
		}
	}
	return own, person
}
