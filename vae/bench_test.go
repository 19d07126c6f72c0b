package vae

import "testing"

func BenchmarkTrainStepMLP(b *testing.B) {
	mlp, _ := BenchModels()
	benchTrainStep(b, mlp)
}

func BenchmarkTrainStepConv(b *testing.B) {
	_, conv := BenchModels()
	benchTrainStep(b, conv)
}

func benchTrainStep(b *testing.B, bm BenchModel) {
	r, err := BenchmarkSteps(bm.Config, bm.Shape, bm.Batch, b.N, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(r.ImagesPerSecond, "images/s")
	b.ReportMetric(r.GFLOPS, "GFLOP/s")
	b.ReportMetric(r.AllocsPerStep, "allocs/step")
}
