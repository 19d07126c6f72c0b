package metrics

import (
	"fmt"
	"math"
	"sort"
)

// Verification is how well a descriptor space tells people apart: over all
// pairs of images with known identities, the ROC AUC of descriptor
// distances for "same person" against "different people".
type Verification struct {
	AUC        float64 // P(a same-person distance < a different-person one), ties half
	Same, Diff int     // pairs of each kind
	// SameWithin is the share of same-person pairs closer than dlib's
	// same-person threshold 0.6.
	SameWithin float64
}

// VerifyPeople scores descriptors (n × dim, row-major) of images of the
// given people.
func VerifyPeople(desc []float32, dim int, person []int) (Verification, error) {
	n := len(person)
	if dim <= 0 || len(desc) != n*dim {
		return Verification{}, fmt.Errorf("verification: %d descriptor values for %d images of dimension %d", len(desc), n, dim)
	}
	var same, diff []float64
	for i := range n {
		for j := i + 1; j < n; j++ {
			dist := 0.0
			for k := range dim {
				v := float64(desc[i*dim+k] - desc[j*dim+k])
				dist += v * v
			}
			if person[i] == person[j] {
				same = append(same, math.Sqrt(dist))
			} else {
				diff = append(diff, math.Sqrt(dist))
			}
		}
	}
	if len(same) == 0 || len(diff) == 0 {
		return Verification{}, fmt.Errorf("verification: %d same-person and %d different-people pairs; it needs both", len(same), len(diff))
	}
	v := Verification{AUC: rocAUC(same, diff), Same: len(same), Diff: len(diff)}
	for _, d := range same {
		if d < DlibSamePerson {
			v.SameWithin++
		}
	}
	v.SameWithin /= float64(len(same))
	return v, nil
}

// rocAUC is the probability that a same-person distance is below a
// different-person one (ties count half), by sorting.
func rocAUC(same, diff []float64) float64 {
	d := append([]float64(nil), diff...)
	sort.Float64s(d)
	wins := 0.0
	for _, s := range same {
		lo := sort.SearchFloat64s(d, s)
		hi := lo
		for hi < len(d) && d[hi] == s {
			hi++
		}
		wins += float64(len(d)-hi) + 0.5*float64(hi-lo)
	}
	return wins / float64(len(same)*len(d))
}
