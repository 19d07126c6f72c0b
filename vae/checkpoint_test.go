package vae

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/vaelab/vaelab/vae/internal/ops"
)

// TestResumeReproducesUninterruptedRun: resuming from the checkpoint after
// epoch 1 or 2 (written to bytes and read back) gives exactly the metrics and
// final weights of a run that was never interrupted.
func TestResumeReproducesUninterruptedRun(t *testing.T) {
	withObjective := func(c ObjectiveConfig) Setup {
		s := smallSetup(8)
		s.Objective = c
		return s
	}
	for name, s := range map[string]Setup{
		"mlp": smallSetup(8), "conv batch norm": smallConvSetup(8),
		"geco": withObjective(ObjectiveConfig{Type: "geco", Set: Values{"beta": 1.0, "kappa": 0.03}}),
		"geco optimal σ": func() Setup {
			s := withObjective(ObjectiveConfig{Type: "geco", Set: Values{"beta": 1.0, "kappa": 0.03}})
			s.Model.Likelihood = "gaussian_optimal"
			return s
		}(),
		"iwae":    withObjective(ObjectiveConfig{Type: "iwae", Set: Values{"beta": 1.0, "k": 3}}),
		"beta_tc": withObjective(ObjectiveConfig{Type: "beta_tc", Set: Values{"beta": 6.0}}),
	} {
		t.Run(name, func(t *testing.T) { checkResume(t, s) })
	}
}

func checkResume(t *testing.T, s Setup) {
	train, test := smallFaces(t)
	s.Train.Epochs, s.Run = 3, "run-a"
	var saved [][]byte
	s.Checkpoint = func(c *Checkpoint) error {
		var b bytes.Buffer
		err := c.Encode(&b)
		saved = append(saved, b.Bytes())
		return err
	}
	full := &recording{}
	mFull, resFull, err := Train(context.Background(), s, train, test, full)
	if err != nil || len(saved) != 3 {
		t.Fatalf("train: %v, %d checkpoints", err, len(saved))
	}
	for _, b := range mFull.buffers {
		if b.Name[len(b.Name)-4:] == "mean" && slices.Equal(ops.Values64(b.Value), make([]float64, b.Value.Shape().TotalSize())) {
			t.Fatalf("%s never moved from zero: the running statistics are not updated", b.Name)
		}
	}
	stepsPerEpoch := len(full.steps) / 3
	for from := 1; from <= 2; from++ {
		c, err := ReadCheckpoint(bytes.NewReader(saved[from-1]))
		if err != nil {
			t.Fatal(err)
		}
		r := s
		r.Resume, r.Checkpoint = c, nil
		rec := &recording{}
		m, res, err := Train(context.Background(), r, train, test, rec)
		if err != nil {
			t.Fatal(err)
		}
		if res.Steps != resFull.Steps || res.Test != resFull.Test {
			t.Fatalf("resumed after epoch %d: %d steps, test %+v; uninterrupted %d, %+v", from, res.Steps, res.Test, resFull.Steps, resFull.Test)
		}
		wantSteps, wantEpochs := full.steps[from*stepsPerEpoch:], full.epochs[from:]
		if len(rec.steps) != len(wantSteps) || len(rec.epochs) != len(wantEpochs) {
			t.Fatalf("resumed after epoch %d recorded %d steps and %d epochs", from, len(rec.steps), len(rec.epochs))
		}
		for i := range wantSteps {
			if !slices.Equal(rec.steps[i], wantSteps[i]) {
				t.Fatalf("resumed after epoch %d: step %d differs: %v vs %v", from, i, rec.steps[i], wantSteps[i])
			}
		}
		for i, p := range append(m.Params(), m.buffers...) {
			if !slices.Equal(p.Value.Data().([]float32), append(mFull.Params(), mFull.buffers...)[i].Value.Data().([]float32)) {
				t.Fatalf("resumed after epoch %d: final %s differs", from, p.Name)
			}
		}
	}
	// A model rebuilt from the last checkpoint evaluates like the trained one.
	last, err := ReadCheckpoint(bytes.NewReader(saved[2]))
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadModel(s.Model, ShapeOf(train), last)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := loaded.Evaluate(context.Background(), test, ObjectiveConfig{Set: Values{"beta": 1.0}}, 50, NewRand(1, StreamEval))
	b, _ := mFull.Evaluate(context.Background(), test, ObjectiveConfig{Set: Values{"beta": 1.0}}, 50, NewRand(1, StreamEval))
	if a != b {
		t.Fatalf("loaded model evaluates to %+v, trained one to %+v", a, b)
	}
}

