package evaluate

import (
	"fmt"
	"math"

	"github.com/vaelab/vaelab/metrics"
)

// idCoverage is a mode-coverage measure across people: the share of test
// identities for which at least one generated face lies within dlib's
// same-person distance (0.6) of that identity's mean descriptor. A model
// that collapses onto a few faces, or makes faces of no one, covers few
// people however sharp its samples; FD alone does not say which. It needs
// the test images' identities (datasets with people: Olivetti, ORL, LFW).
func idCoverage() faceMetric {
	return faceMetric{
		Metric: Metric{Key: "samples/id_coverage", Title: "ID coverage", Dir: HigherIsBetter, Digits: 3,
			Meaning: "share of test people with a sample within dlib's same-person distance 0.6 of their mean descriptor", Needs: "dlib"},
		score: func(real faceImages, samples []float32) (float64, string, bool) {
			const d = metrics.DlibDim
			if real.labels == nil || len(samples) < d {
				return 0, "", false
			}
			means := map[int][]float64{}
			counts := map[int]int{}
			for i, l := range real.labels {
				if means[l] == nil {
					means[l] = make([]float64, d)
				}
				for k := range d {
					means[l][k] += float64(real.desc[i*d+k])
				}
				counts[l]++
			}
			covered := 0
			for l, m := range means {
				for k := range m {
					m[k] /= float64(counts[l])
				}
				if nearestWithin(m, samples, metrics.DlibSamePerson) {
					covered++
				}
			}
			n := len(samples) / d
			return float64(covered) / float64(len(means)), fmt.Sprintf("share of the %d test people (%d test images) with at least one of %d samples within dlib's same-person distance %.1f of their mean descriptor", len(means), len(real.labels), n, metrics.DlibSamePerson), true
		},
	}
}

// nearestWithin reports whether some row of rows (DlibDim wide) lies within
// dist of centre.
func nearestWithin(centre []float64, rows []float32, dist float64) bool {
	const d = metrics.DlibDim
	for i := 0; i+d <= len(rows); i += d {
		s := 0.0
		for k := range d {
			v := float64(rows[i+k]) - centre[k]
			s += v * v
		}
		if math.Sqrt(s) < dist {
			return true
		}
	}
	return false
}
