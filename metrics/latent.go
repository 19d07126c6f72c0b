package metrics

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/stat"
)

// ActiveUnitThreshold is Burda et al.'s (2016) threshold on Cov_x(E_q[z_i]).
const ActiveUnitThreshold = 0.01

// Posterior summarises the encoder over a set of images.
type Posterior struct {
	// KLPerDim is the mean over images of each latent dimension's KL to N(0, 1), in nats.
	KLPerDim []float64
	// Variance of each dimension's posterior mean across images; ActiveUnits
	// counts those above ActiveUnitThreshold.
	MeanVariance []float64
	ActiveUnits  int
	// Collapsed is true when no unit is active: the decoder ignores z.
	Collapsed bool
}

// PosteriorHealth computes Posterior from per-image μ and log σ² (n × L, row-major).
func PosteriorHealth(mu, logvar []float64, n, latent int) (Posterior, error) {
	if n < 2 || len(mu) != n*latent || len(logvar) != n*latent {
		return Posterior{}, fmt.Errorf("posterior health: %d μ and %d log σ² values for %d images of %d dims", len(mu), len(logvar), n, latent)
	}
	p := Posterior{KLPerDim: make([]float64, latent), MeanVariance: make([]float64, latent)}
	col := make([]float64, n)
	for j := range latent {
		for i := range n {
			m, lv := mu[i*latent+j], logvar[i*latent+j]
			p.KLPerDim[j] += 0.5 * (m*m + math.Exp(lv) - lv - 1) / float64(n)
			col[i] = m
		}
		p.MeanVariance[j] = stat.Variance(col, nil)
		if p.MeanVariance[j] > ActiveUnitThreshold {
			p.ActiveUnits++
		}
	}
	p.Collapsed = p.ActiveUnits == 0
	return p, nil
}

// misBins is the number of equal-width bins used to discretise codes and
// factors for mutual information (as in Locatello et al. 2019).
const misBins = 20

// MIG is the mutual information gap of Chen et al. 2018: for each factor, the
// gap between the two latents most informative about it, over the factor's
// entropy, averaged over factors. codes is n × L, factors n × K, row-major.
func MIG(codes []float64, latent int, factors []float64, k int) (float64, error) {
	n, err := pairShape(codes, latent, factors, k)
	if err != nil {
		return 0, err
	}
	zb, vb := discretise(codes, n, latent), discretise(factors, n, k)
	total := 0.0
	for f := range k {
		h := entropy(vb[f])
		if h == 0 {
			continue
		}
		mis := make([]float64, latent)
		for j := range latent {
			mis[j] = mutualInfo(zb[j], vb[f])
		}
		sort.Sort(sort.Reverse(sort.Float64Slice(mis)))
		second := 0.0
		if latent > 1 {
			second = mis[1]
		}
		total += (mis[0] - second) / h
	}
	return total / float64(k), nil
}

// SAP is the separated attribute predictability of Kumar et al. 2018, for
// continuous factors: for each factor, the R² of a linear fit from each latent
// alone; the gap between the best two, averaged over factors.
func SAP(codes []float64, latent int, factors []float64, k int) (float64, error) {
	n, err := pairShape(codes, latent, factors, k)
	if err != nil {
		return 0, err
	}
	z, v := make([]float64, n), make([]float64, n)
	total := 0.0
	for f := range k {
		r2 := make([]float64, latent)
		for j := range latent {
			for i := range n {
				z[i], v[i] = codes[i*latent+j], factors[i*k+f]
			}
			if c := stat.Correlation(z, v, nil); !math.IsNaN(c) {
				r2[j] = c * c
			}
		}
		sort.Sort(sort.Reverse(sort.Float64Slice(r2)))
		second := 0.0
		if latent > 1 {
			second = r2[1]
		}
		total += r2[0] - second
	}
	return total / float64(k), nil
}

