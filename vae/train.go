package vae

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/vaelab/vaelab/data"

	"github.com/vaelab/vaelab/vae/internal/ops"
)

// Metric is one named value recorded at a step.
type Metric struct {
	Key   string
	Value float64
}

// Metric keys. Losses are per image, summed over pixels and latent dimensions, in
// nats; recon is −E[log p(x|z)], elbo = −recon − kl, loss = recon + β·kl.
const (
	KeyLoss     = "train/loss"
	KeyRecon    = "train/recon"
	KeyKL       = "train/kl"
	KeyELBO     = "train/elbo"
	KeyGradNorm = "train/grad_norm"
	KeyBeta     = "train/beta" // the KL weight used at the step
	KeyLR       = "train/lr"   // the learning rate used at the step

	KeyTestLoss  = "test/loss"
	KeyTestRecon = "test/recon"
	KeyTestKL    = "test/kl"
	KeyTestELBO  = "test/elbo"
)

// Recorder receives metrics as training goes. Training stops with its error.
type Recorder interface {
	// Step receives the metrics of training step step (1-based) in epoch epoch.
	Step(step, epoch int, values []Metric) error
	// Epoch receives the test-set metrics after epoch epoch, at step step.
	Epoch(step, epoch int, values []Metric) error
}

// Setup is everything that determines a training run besides its data, and
// how to checkpoint it (which does not change its results).
type Setup struct {
	Model     ModelConfig
	Objective ObjectiveConfig
	Train     TrainConfig
	Eval      EvalConfig
	Seed      uint64

	// Run names the run in checkpoints.
	Run string
	// Resume, if set, continues from a checkpoint of an earlier attempt.
	Resume *Checkpoint
	// Checkpoint, if set, receives the state after every CheckpointEvery-th
	// epoch (default 1) and after the last.
	Checkpoint      func(*Checkpoint) error
	CheckpointEvery int
	// StopAfterEpoch, if set below Train.Epochs, pauses training after that
	// epoch (an early-stopping rung): a checkpoint is written, and
	// Result.Paused is set. Resuming from it continues exactly as if training
	// had not paused.
	StopAfterEpoch int
}

// Result summarises a finished training.
type Result struct {
	Steps int
	// DivergedStep is the step whose loss or gradient was NaN or ±Inf, 0 if none.
	DivergedStep   int
	DivergedReason string
	// Test is the evaluation on the test set after the last completed epoch.
	Test EvalResult
	// Paused is set when training stopped at Setup.StopAfterEpoch.
	Paused bool
}

// Diverged reports whether training stopped on a non-finite value.
func (r Result) Diverged() bool { return r.DivergedStep > 0 }

