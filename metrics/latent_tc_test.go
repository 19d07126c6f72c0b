package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// AggregateTC of posteriors N(m_i, s²I) with m_i ~ N(0, Σm): the aggregate
// tends to N(0, Σm + s²I), whose total correlation is ½(Σ_d log Σ_dd −
// log det Σ); with independent dimensions it is 0.
func TestAggregateTCMatchesGaussianClosedForm(t *testing.T) {
	const n, s = 1500, 0.8
	for _, tc := range []struct {
		name string
		rho  float64 // correlation of the two means' dimensions
	}{{"independent", 0}, {"correlated", 0.8}} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(4, 4))
			var est []float64
			for range 4 {
				mu, logvar, eps := make([]float64, 2*n), make([]float64, 2*n), make([]float64, 2*n)
				for i := range n {
					a, b := rng.NormFloat64(), rng.NormFloat64()
					mu[2*i], mu[2*i+1] = a, tc.rho*a+math.Sqrt(1-tc.rho*tc.rho)*b
					logvar[2*i], logvar[2*i+1] = 2*math.Log(s), 2*math.Log(s)
					eps[2*i], eps[2*i+1] = rng.NormFloat64(), rng.NormFloat64()
				}
				v, err := AggregateTC(mu, logvar, eps, n, 2)
				if err != nil {
					t.Fatal(err)
				}
				est = append(est, v)
			}
			m, sd := 0.0, 0.0
			for _, v := range est {
				m += v / float64(len(est))
			}
			for _, v := range est {
				sd += (v - m) * (v - m) / float64(len(est)-1)
			}
			se := math.Sqrt(sd / float64(len(est)))
			// Σ = [[1+s², ρ], [ρ, 1+s²]]: TC = −½ log(1 − ρ²/(1+s²)²).
			v := 1 + s*s
			want := -0.5 * math.Log(1-tc.rho*tc.rho/(v*v))
			if math.Abs(m-want) > 4*se+0.01 {
				t.Errorf("TC %.4f ± %.4f (s.e.), closed form %.4f", m, se, want)
			}
			t.Logf("TC %.4f ± %.4f, closed form %.4f", m, se, want)
		})
	}
	if _, err := AggregateTC([]float64{1, 2}, []float64{0, 0}, []float64{0}, 1, 2); err == nil {
		t.Error("one posterior: no error")
	}
}
