package vae

import "testing"

func BenchmarkTrainStepMLP(b *testing.B)  { benchTrainStep(b, BenchMLP) }
func BenchmarkTrainStepConv(b *testing.B) { benchTrainStep(b, BenchConv) }

func benchTrainStep(b *testing.B, bm BenchModel) {
	r, err := BenchmarkSteps(bm.Config, bm.Shape, bm.Batch, b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(r.ImagesPerSecond, "images/s")
	b.ReportMetric(r.GFLOPS, "GFLOP/s")
	b.ReportMetric(r.AllocsPerStep, "allocs/step")
}