// Train builds a float32 model from s.Seed and trains it on train with Adam,
// evaluating on test after every epoch. Each epoch visits the training images
// in an order drawn from the seed and drops the last partial batch, since the
// graph has a fixed batch size. A non-finite loss or gradient ends training
// early with Result.DivergedStep set; that is a result, not an error.
func Train(ctx context.Context, s Setup, train, test data.Images, rec Recorder) (*Model, Result, error) {
	var res Result
	if err := s.Train.Validate(); err != nil {
		return nil, res, err
	}
	if err := s.Eval.Validate(); err != nil {
		return nil, res, err
	}
	if err := s.Objective.Validate(); err != nil {
		return nil, res, err
	}
	if train.N < s.Train.BatchSize {
		return nil, res, fmt.Errorf("train.batch_size: %d is larger than the %d training images", s.Train.BatchSize, train.N)
	}
	m, err := NewModel(s.Model, ShapeOf(train), tensor.Float32, NewRand(s.Seed, StreamInit))
	if err != nil {
		return nil, res, err
	}
	t, err := newTrainer(m, s, train.N)
	if err != nil {
		return nil, res, err
	}
	batchRNG, batchSrc := newStream(s.Seed, StreamBatches)
	epsRNG, epsSrc := newStream(s.Seed, StreamEpsilon)
	sources := map[Stream]*rand.PCG{StreamBatches: batchSrc, StreamEpsilon: epsSrc}
	first, skip := 1, 0
	if c := s.Resume; c != nil {
		if c.Run != s.Run {
			return nil, res, fmt.Errorf("checkpoint belongs to run %s, not %s", c.Run, s.Run)
		}
		if err := t.restore(c, sources); err != nil {
			return nil, res, err
		}
		res.Steps, res.Test, first, skip = c.Step, c.Test, c.Epoch+1, c.EpochStep
	}
	if s.StopAfterEpoch > 0 && first > s.StopAfterEpoch && first <= s.Train.Epochs {
		res.Paused = true // already past the rung it was asked to pause at
		return m, res, nil
	}
	saved := res.Steps // the step of the last checkpoint
	every := max(1, s.CheckpointEvery)
	perEpoch := s.Train.EpochSteps(train.N)
	total := s.Train.Epochs * perEpoch
	for epoch := first; epoch <= s.Train.Epochs; epoch++ {
		// The batch order's generator as of the epoch's start: a checkpoint
		// taken mid-epoch stores it, so a resumed run draws the same order.
		epochStart, err := batchSrc.MarshalBinary()
		if err != nil {
			return m, res, err
		}
		order := batchRNG.Perm(train.N)
		for b := skip; b < perEpoch; b++ {
			if err := ctx.Err(); err != nil {
				return m, res, t.checkpointStop(s, res, saved, epoch, b, epochStart, sources, err)
			}
			start := b * s.Train.BatchSize
			res.Steps++
			scalars, lr := t.scalars(res.Steps, total), s.Train.LRAt(res.Steps, total)
			vals, err := t.step(gather(train, order[start:start+s.Train.BatchSize]), normals(epsRNG, t.o.batch*s.Model.Latent), scalars, lr)
			if err != nil {
				return m, res, fmt.Errorf("step %d: %w", res.Steps, err)
			}
			if bad := firstNonFinite(vals); bad != "" {
				res.DivergedStep, res.DivergedReason = res.Steps, fmt.Sprintf("%s is not finite at step %d", bad, res.Steps)
				return m, res, rec.Step(res.Steps, epoch, finiteOnly(vals))
			}
			if err := rec.Step(res.Steps, epoch, vals); err != nil {
				return m, res, fmt.Errorf("record step %d: %w", res.Steps, err)
			}
		}
		skip = 0
		ev, err := m.Evaluate(ctx, test, s.Objective, s.Eval.BatchSize, NewRand(s.Seed, StreamEval))
		if ctx.Err() != nil { // stopped during the evaluation: keep the epoch's steps
			return m, res, t.checkpointStop(s, res, saved, epoch, perEpoch, epochStart, sources, ctx.Err())
		}
		if err != nil {
			return m, res, fmt.Errorf("evaluate epoch %d: %w", epoch, err)
		}
		vals := ev.Metrics()
		if bad := firstNonFinite(vals); bad != "" {
			res.DivergedStep, res.DivergedReason = res.Steps, fmt.Sprintf("%s is not finite after epoch %d", bad, epoch)
			return m, res, rec.Epoch(res.Steps, epoch, finiteOnly(vals))
		}
		res.Test = ev
		if err := rec.Epoch(res.Steps, epoch, vals); err != nil {
			return m, res, fmt.Errorf("record epoch %d: %w", epoch, err)
		}
		if gr, ok := rec.(GridRecorder); ok && gridDue(s.Eval, epoch, s.Train.Epochs) {
			im, cols, err := m.TrainingGrid(ctx, test)
			if err == nil {
				err = gr.Grid(res.Steps, epoch, im, cols)
			}
			if err != nil && ctx.Err() == nil {
				return m, res, fmt.Errorf("image grid after epoch %d: %w", epoch, err)
			}
		}
		pause := s.StopAfterEpoch > 0 && epoch == s.StopAfterEpoch && epoch < s.Train.Epochs
		if s.Checkpoint != nil && (epoch%every == 0 || epoch == s.Train.Epochs || pause) {
			c, err := t.snapshot(s.Run, res.Steps, epoch, ev, sources)
			if err == nil {
				err = s.Checkpoint(c)
			}
			if err != nil {
				return m, res, fmt.Errorf("checkpoint after epoch %d: %w", epoch, err)
			}
			saved = res.Steps
		}
		if pause {
			res.Paused = true
			return m, res, nil
		}
	}
	return m, res, nil
}

// ShapeOf is the shape of im's images.
func ShapeOf(im data.Images) Shape { return Shape{im.Height, im.Width, im.Channels} }

// checkpointStop ends training stopped by ctx (Ctrl-C, SIGTERM) before
// batch b of epoch epoch (b = all of them: during its evaluation): when steps
// were done since the last checkpoint (at step saved), it saves one first, so
// the stop loses no work. It returns the stop's error.
func (t *trainer) checkpointStop(s Setup, res Result, saved, epoch, b int, epochStart []byte, sources map[Stream]*rand.PCG, stop error) error {
	if s.Checkpoint == nil || res.Steps == saved {
		return stop
	}
	c, err := t.snapshot(s.Run, res.Steps, epoch-1, res.Test, sources)
	if err != nil {
		return errors.Join(stop, err)
	}
	c.EpochStep, c.RNG[StreamBatches] = b, epochStart
	if err := s.Checkpoint(c); err != nil {
		return errors.Join(stop, fmt.Errorf("checkpoint at step %d: %w", res.Steps, err))
	}
	return stop
}

// trainer owns the training graph, its tape machine and the optimiser state.
type trainer struct {
	m          *Model
	o          *objective
	learnables []*G.Node
	grads      []*G.Node // ∂loss/∂learnables[i], read where the run leaves them
	vm         G.VM
	opt        *adam
	clip       float64 // global gradient-norm limit, 0 for none
	cfg        ObjectiveConfig
	state      []float64 // a statefulObjective's state, nil for the others
}

