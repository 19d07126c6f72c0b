package evaluate

import "github.com/vaelab/vaelab/metrics"

// A faceMetric scores one sampler's samples in dlib's face descriptor space
// against the real test images: each is one file (facemetric_NAME.go) and
// one line of faceMetrics. Its catalogue entry (Key under samples/, title,
// direction, meaning) is read by the catalogue from this table, so tables,
// plots and show present it with no other edit; evaluation stores it for
// every sampler under that sampler's prefix.
type faceMetric struct {
	Metric
	// score computes the value and the protocol that produced it, from the
	// real test images' descriptors (n × DlibDim) with their identity labels
	// (nil when the dataset has none) and the samples' descriptors; ok is
	// false when it cannot be computed here (no identities, say).
	score func(real faceImages, samples []float32) (value float64, protocol string, ok bool)
}

// faceImages are descriptors of real images with their people.
type faceImages struct {
	desc   []float32
	labels []int // one per descriptor; nil when unknown
}

// n is the number of images.
func (f faceImages) n() int { return len(f.desc) / metrics.DlibDim }

// faceMetrics is the table of face-space sample metrics.
func faceMetrics() []faceMetric {
	return []faceMetric{
		// one line per metric, each defined in facemetric_NAME.go
		idCoverage(),
	}
}

// faceCatalogue is the catalogue's entries of the face-space sample metrics.
func faceCatalogue() []Metric {
	var out []Metric
	for _, m := range faceMetrics() {
		out = append(out, m.Metric)
	}
	return out
}
