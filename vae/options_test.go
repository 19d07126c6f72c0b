package vae

import (
	"context"
	"math"
	"slices"
	"testing"
)

func TestCosineLearningRate(t *testing.T) {
	train, test := smallFaces(t)
	s := smallSetup(6)
	s.Train.LRSchedule = "cosine"
	rec := &recording{}
	if _, _, err := Train(context.Background(), s, train, test, rec); err != nil {
		t.Fatal(err)
	}
	total := len(rec.steps)
	for i, vals := range rec.steps {
		want := s.Train.LearningRate * 0.5 * (1 + math.Cos(math.Pi*float64(i)/float64(total-1)))
		if got := metric(vals, KeyLR); math.Abs(got-want) > 1e-15 {
			t.Fatalf("step %d: lr %v, want %v", i+1, got, want)
		}
	}
	if metric(rec.steps[0], KeyLR) != s.Train.LearningRate || math.Abs(metric(rec.steps[total-1], KeyLR)) > 1e-18 {
		t.Fatal("cosine schedule does not run from the learning rate to 0")
	}
}

// TestGradientClipping: a clip far below the gradient norm changes training
// (Adam is invariant to a constant gradient scale, but not to one that varies
// per step), and the recorded norm is the unclipped one.
func TestGradientClipping(t *testing.T) {
	train, test := smallFaces(t)
	run := func(clip float64) *recording {
		s := smallSetup(7)
		s.Train.ClipNorm = clip
		rec := &recording{}
		if _, _, err := Train(context.Background(), s, train, test, rec); err != nil {
			t.Fatal(err)
		}
		return rec
	}
	free, clipped := run(0), run(1e-3)
	if metric(free.steps[0], KeyGradNorm) != metric(clipped.steps[0], KeyGradNorm) || metric(free.steps[0], KeyGradNorm) < 1 {
		t.Fatal("the first step's recorded gradient norm should be the same unclipped value")
	}
	last := len(free.steps) - 1
	if slices.Equal(free.steps[last], clipped.steps[last]) {
		t.Fatal("clipping the gradient norm to 1e-3 did not change training")
	}
}

// TestLogvarClamp: with the clamp, every posterior log-variance stays inside
// (−c, c) even when a huge learning rate drives the raw values far out.
func TestLogvarClamp(t *testing.T) {
	train, test := smallFaces(t)
	s := smallSetup(8)
	s.Model.LogvarClamp, s.Train.LearningRate, s.Train.Epochs = 2, 0.5, 3
	m, res, err := Train(context.Background(), s, train, test, &recording{})
	if err != nil {
		t.Fatal(err)
	}
	_, lv, err := m.Encode(context.Background(), test, 40)
	if err != nil {
		t.Fatal(err)
	}
	extreme := 0.0
	for _, v := range lv {
		extreme = math.Max(extreme, math.Abs(v))
		if !(math.Abs(v) < 2) {
			t.Fatalf("log-variance %v outside (−2, 2) (diverged: %v)", v, res.Diverged())
		}
	}
	t.Logf("largest |log σ²| with the clamp at 2: %.4f", extreme)

	// Without the clamp the same training leaves (−2, 2): the clamp is what holds it.
	s.Model.LogvarClamp = 0
	m, res, err = Train(context.Background(), s, train, test, &recording{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Diverged() {
		_, lv, _ = m.Encode(context.Background(), test, 40)
		outside := false
		for _, v := range lv {
			outside = outside || !(math.Abs(v) < 2)
		}
		if !outside {
			t.Fatal("without the clamp the log-variances stay inside (−2, 2) too: the test does not exercise the clamp")
		}
	}
}