// scalars are the objective's fed values at step (1-based) of total.
func (t *trainer) scalars(step, total int) []float64 {
	if so, ok := t.o.obj.(statefulObjective); ok {
		return so.scalarsFrom(t.cfg, t.state)
	}
	return t.o.obj.at(t.cfg, step, total)
}

func newTrainer(m *Model, s Setup, trainImages int) (*trainer, error) {
	o, err := m.newObjective(s.Train.BatchSize, s.Objective, true, trainImages)
	if err != nil {
		return nil, err
	}
	learnables := o.used()
	grads, err := G.Grad(o.loss, learnables...)
	if err != nil {
		return nil, fmt.Errorf("differentiate loss: %w", err)
	}
	// The gradients are read from their nodes, not bound as dual values: the
	// tape machine would add each into a zeroed copy, one more pass in Go over
	// every parameter per step (about 5 % of the MLP step).
	t := &trainer{
		m:          m,
		o:          o,
		learnables: learnables,
		grads:      grads,
		vm:         G.NewTapeMachine(o.g),
		opt:        newAdam(s.Train.Adam, learnables),
		clip:       s.Train.ClipNorm,
		cfg:        s.Objective,
	}
	if so, ok := o.obj.(statefulObjective); ok {
		t.state = so.initial(s.Objective)
	}
	return t, nil
}

// step runs forward, backward and one Adam update with the objective's
// scalars, and returns the step's metrics (the scalars among them).
func (t *trainer) step(x []float32, eps []float64, scalars []float64, lr float64) ([]Metric, error) {
	defer t.vm.Reset()
	if err := t.o.feed(x, eps, scalars...); err != nil {
		return nil, err
	}
	if err := t.vm.RunAll(); err != nil {
		return nil, err
	}
	gn, err := gradNorm(t.learnables, t.grads)
	if err != nil {
		return nil, err
	}
	loss, recon, kl := scalarValue(t.o.loss), scalarValue(t.o.recon), scalarValue(t.o.klm)
	vals := []Metric{{KeyLoss, loss}, {KeyRecon, recon}, {KeyKL, kl}, {KeyELBO, -recon - kl}, {KeyGradNorm, gn}}
	for i, key := range t.o.obj.Scalars() {
		vals = append(vals, Metric{key, scalars[i]})
	}
	var est []Metric
	for _, e := range t.o.estimates {
		est = append(est, Metric{e.key, ops.Values64(*e.v)[0]})
	}
	vals = append(vals, est...)
	if so, ok := t.o.obj.(statefulObjective); ok {
		t.state = so.update(t.cfg, t.state, est)
		vals = append(vals, so.recordState(t.state)...)
	}
	vals = append(vals, Metric{KeyLR, lr})
	if firstNonFinite(vals) != "" {
		return vals, nil // skip the update: it would write NaN into the weights
	}
	scale := 1.0
	if t.clip > 0 && gn > t.clip {
		scale = t.clip / gn
	}
	if err := t.opt.step(t.learnables, t.grads, lr, scale); err != nil {
		return nil, fmt.Errorf("adam: %w", err)
	}
	t.m.lik.afterStep(t)
	return vals, nil
}

// gradNorm is the global L2 norm of all parameter gradients (grads[i] is
// that of params[i]). It reads the gradient buffers in place: this runs every
// step.
func gradNorm(params, grads []*G.Node) (float64, error) {
	sum := 0.0
	for i, g := range grads {
		v := g.Value()
		if v == nil {
			return 0, fmt.Errorf("gradient of %s was not computed", params[i].Name())
		}
		switch d := v.Data().(type) {
		case []float32:
			sum += ops.SumSquares32(d)
		case []float64:
			for _, v := range d {
				sum += v * v
			}
		default:
			return 0, fmt.Errorf("gradient of %s has type %T", params[i].Name(), d)
		}
	}
	return math.Sqrt(sum), nil
}

// gather copies the values of the images at idx into one contiguous batch.
func gather(im data.Images, idx []int) []float32 {
	return im.Gather(make([]float32, 0, len(idx)*im.Dim()), idx)
}

// normals draws n standard normal values.
func normals(rng *rand.Rand, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = rng.NormFloat64()
	}
	return out
}

func firstNonFinite(vals []Metric) string {
	for _, v := range vals {
		if math.IsNaN(v.Value) || math.IsInf(v.Value, 0) {
			return v.Key
		}
	}
	return ""
}

// finiteOnly drops NaN and ±Inf values, which the store cannot order or plot.
func finiteOnly(vals []Metric) []Metric {
	var out []Metric
	for _, v := range vals {
		if !math.IsNaN(v.Value) && !math.IsInf(v.Value, 0) {
			out = append(out, v)
		}
	}
	return out
}
