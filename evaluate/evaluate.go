// Package evaluate is the evaluation stage: from a trained model and its
// dataset to the final summaries, each with its protocol, and the catalogue
// of the metrics it computes, which the store, show, report and export read.
package evaluate

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"gonum.org/v1/gonum/mat"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/internal/memo"
	"github.com/vaelab/vaelab/metrics"
	"github.com/vaelab/vaelab/record"
	"github.com/vaelab/vaelab/vae"
)

// evaluation computes a trained run's final metrics; each value carries the
// protocol that produced it. Keys: test/* (likelihood), posterior/*,
// samples/* and recon/* (prior samples and reconstructions against real test
// images), real/* (real-vs-real baseline: test against training images at the
// same N), disent/* (synthetic faces only).
type evaluation struct {
	ctx  context.Context
	m    *vae.Model
	ds   *data.Dataset
	cfg  experiments.RunConfig
	eval vae.EvalConfig
	fits []FittedSampler
	sets []imageSet // the generated images sampleQuality scored
	out  []record.Summary
}

func (e *evaluation) add(key string, v float64, protocol string) {
	e.out = append(e.out, record.Summary{Key: key, Value: v, Protocol: protocol})
}

// Run scores a trained model on its dataset: likelihood (IWAE, bits per
// dimension), posterior health, sample quality of each of eval.samplers and
// of the reconstructions against real test images, the real-vs-real
// baseline, and disentanglement on synthetic faces. fits are the run's
// eval.samplers fitted (FitSamplers). refs shares the real side between the
// runs of one invocation.
func Run(ctx context.Context, m *vae.Model, ds *data.Dataset, cfg experiments.RunConfig, fits []FittedSampler, refs *ReferenceCache) ([]record.Summary, error) {
	e := &evaluation{ctx: ctx, m: m, ds: ds, cfg: cfg, eval: cfg.Eval.WithDefaults(), fits: fits}
	real, err := refs.get(ctx, ds, cfg.Dataset, e.eval)
	if err != nil {
		return nil, err
	}
	faces := func() error {
		if !e.eval.Uses("dlib") {
			return nil
		}
		return e.faceQuality(real, refs)
	}
	for _, step := range []func() error{e.likelihood, e.posterior, func() error { return e.sampleQuality(real) }, faces} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return e.out, nil
}

func (e *evaluation) likelihood() error {
	test, k := e.ds.Test, e.eval.IWAEK
	iwae, err := e.m.IWAE(e.ctx, test, k, e.eval.BatchSize, vae.NewRand(e.cfg.Seed, vae.StreamIWAE))
	if err != nil {
		return err
	}
	proto := fmt.Sprintf("IWAE bound (Burda et al. 2016), k=%d importance samples, %d test images, nats per image", k, test.N)
	e.add("test/iwae", iwae, proto)
	if e.m.Likelihood().Continuous() {
		// A density on [0,1]^D becomes one on 8-bit values by the change of scale to [0,256)^D.
		bpd := (-iwae/float64(test.Dim()) + math.Log(256)) / math.Ln2
		e.add("test/bpd", bpd, proto+"; bits per dimension of the dequantised 8-bit data: (−IWAE/D + ln 256)/ln 2")
	}
	return nil
}