func pairShape(codes []float64, latent int, factors []float64, k int) (int, error) {
	if latent < 1 || k < 1 || len(codes)%latent != 0 || len(factors)%k != 0 || len(codes)/latent != len(factors)/k || len(codes)/latent < 2 {
		return 0, fmt.Errorf("disentanglement: %d code values of %d dims and %d factor values of %d", len(codes), latent, len(factors), k)
	}
	return len(codes) / latent, nil
}

// discretise bins each column of an n × d matrix into misBins equal-width bins.
func discretise(x []float64, n, d int) [][]int {
	out := make([][]int, d)
	for j := range d {
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := range n {
			lo, hi = math.Min(lo, x[i*d+j]), math.Max(hi, x[i*d+j])
		}
		out[j] = make([]int, n)
		for i := range n {
			if hi > lo {
				out[j][i] = min(misBins-1, int((x[i*d+j]-lo)/(hi-lo)*misBins))
			}
		}
	}
	return out
}

// entropy and mutualInfo count bins in arrays, not maps: a map's random
// iteration order would change the sums in their last bits from call to call.
func entropy(a []int) float64 {
	var counts [misBins]float64
	for _, v := range a {
		counts[v]++
	}
	h, n := 0.0, float64(len(a))
	for _, c := range counts {
		if c > 0 {
			h -= c / n * math.Log(c/n)
		}
	}
	return h
}

func mutualInfo(a, b []int) float64 {
	var joint [misBins][misBins]float64
	var ca, cb [misBins]float64
	for i := range a {
		joint[a[i]][b[i]]++
		ca[a[i]]++
		cb[b[i]]++
	}
	n, mi := float64(len(a)), 0.0
	for x := range misBins {
		for y := range misBins {
			if c := joint[x][y]; c > 0 {
				mi += c / n * math.Log(c*n/(ca[x]*cb[y]))
			}
		}
	}
	return mi
}

// AggregateTC estimates the total correlation KL(q(z) ‖ Π_j q(z_j)) of the
// aggregate posterior q(z) = (1/n) Σ_i q(z|x_i) of n diagonal Gaussian
// posteriors (μ, log σ², n × L), in nats: the mean over i of log q(z_i) −
// Σ_j log q(z_ij) at codes z_i drawn from q(z|x_i) (eps holds their n × L
// standard normal draws), both densities being exact mixtures over all n
// posteriors. It is the full-set form of β-TCVAE's estimator (Chen et al.
// 2018), O(n²L).
func AggregateTC(mu, logvar, eps []float64, n, latent int) (float64, error) {
	if n < 2 || len(mu) != n*latent || len(logvar) != n*latent || len(eps) != n*latent {
		return 0, fmt.Errorf("aggregate TC: %d μ, %d log σ² and %d ε values for %d posteriors of %d dims", len(mu), len(logvar), len(eps), n, latent)
	}
	L := latent
	z := make([]float64, n*L)
	inv := make([]float64, n*L)
	norm := make([]float64, n*L) // −½(log σ² + log 2π)
	for i := range z {
		z[i] = mu[i] + math.Exp(logvar[i]/2)*eps[i]
		inv[i] = math.Exp(-logvar[i])
		norm[i] = -0.5 * (logvar[i] + math.Log(2*math.Pi))
	}
	joint := make([]float64, n)
	dims := make([][]float64, L)
	for d := range dims {
		dims[d] = make([]float64, n)
	}
	tc := 0.0
	for i := range n {
		for j := range n {
			s := 0.0
			for d := range L {
				diff := z[i*L+d] - mu[j*L+d]
				v := norm[j*L+d] - 0.5*diff*diff*inv[j*L+d]
				dims[d][j] = v
				s += v
			}
			joint[j] = s
		}
		tc += floats.LogSumExp(joint)
		for d := range L {
			tc -= floats.LogSumExp(dims[d])
		}
	}
	// Each log-sum-exp is of a mean over n posteriors: −log n per density,
	// once for the joint and L times for the marginals.
	return tc/float64(n) + float64(L-1)*math.Log(float64(n)), nil
}
