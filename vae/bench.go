package vae

import (
	"fmt"
	"runtime"
	"time"

	"gorgonia.org/tensor"
)

// StepBench is the speed of training steps on fixed data.
type StepBench struct {
	Steps, Batch      int
	Seconds           float64
	ImagesPerSecond   float64
	GFLOPS            float64 // Model.StepFLOPs over wall time
	AllocsPerStep     float64 // heap allocations
	AllocBytesPerStep float64
}

// BenchmarkSteps trains a float32 model of cfg on one fixed batch of random
// images and noise for steps steps (after one warm-up step) and measures it:
// the forward pass, backward pass and Adam update, as in training, without
// data loading or metric recording. ready, if not nil, runs between the
// warm-up and the timed steps: copies run side by side wait there for each
// other.
func BenchmarkSteps(cfg ModelConfig, shape Shape, batch, steps int, ready func()) (StepBench, error) {
	m, step, err := benchStepper(cfg, shape, batch)
	if err != nil {
		return StepBench{}, err
	}
	if err := step(); err != nil {
		return StepBench{}, fmt.Errorf("warm-up step: %w", err)
	}
	if ready != nil {
		ready()
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	for range steps {
		if err := step(); err != nil {
			return StepBench{}, err
		}
	}
	sec := time.Since(start).Seconds()
	runtime.ReadMemStats(&after)
	return StepBench{
		Steps: steps, Batch: batch, Seconds: sec,
		ImagesPerSecond:   float64(batch*steps) / sec,
		GFLOPS:            m.StepFLOPs(batch) * float64(steps) / sec / 1e9,
		AllocsPerStep:     float64(after.Mallocs-before.Mallocs) / float64(steps),
		AllocBytesPerStep: float64(after.TotalAlloc-before.TotalAlloc) / float64(steps),
	}, nil
}

// benchStepper builds a float32 model of cfg and a trainer for it, and
// returns the model and a function that runs one training step on one fixed
// batch of random images and noise.
func benchStepper(cfg ModelConfig, shape Shape, batch int) (*Model, func() error, error) {
	m, err := NewModel(cfg, shape, tensor.Float32, NewRand(1, StreamInit))
	if err != nil {
		return nil, nil, err
	}
	s := Setup{Model: m.cfg, Objective: ObjectiveConfig{}, Train: DefaultTrainConfig()}
	s.Train.BatchSize = batch
	tr, err := newTrainer(m, s, batch)
	if err != nil {
		return nil, nil, err
	}
	rng := NewRand(2, StreamBatches)
	x := make([]float32, batch*shape.Dim())
	for i := range x {
		x[i] = rng.Float32()
	}
	eps := normals(rng, batch*cfg.Latent)
	return m, func() error {
		_, err := tr.step(x, eps, []float64{1}, 1e-4)
		return err
	}, nil
}

// BenchModels are the two models of the comparison with PyTorch
// (bench/torch_vae.py), both float32 with a Bernoulli decoder: (a) an MLP
// 560-400-20 on Frey-size images, batch 100; (b) a conv VAE on 64x64x3,
// encoder 32-64-128-256 with 4x4 stride-2 convolutions, latent 64, mirrored
// transposed-conv decoder, batch 64.
func BenchModels() (mlp, conv BenchModel) {
	mlp = BenchModel{Name: "mlp", Batch: 100, Shape: Shape{28, 20, 1},
		Config: ModelConfig{Architecture: "mlp", Hidden: []int{400}, Latent: 20, Activation: "relu", Likelihood: "bernoulli"}}
	conv = BenchModel{Name: "conv", Batch: 64, Shape: Shape{64, 64, 3},
		Config: ModelConfig{Architecture: "conv", Channels: []int{32, 64, 128, 256}, Kernel: 4, Stride: 2, Decoder: "transpose",
			Norm: "none", Latent: 64, Activation: "relu", Likelihood: "bernoulli"}}
	return mlp, conv
}

// BenchModel is a model of the speed comparison.
type BenchModel struct {
	Name   string
	Batch  int
	Shape  Shape
	Config ModelConfig
}