func (e *evaluation) posterior() error {
	test, L := e.ds.Test, e.cfg.Model.Latent
	mu, logvar, err := e.m.Encode(e.ctx, test, e.eval.BatchSize)
	if err != nil {
		return err
	}
	p, err := metrics.PosteriorHealth(mu, logvar, test.N, L)
	if err != nil {
		return err
	}
	proto := fmt.Sprintf("encoder on %d test images; active: Var_x(E_q[z_i]) > %g (Burda et al. 2016)", test.N, metrics.ActiveUnitThreshold)
	e.add("posterior/active_units", float64(p.ActiveUnits), proto)
	e.add("posterior/collapsed", boolValue(p.Collapsed), proto+"; collapsed = no active unit")
	nTC := min(test.N, e.eval.Samples)
	eps := vae.NewRand(e.cfg.Seed, vae.StreamTC)
	draws := make([]float64, nTC*L)
	for i := range draws {
		draws[i] = eps.NormFloat64()
	}
	tc, err := metrics.AggregateTC(mu[:nTC*L], logvar[:nTC*L], draws, nTC, L)
	if err != nil {
		return err
	}
	e.add("posterior/tc", tc, fmt.Sprintf("encoder on the first %d test images; total correlation of their aggregate posterior, one code per image, exact mixture densities (Chen et al. 2018), nats", nTC))
	for j, kl := range p.KLPerDim {
		e.add(fmt.Sprintf("posterior/kl_dim_%03d", j), kl, proto+"; mean KL of the dimension to N(0,1)")
	}
	if f := e.ds.TestFactors; f != nil {
		k := len(f.Names)
		proto := fmt.Sprintf("posterior means of %d test images against the %d known factors of %s", test.N, k, data.SyntheticVersion)
		mig, err := metrics.MIG(mu, L, f.Values, k)
		if err != nil {
			return err
		}
		sap, err := metrics.SAP(mu, L, f.Values, k)
		if err != nil {
			return err
		}
		e.add("disent/mig", mig, proto+"; MIG (Chen et al. 2018), 20 equal-width bins")
		e.add("disent/sap", sap, proto+"; SAP (Kumar et al. 2018), R² of single-latent linear fits")
	}
	return nil
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// realSide is everything about the real images that the sample-quality
// metrics need: it depends only on the dataset and N, so all runs of an
// invocation share one (see referenceCache).
type realSide struct {
	n        int
	images   data.Images // the first n test images
	features *mat.Dense
	ref      *metrics.Reference
	sharp    metrics.Sharpness
	spectrum metrics.Spectrum
	baseline []record.Summary // real-vs-real: training images against the test images
}

// newRealSide prepares the real side. The training images of the baseline are
// drawn with the dataset seed, so every run of the dataset shares them.
func newRealSide(ctx context.Context, ds *data.Dataset, dcfg data.Config, ev vae.EvalConfig) (*realSide, error) {
	n := min(ev.Samples, ds.Test.N, ds.Train.N)
	r := &realSide{n: n, images: ds.Test.First(n)}
	ex := metrics.NewExtractor(ds.Test.Channels)
	var err error
	if r.features, err = ex.Features(ctx, r.images); err != nil {
		return nil, err
	}
	g, err := metrics.FitGaussian(r.features)
	if err != nil {
		return nil, err
	}
	if r.ref, err = metrics.NewReference(g); err != nil {
		return nil, err
	}
	r.sharp = metrics.MeasureSharpness(r.images)
	r.spectrum = metrics.MeasureSpectrum(r.images)
	rng := rand.New(rand.NewPCG(dcfg.Seed, 0xba5e))
	train := ds.Train.Subset(rng.Perm(ds.Train.N)[:n])
	// The baseline's bootstraps draw from the dataset seed: it is shared by every run of the dataset.
	e := &evaluation{ctx: ctx, eval: ev, cfg: experiments.RunConfig{Seed: dcfg.Seed}}
	if err := e.distances("real", r, fmt.Sprintf("vs %d training images (real-vs-real baseline at the same N)", n), train, rng); err != nil {
		return nil, fmt.Errorf("real-vs-real metrics: %w", err)
	}
	r.baseline = e.out
	return r, nil
}

// imageSet is a set of generated images the sample-quality metrics score.
type imageSet struct {
	prefix, what string
	im           data.Images
}

// sampleQuality compares each sampler's samples (eval.samplers, decoded) and
// the reconstructions with real test images in the extractor's feature
// space, by SWD and by sharpness.
func (e *evaluation) sampleQuality(real *realSide) error {
	rng := vae.NewRand(e.cfg.Seed, vae.StreamMetrics)
	sets, err := e.samplerSets(real.n, rng)
	if err != nil {
		return err
	}
	recon, err := e.m.Reconstruct(e.ctx, real.images, e.eval.BatchSize)
	if err != nil {
		return err
	}
	sets = append(sets, imageSet{"recon", fmt.Sprintf("vs the reconstructions (decoder means at z = μ) of the same %d test images", real.n), recon})
	e.sets = sets
	for _, set := range sets {
		if err := e.distances(set.prefix, real, set.what, set.im, rng); err != nil {
			return fmt.Errorf("%s metrics: %w", set.prefix, err)
		}
		ratio := metrics.MeasureSharpness(set.im).Ratio(real.sharp)
		proto := fmt.Sprintf("ratio to the same statistic on %d real test images (1.0 = as sharp as the data), luma", real.n)
		e.add(set.prefix+"/sharpness_laplacian", ratio.LaplacianVar, proto+"; variance of the 4-neighbour Laplacian")
		e.add(set.prefix+"/sharpness_highfreq", ratio.HighFreqShare, proto+fmt.Sprintf("; share of Hann-windowed spectral power above %.2g cycles/pixel", metrics.HighFreqCutoff))
		e.add(set.prefix+"/sharpness_gradient", ratio.GradMean, proto+"; mean central-difference gradient magnitude")
		for b, gap := range metrics.MeasureSpectrum(set.im).GapDB(real.spectrum) {
			if math.IsNaN(gap) {
				continue // the images are too small to have frequencies in the band
			}
			band := metrics.SpectrumBands()[b]
			e.add(fmt.Sprintf("%s/spectrum_db_%d", set.prefix, b+1), gap, fmt.Sprintf("radially averaged power of the Hann-windowed luma in %g–%g cycles/pixel, as a share of the images' power at all frequencies (contrast does not count), over the same share in %d real test images, dB (negative: a deficit, blur; positive: an excess, noise or artefacts)", band[0], band[1], real.n))
		}
	}
	e.out = append(e.out, real.baseline...)
	return nil
}

// samplerSets decodes n draws of each fitted sampler; the prior's set is
// samples/…, another sampler's samples_NAME/….
func (e *evaluation) samplerSets(n int, rng *rand.Rand) ([]imageSet, error) {
	var sets []imageSet
	for _, f := range e.fits {
		z, err := f.Sampler.Draw(e.ctx, rng, n)
		if err != nil {
			return nil, fmt.Errorf("sampler %s: %w", f.Name, err)
		}
		im, err := e.m.Decode(e.ctx, z, e.ds.Test)
		if err != nil {
			return nil, err
		}
		what := fmt.Sprintf("vs %d prior samples (decoder means)", n)
		if f.Name != "prior" {
			what = fmt.Sprintf("vs %d samples of the %s sampler (decoder means)", n, f.Name)
		}
		sets = append(sets, imageSet{SamplerPrefix(f.Name), what, im})
	}
	return sets, nil
}

// distances stores FD (and its extrapolation to infinitely many samples), KID,
// precision, recall, density, coverage and SWD between the real images and others.
func (e *evaluation) distances(prefix string, real *realSide, what string, other data.Images, rng *rand.Rand) error {
	id := metrics.ExtractorID()
	proto := fmt.Sprintf("N=%d real test images %s; %s", real.n, what, metrics.ExtractorProtocol())
	f, err := metrics.NewExtractor(other.Channels).Features(e.ctx, other)
	if err != nil {
		return err
	}
	fd, err := real.ref.DistanceTo(f)
	if err != nil {
		return err
	}
	fdKey := fmt.Sprintf("%s/fd_%s", prefix, id)
	e.add(fdKey, fd, "Fréchet distance, "+proto)
	if prefix != "recon" {
		if err := e.frechetSE(fdKey, real.features, f, "Fréchet distance, "+proto); err != nil {
			return err
		}
	}
	// The extrapolated FD serves comparing samples; reconstructions keep the plain one.
	if prefix != "recon" {
		fdInf, err := real.ref.FrechetUnbiased(f, fd, fdPoints, rng)
		if err != nil {
			return err
		}
		e.add(fmt.Sprintf("%s/fd_%s_inf", prefix, id), fdInf, fmt.Sprintf("Fréchet distance extrapolated to infinitely many samples from %d sample sizes between N/4 and N against the full real statistics (Chong & Forsyth 2020), ", fdPoints)+proto)
	}
	kidKey := fmt.Sprintf("%s/kid_%s", prefix, id)
	var kid metrics.KID
	kidSE := math.NaN()
	if prefix == "recon" {
		kid, err = metrics.KernelDistance(real.features, f, e.eval.KIDSubsets, e.eval.KIDSubsetSize, rng)
	} else {
		kid, kidSE, err = metrics.KernelDistanceSE(e.ctx, real.features, f, e.eval.KIDSubsets, e.eval.KIDSubsetSize, SEReplicates, rng, e.bootstrapRand(kidKey))
	}
	if err != nil {
		return err
	}
	kidProto := fmt.Sprintf("KID (Bińkowski et al. 2018), cubic polynomial kernel, %d subsets of %d, ", kid.Subsets, kid.SubsetSize) + proto
	e.add(kidKey, kid.Mean, kidProto)
	e.add(kidKey+"_std", kid.Std, "standard deviation over subsets of "+kidProto)
	if !math.IsNaN(kidSE) {
		e.add(kidKey+SESuffix, kidSE, seProtocol(SEReplicates, real.n, rows(f))+" (the estimate over all images each side, the subsets' mean given the images), with the subsets' own spread, std²/subsets, added in quadrature; of the "+kidProto)
	}
	if prefix != "recon" {
		pr, err := metrics.PrecisionRecall(real.features, f, e.eval.NearestK)
		if err != nil {
			return err
		}
		prProto := fmt.Sprintf("k=%d nearest neighbours, ", pr.K) + proto
		e.add(fmt.Sprintf("%s/precision_%s", prefix, id), pr.Precision, "precision (Kynkäänniemi et al. 2019), "+prProto)
		e.add(fmt.Sprintf("%s/recall_%s", prefix, id), pr.Recall, "recall (Kynkäänniemi et al. 2019), "+prProto)
		e.add(fmt.Sprintf("%s/density_%s", prefix, id), pr.Density, "density (Naeem et al. 2020), "+prProto)
		e.add(fmt.Sprintf("%s/coverage_%s", prefix, id), pr.Coverage, "coverage (Naeem et al. 2020), "+prProto)
	}
	swd, _, err := metrics.SlicedWasserstein(real.images, other, rng)
	if err != nil {
		return err
	}
	e.add(prefix+"/swd", swd, metrics.SWDProtocol()+fmt.Sprintf(", N=%d images each side", min(real.n, other.N)))
	return nil
}

// fdPoints is the number of sample sizes the FD extrapolation is fitted to.
const fdPoints = 3

// SEReplicates is B, the number of bootstrap resamplings behind the standard
// errors of the KIDs, and of the Fréchet distances over at most fewImages
// images a side: the SE of an SE from B replicates is about 1/√(2B) of it,
// 7 % at 100, enough to tell whether more images or more seeds would narrow
// a comparison. A KID replicate costs a few matrix products on the kernel
// matrices already computed. An FD replicate costs an SVD whose side grows
// with N up to the feature dimension (288 for randconv1): about 5 ms at
// N = 300 and 25 ms at N = 1000, against well under a millisecond at the 40
// test faces of ORL. Above fewImages the FD's SE is therefore bootstrapped
// SEReplicatesMany times (16 %): on the quickstart (300 images a side) that
// costs about 9 % of the evaluation's CPU time, where 100 replicates cost
// 40 %.
const (
	SEReplicates     = 100
	SEReplicatesMany = 20
	fewImages        = 100
)

// frechetReplicates is B of an FD's SE over n images a side.
func frechetReplicates(n int) int {
	if n <= fewImages {
		return SEReplicates
	}
	return SEReplicatesMany
}

// SESuffix ends the key of a summary's image-sampling standard error:
// samples/fd_dlib_se is the SE of samples/fd_dlib. The sample-quality
// distances of every sampler's samples and of the real-vs-real baseline have
// one; the reconstructions', paired with their own test images, have not.
const SESuffix = "_se"

// seProtocol says how an SE was computed, before the protocol of its value.
func seProtocol(b, nReal, nOther int) string {
	return fmt.Sprintf("bootstrap standard error (Efron & Tibshirani 1993), B=%d resamplings with replacement of the %d generated (or compared) and the %d real test images, each set on its own, statistic recomputed from the same features", b, nOther, nReal)
}

// bootstrapRand is the generator of the bootstrap behind key's SE: a stream
// of its own per key, so that the SEs shift no other metric's draws and do
// not depend on which other samplers are scored beside.
func (e *evaluation) bootstrapRand(key string) *rand.Rand {
	return vae.NewRand(e.cfg.Seed, vae.Stream("bootstrap "+key))
}

// frechetSE stores the bootstrap SE of the Fréchet distance stored under key,
// between the real features and other, whose protocol is proto.
func (e *evaluation) frechetSE(key string, real, other *mat.Dense, proto string) error {
	b := frechetReplicates(max(rows(real), rows(other)))
	se, err := metrics.FrechetSE(e.ctx, real, other, b, e.bootstrapRand(key))
	if err != nil {
		return err
	}
	e.add(key+SESuffix, se, seProtocol(b, rows(real), rows(other))+", of the "+proto)
	return nil
}

func rows(x *mat.Dense) int { r, _ := x.Dims(); return r }

// ReferenceCache shares the real side of the metrics (features and
// statistics of the real test images, the real-vs-real baseline) between
// runs; its zero value is ready to use.
type ReferenceCache struct {
	// DataDir is where the dlib face descriptor's weights are
	// (DATA_DIR/dlib-face), for evaluations with eval.features: [dlib].
	DataDir string
	// CacheDir keeps the descriptor's ORL verification figure between
	// processes ("" recomputes it in each).
	CacheDir string
	turn     sync.Once
	slot     chan struct{} // one evaluation at a time; see Turn
	orl      memo.Map[*metrics.Verification]
	m        memo.Map[*realSide]
	faces    memo.Map[*faceSide]
	net      memo.Map[*metrics.DlibNet]
}

// Turn waits until no other large evaluation sharing c runs, and returns
// the function that ends this one's turn. Large evaluations take turns: each
// holds hundreds of megabytes of images, features and pyramids (64×64 RGB
// faces: about a gigabyte at its peak), while the other workers keep
// training. Small ones (an estimated peak of bytes below sideBySideBytes)
// run side by side: serialising them left a worker idle for a sixth of a
// 2-worker sweep of small models, since most of their metrics run on one
// thread.
func (c *ReferenceCache) Turn(ctx context.Context, bytes int64) (done func(), err error) {
	if bytes < sideBySideBytes {
		return func() {}, ctx.Err()
	}
	c.turn.Do(func() { c.slot = make(chan struct{}, 1) })
	select {
	case c.slot <- struct{}{}:
		return func() { <-c.slot }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// sideBySideBytes is the estimated peak below which evaluations run side by
// side instead of taking turns.
const sideBySideBytes = 256 << 20

// EvaluationBytes estimates an evaluation's peak memory: its samples' pixels
// as float32 for the real images, the samples and the reconstructions, with
// as much again for features and pyramids. A rough bound, not a
// measurement: every 64×64 RGB evaluation (295 MB at the default 1,000
// samples) still takes turns, while small grey-scale ones (32×32, 300
// samples: 7 MB) run side by side.
func EvaluationBytes(samples, dim int) int64 { return int64(samples) * int64(dim) * 4 * 6 }

// Prepare makes the real side for a dataset and evaluation settings ahead of
// the runs that need it (benchmarks measure runs without it).
func (c *ReferenceCache) Prepare(ctx context.Context, ds *data.Dataset, dcfg data.Config, ev vae.EvalConfig) error {
	_, err := c.get(ctx, ds, dcfg, ev.WithDefaults())
	return err
}

func (c *ReferenceCache) get(ctx context.Context, ds *data.Dataset, dcfg data.Config, ev vae.EvalConfig) (*realSide, error) {
	key := fmt.Sprintf("%+v|%d|%d|%d|%d", dcfg, ev.Samples, ev.KIDSubsets, ev.KIDSubsetSize, ev.NearestK)
	return c.m.Get(key, func() (*realSide, error) { return newRealSide(ctx, ds, dcfg, ev) })
}

// Training describes how training went: the test ELBO and its terms after
// the last epoch (on the test split of source), steps, wall time and the
// model's size. These and Stability's belong to the run's training; every
// other summary to one of its evaluations.
func Training(source string, res vae.Result, batch, params int, trainSeconds float64) []record.Summary {
	protocol := fmt.Sprintf("test split of %s: %d images, 1 posterior sample each", source, res.Test.N)
	return []record.Summary{
		{Key: "test/elbo", Value: res.Test.ELBO, Protocol: protocol}, {Key: "test/recon", Value: res.Test.Recon, Protocol: protocol},
		{Key: "test/kl", Value: res.Test.KL, Protocol: protocol}, {Key: "test/loss", Value: res.Test.Loss, Protocol: protocol},
		{Key: "train/steps", Value: float64(res.Steps)}, {Key: "train/seconds", Value: trainSeconds, Protocol: "wall time of training and per-epoch evaluation"},
		{Key: "train/images_per_second", Value: float64(res.Steps*batch) / trainSeconds, Protocol: "training images over wall time incl. evaluation"},
		{Key: "model/parameters", Value: float64(params)},
	}
}

// KeyEvalSeconds is the wall time of an evaluation, stored with its summaries.
const KeyEvalSeconds = "eval/seconds"

// Seconds is the summary of an evaluation's wall time.
func Seconds(s float64) record.Summary {
	return record.Summary{Key: KeyEvalSeconds, Value: s, Protocol: "wall time of the final metrics and image grids (likelihood, posterior, sample quality)"}
}

// TrainingKeys are the keys of the summaries training makes (Training and
// Stability); a database made before evaluation had its own hash is split
// along them.
func TrainingKeys() []string {
	var keys []string
	for _, s := range append(Training("", vae.Result{}, 1, 0, 1), Stability(nil, nil, false)...) {
		keys = append(keys, s.Key)
	}
	return keys
}

// Stability describes a run's training curves: spikes, gradient-norm percentiles, oscillation, divergence.
func Stability(loss, gradNorm []float64, diverged bool) []record.Summary {
	s := metrics.MeasureStability(loss, gradNorm)
	proto := fmt.Sprintf("from %d training steps", len(loss))
	return []record.Summary{
		{Key: "stability/diverged", Value: boolValue(diverged), Protocol: proto + "; 1 if a loss or gradient was NaN or infinite"},
		{Key: "stability/loss_spikes", Value: float64(s.LossSpikes), Protocol: proto + fmt.Sprintf("; steps whose loss exceeds the median of the previous %d by %d median absolute deviations", metrics.SpikeWindow, metrics.SpikeMADs)},
		{Key: "stability/grad_norm_p50", Value: s.GradNormP50, Protocol: proto + "; median global gradient norm"},
		{Key: "stability/grad_norm_p90", Value: s.GradNormP90, Protocol: proto + "; 90th percentile of the gradient norm"},
		{Key: "stability/grad_norm_p99", Value: s.GradNormP99, Protocol: proto + "; 99th percentile of the gradient norm"},
		{Key: "stability/oscillation", Value: s.Oscillation, Protocol: proto + fmt.Sprintf("; std/|mean| of the loss over the last %.0f%% of steps", 100*metrics.OscillationTail)},
	}
}
