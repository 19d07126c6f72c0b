package vae

import (
	"testing"

	"gorgonia.org/tensor"
)

// The two models of the speed comparison with PyTorch (bench/torch_vae.py):
// (a) an MLP 560-400-20 on Frey-size images, batch 100; (b) a conv VAE on
// 64x64x3, encoder 32-64-128-256 with 4x4 stride-2 convolutions, latent 64,
// mirrored transposed-conv decoder, batch 64. Both float32, Bernoulli.
var (
	benchMLP  = ModelConfig{Architecture: "mlp", Hidden: []int{400}, Latent: 20, Activation: "relu", Likelihood: "bernoulli"}
	benchConv = ModelConfig{Architecture: "conv", Channels: []int{32, 64, 128, 256}, Kernel: 4, Stride: 2, Decoder: "transpose",
		Norm: "none", Latent: 64, Activation: "relu", Likelihood: "bernoulli"}
)

func BenchmarkTrainStepMLP(b *testing.B) { benchTrainStep(b, benchMLP, Shape{28, 20, 1}, 100) }
func BenchmarkTrainStepConv(b *testing.B) {
	benchTrainStep(b, benchConv, Shape{64, 64, 3}, 64)
}

func benchTrainStep(b *testing.B, cfg ModelConfig, shape Shape, batch int) {
	m, err := NewModel(cfg, shape, tensor.Float32, NewRand(1, StreamInit))
	if err != nil {
		b.Fatal(err)
	}
	s := Setup{Model: cfg, Objective: ObjectiveConfig{Beta: 1}, Train: DefaultTrainConfig()}
	s.Train.BatchSize = batch
	tr, err := newTrainer(m, s)
	if err != nil {
		b.Fatal(err)
	}
	rng := NewRand(2, StreamBatches)
	x := make([]float32, batch*shape.Dim())
	for i := range x {
		x[i] = rng.Float32()
	}
	eps := normals(rng, batch*cfg.Latent)
	if _, err := tr.step(x, eps, 1, 1e-4); err != nil { // warm up
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := tr.step(x, eps, 1, 1e-4); err != nil {
			b.Fatal(err)
		}
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(batch*b.N)/sec, "images/s")
	b.ReportMetric(m.StepFLOPs(batch)*float64(b.N)/sec/1e9, "GFLOP/s")
}