func TestCorruptCheckpointIsRejected(t *testing.T) {
	train, test := smallFaces(t)
	s := smallSetup(9)
	s.Train.Epochs, s.Run = 1, "run-b"
	var good []byte
	s.Checkpoint = func(c *Checkpoint) error {
		var b bytes.Buffer
		err := c.Encode(&b)
		good = b.Bytes()
		return err
	}
	if _, _, err := Train(context.Background(), s, train, test, &recording{}); err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 1
	for name, b := range map[string][]byte{"flipped bit": flipped, "truncated": good[:len(good)-100], "empty": nil, "foreign": []byte("PK\x03\x04 zip")} {
		if _, err := ReadCheckpoint(bytes.NewReader(b)); !errors.Is(err, ErrCorruptCheckpoint) {
			t.Errorf("%s: %v, want ErrCorruptCheckpoint", name, err)
		}
	}
	c, _ := ReadCheckpoint(bytes.NewReader(good))
	other := smallSetup(9)
	other.Run, other.Resume = "run-c", c
	if _, _, err := Train(context.Background(), other, train, test, &recording{}); err == nil {
		t.Fatal("a checkpoint of another run was accepted")
	}
	other.Run, other.Model.Hidden = "run-b", []int{33}
	if _, _, err := Train(context.Background(), other, train, test, &recording{}); err == nil {
		t.Fatal("a checkpoint of another architecture was accepted")
	}
}

// cancelAt cancels training's context once step stop has been recorded.
type cancelAt struct {
	recording
	stop   int
	cancel context.CancelFunc
}

func (c *cancelAt) Step(step, epoch int, v []Metric) error {
	if step == c.stop {
		c.cancel()
	}
	return c.recording.Step(step, epoch, v)
}

// TestStopMidEpochCheckpointsAndResumes: a stop (Ctrl-C) in the middle of an
// epoch, or after its last step while it is being evaluated, saves a
// checkpoint at the step reached; resuming from it gives exactly the
// uninterrupted run.
func TestStopMidEpochCheckpointsAndResumes(t *testing.T) {
	train, test := smallFaces(t)
	s := smallSetup(12)
	s.Train.Epochs, s.Run = 3, "run-c"
	full := &recording{}
	mFull, _, err := Train(context.Background(), s, train, test, full)
	if err != nil {
		t.Fatal(err)
	}
	perEpoch := len(full.steps) / 3
	for _, stop := range []int{perEpoch + 3, 2 * perEpoch} {
		var last *Checkpoint
		r := s
		r.CheckpointEvery = 5 // no epoch-end checkpoint before the stop
		r.Checkpoint = func(c *Checkpoint) error {
			var b bytes.Buffer
			if err := c.Encode(&b); err != nil {
				return err
			}
			last, err = ReadCheckpoint(&b)
			return err
		}
		ctx, cancel := context.WithCancel(context.Background())
		first := &cancelAt{stop: stop, cancel: cancel}
		if _, _, err := Train(ctx, r, train, test, first); !errors.Is(err, context.Canceled) {
			t.Fatalf("stop at step %d: %v, want context.Canceled", stop, err)
		}
		if last == nil || last.Step != stop || last.Epoch != (stop-1)/perEpoch || last.EpochStep != stop-last.Epoch*perEpoch {
			t.Fatalf("stop at step %d: checkpoint %+v", stop, last)
		}
		r.Resume, r.Checkpoint = last, nil
		rest := &recording{}
		m, res, err := Train(context.Background(), r, train, test, rest)
		if err != nil || res.Steps != 3*perEpoch {
			t.Fatalf("resume from step %d: %v, %d steps", stop, err, res.Steps)
		}
		got := append(first.steps, rest.steps...)
		for i := range full.steps {
			if !slices.Equal(got[i], full.steps[i]) {
				t.Fatalf("stop at step %d: step %d differs after resuming", stop, i+1)
			}
		}
		for i, p := range m.Params() {
			if !slices.Equal(p.Value.Data().([]float32), mFull.Params()[i].Value.Data().([]float32)) {
				t.Fatalf("stop at step %d: final %s differs", stop, p.Name)
			}
		}
	}
}
