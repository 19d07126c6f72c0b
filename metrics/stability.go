package metrics

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat"
)

// Stability describes how steadily a run trained, from its per-step curves.
type Stability struct {
	// LossSpikes counts steps whose loss exceeds the median of the previous
	// SpikeWindow steps by more than SpikeMADs median absolute deviations.
	LossSpikes int
	// GradNormP50, P90 and P99 are percentiles of the gradient norm.
	GradNormP50, GradNormP90, GradNormP99 float64
	// Oscillation is the standard deviation of the loss over the last
	// OscillationTail of training divided by the absolute mean there.
	Oscillation float64
}

// Spike detection and oscillation settings.
const (
	SpikeWindow     = 50
	SpikeMADs       = 6
	OscillationTail = 0.2
)

// MeasureStability computes Stability from the loss and gradient-norm series.
func MeasureStability(loss, gradNorm []float64) Stability {
	var s Stability
	for t := SpikeWindow; t < len(loss); t++ {
		med, mad := medianMAD(loss[t-SpikeWindow : t])
		if loss[t] > med+SpikeMADs*math.Max(mad, 1e-6*math.Abs(med)+1e-12) {
			s.LossSpikes++
		}
	}
	if len(gradNorm) > 0 {
		g := append([]float64(nil), gradNorm...)
		sort.Float64s(g)
		s.GradNormP50 = stat.Quantile(0.5, stat.Empirical, g, nil)
		s.GradNormP90 = stat.Quantile(0.9, stat.Empirical, g, nil)
		s.GradNormP99 = stat.Quantile(0.99, stat.Empirical, g, nil)
	}
	if tail := loss[len(loss)-int(float64(len(loss))*OscillationTail):]; len(tail) >= 2 {
		mean, std := stat.MeanStdDev(tail, nil)
		if mean != 0 {
			s.Oscillation = std / math.Abs(mean)
		}
	}
	return s
}

func medianMAD(x []float64) (float64, float64) {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	med := stat.Quantile(0.5, stat.Empirical, s, nil)
	for i, v := range s {
		s[i] = math.Abs(v - med)
	}
	sort.Float64s(s)
	return med, stat.Quantile(0.5, stat.Empirical, s, nil)
}
