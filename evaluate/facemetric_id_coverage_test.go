package evaluate

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vaelab/vaelab/metrics"
)

// descriptorsAround makes n descriptors within r of centre (unit-free
// 128-d vectors, as dlib's are).
func descriptorsAround(centre []float64, n int, r float64, rng *rand.Rand) []float32 {
	out := make([]float32, 0, n*metrics.DlibDim)
	for range n {
		dir := make([]float64, metrics.DlibDim)
		norm := 0.0
		for k := range dir {
			dir[k] = rng.NormFloat64()
			norm += dir[k] * dir[k]
		}
		scale := r * rng.Float64() / math.Sqrt(norm)
		for k := range dir {
			out = append(out, float32(centre[k]+scale*dir[k]))
		}
	}
	return out
}

// Three people far apart (2.0 between centres, dlib's threshold is 0.6),
// each with 4 test images within 0.1 of their centre: samples near two of
// them cover 2 of 3; samples far from everyone cover none; one sample on a
// person covers that person; without identities it is not computed.
func TestIDCoverageCountsPeopleWithANearbySample(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	centre := func(i int) []float64 {
		c := make([]float64, metrics.DlibDim)
		c[i] = 1.414 // √2 apart pairwise: distance 2.0
		return c
	}
	var real faceImages
	for p := range 3 {
		real.desc = append(real.desc, descriptorsAround(centre(p), 4, 0.1, rng)...)
		real.labels = append(real.labels, p, p, p, p)
	}
	far := make([]float64, metrics.DlibDim)
	far[10] = 5
	m := idCoverage()
	for _, tc := range []struct {
		name    string
		samples []float32
		want    float64
	}{
		{"two of three people", append(descriptorsAround(centre(0), 5, 0.3, rng), descriptorsAround(centre(2), 5, 0.3, rng)...), 2.0 / 3},
		{"every person", append(append(descriptorsAround(centre(0), 1, 0.2, rng), descriptorsAround(centre(1), 1, 0.2, rng)...), descriptorsAround(centre(2), 1, 0.2, rng)...), 1},
		{"no one", descriptorsAround(far, 20, 0.3, rng), 0},
		{"one sample on one person", descriptorsAround(centre(1), 1, 0, rng), 1.0 / 3},
	} {
		v, proto, ok := m.score(real, tc.samples)
		if !ok || v != tc.want {
			t.Errorf("%s: %v (ok %v), want %v", tc.name, v, ok, tc.want)
		}
		if !strings.Contains(proto, "3 test people") || !strings.Contains(proto, "0.6") {
			t.Errorf("%s: protocol %q does not say what was counted", tc.name, proto)
		}
	}
	if _, _, ok := m.score(faceImages{desc: real.desc}, real.desc); ok {
		t.Error("computed without identity labels")
	}
	// A sample exactly at 0.6 from a person's mean does not count (dlib's
	// rule is distance < 0.6); at 0.59 it does.
	at := func(d float64) []float32 {
		s := make([]float32, metrics.DlibDim)
		c := centre(0)
		for k := range s {
			s[k] = float32(c[k])
		}
		s[50] += float32(d)
		return s
	}
	one := faceImages{desc: at(0), labels: []int{7}}
	if v, _, _ := m.score(one, at(0.6)); v != 0 {
		t.Errorf("a sample at distance 0.6 counted")
	}
	if v, _, _ := m.score(one, at(0.59)); v != 1 {
		t.Errorf("a sample at distance 0.59 did not count")
	}
}

// The catalogue presents it from the face-metric table alone.
func TestIDCoverageIsInTheCatalogue(t *testing.T) {
	c, ok := Lookup("samples/id_coverage")
	if !ok || c.Needs != "dlib" || c.Dir != HigherIsBetter {
		t.Errorf("catalogue entry %+v, %v", c, ok)
	}
}
