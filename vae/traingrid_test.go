package vae

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vaelab/vaelab/data"
)

// gridRecording is a recording that keeps training's grids.
type gridRecording struct {
	recording
	grids []gridAt
	spent time.Duration // inside TrainingGrid and Grid, measured by the caller
}

type gridAt struct {
	step, epoch, cols int
	im                data.Images
}

func (r *gridRecording) Grid(step, epoch int, im data.Images, cols int) error {
	r.grids = append(r.grids, gridAt{step, epoch, cols, im})
	return nil
}

// TestTrainingGridsEveryNEpochs: eval.grid_every: 2 over 6 epochs makes
// grids after epochs 2, 4 and 6, of test images, reconstructions and fixed
// latents' decodings; the training it watches is bit-identical to one
// without grids.
func TestTrainingGridsEveryNEpochs(t *testing.T) {
	train, test := smallFaces(t)
	s := smallSetup(3)
	s.Train.Epochs = 6
	s.Eval.GridEvery = 2
	with, without := &gridRecording{}, &recording{}
	if _, _, err := Train(context.Background(), s, train, test, with); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Train(context.Background(), s, train, test, without); err != nil {
		t.Fatal(err)
	}
	if len(with.grids) != 3 {
		t.Fatalf("%d grids, want 3", len(with.grids))
	}
	perEpoch := s.Train.EpochSteps(train.N)
	for i, g := range with.grids {
		if g.epoch != 2*(i+1) || g.step != g.epoch*perEpoch || g.cols != 8 || g.im.N != 24 || len(g.im.Pix) != 24*12*12 {
			t.Errorf("grid %d: epoch %d step %d, %d columns, %d images", i, g.epoch, g.step, g.cols, g.im.N)
		}
	}
	if !sameMetrics(with.steps, without.steps) || !sameMetrics(with.epochs, without.epochs) {
		t.Error("making grids changed the training's metrics")
	}
	// The first row is the test images themselves, in every grid.
	first := with.grids[0].im.Pix[:8*144]
	for i, v := range test.First(8).Values() {
		if first[i] != v {
			t.Fatal("the first row is not the first test images")
		}
	}
}

func TestGridEpochsDefaultsToAbout20PerRun(t *testing.T) {
	for _, c := range []struct{ every, epochs, want int }{{0, 100, 5}, {0, 15, 1}, {0, 200, 10}, {0, 30, 2}, {3, 100, 3}} {
		if got := (EvalConfig{GridEvery: c.every}).GridEpochs(c.epochs); got != c.want {
			t.Errorf("grid_every %d over %d epochs: every %d, want %d", c.every, c.epochs, got, c.want)
		}
	}
}

// BenchmarkTrainingGridCost trains the quickstart's model (an MLP
// 1024-256-16 on 2,700 synthetic 32×32 faces, batch 64) for 20 epochs
// with and without training grids at the default (one per epoch here: 20)
// and reports their cost as a share of training time.
//
//	go test ./vae -run XXX -bench TrainingGridCost -benchtime 3x
func BenchmarkTrainingGridCost(b *testing.B) {
	im, _, err := data.Synthetic(3000, 32, 1)
	if err != nil {
		b.Fatal(err)
	}
	idxTrain, idxTest := data.BlockSplit(im.N, 300)
	train, test := im.Subset(idxTrain), im.Subset(idxTest)
	s := Setup{
		Model:     ModelConfig{Architecture: "mlp", Hidden: []int{256}, Latent: 16, Activation: "relu", Likelihood: "bernoulli"},
		Objective: ObjectiveConfig{Set: Values{"beta": 1.0}},
		Train:     TrainConfig{Epochs: 20, BatchSize: 64, LearningRate: 1e-3, Optimizer: "adam", Adam: AdamConfig{0.9, 0.999, 1e-8}},
		Eval:      EvalConfig{BatchSize: 300, GridImages: 16},
		Seed:      1,
	}
	var plain, grids time.Duration
	var n int
	for b.Loop() {
		for _, withGrids := range []bool{false, true} {
			var rec Recorder = &recording{}
			if withGrids {
				rec = &gridRecording{}
			}
			start := time.Now()
			if _, _, err := Train(context.Background(), s, train, test, rec); err != nil {
				b.Fatal(err)
			}
			if withGrids {
				grids += time.Since(start)
				n = len(rec.(*gridRecording).grids)
			} else {
				plain += time.Since(start)
			}
		}
	}
	b.ReportMetric(100*(grids.Seconds()-plain.Seconds())/plain.Seconds(), "%-cost")
	b.ReportMetric(float64(n), "grids/run")
	fmt.Fprintf(b.Output(), "training %v without grids, %v with %d grids\n", plain/time.Duration(b.N), grids/time.Duration(b.N), n)
}
