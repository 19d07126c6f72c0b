package vae

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

func gmmSettings() []Setting {
	return []Setting{
		IntSetting("gmm_components", 10, "K, the mixture's components (at most the number of training images)", intBetween(1, 1000)),
	}
}

func newGMMSampler(c EvalConfig) Sampler { return &gmmSampler{components: c.Int("gmm_components")} }

// gmmSampler draws from a K-component full-covariance Gaussian mixture
// fitted by EM to the training images' posterior means: the ex-post density
// estimate of Ghosh et al. 2020 (RAE), which samples where the aggregate
// posterior has mass instead of where the prior does.
type gmmSampler struct {
	components int
	mix        *gaussianMixture
}

func (s *gmmSampler) NeedsLatents() bool { return true }

func (s *gmmSampler) Fit(ctx context.Context, m *Model, codes Codes, rng *rand.Rand) error {
	mu := codes.Mu
	d := m.cfg.Latent
	n := len(mu) / d
	if n < s.components {
		return fmt.Errorf("eval.gmm_components: %d components for %d training images; give at most %d", s.components, n, n)
	}
	mix, _, err := fitMixture(ctx, mu, d, s.components, rng)
	s.mix = mix
	return err
}

func (s *gmmSampler) Draw(_ context.Context, rng *rand.Rand, n int) ([]float64, error) {
	return s.mix.sample(rng, n), nil
}

// gaussianMixture is a mixture of full-covariance Gaussians in d dimensions.
type gaussianMixture struct {
	d       int
	weights []float64
	means   [][]float64
	chol    []*mat.Cholesky // of each covariance
	lower   []*mat.TriDense // the factor L of each, Σ = L·Lᵀ
}

// EM settings: iterations at most, and the relative change of the objective
// below which EM stops; floorScale sets the covariance floor λ as a share of
// the data's mean per-dimension variance.
const (
	emMaxIter  = 200
	emTol      = 1e-8
	floorScale = 1e-3
)

// fitMixture fits k components to the n×d row-major points x by EM from a
// k-means++ start drawn with rng. The covariance floor is a MAP update,
// Σ = (S + λI)/N_k, the maximiser of the log-likelihood minus
// Σ_k (λ/2)·tr(Σ_k⁻¹): it keeps every covariance at least λ/N_k·I and, being
// an exact M-step of that objective, keeps EM's guarantee that the objective
// never decreases. It returns the objective after each iteration.
func fitMixture(ctx context.Context, x []float64, d, k int, rng *rand.Rand) (*gaussianMixture, []float64, error) {
	n := len(x) / d
	if n < k || k < 1 {
		return nil, nil, fmt.Errorf("fit a %d-component mixture to %d points", k, n)
	}
	lambda := floorScale * meanVariance(x, d)
	if lambda == 0 {
		lambda = floorScale
	}
	g := &gaussianMixture{d: d}
	resp := make([]float64, n*k)
	for i, c := range kmeansPlusPlus(x, d, k, rng) {
		resp[i*k+c] = 1
	}
	var history []float64
	for it := range emMaxIter {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if err := g.maximise(x, resp, k, lambda); err != nil {
			return nil, nil, err
		}
		ll := g.expect(x, resp)
		for _, c := range g.chol {
			ll -= lambda / 2 * traceInverse(c, d)
		}
		history = append(history, ll)
		if it > 0 && math.Abs(ll-history[it-1]) <= emTol*math.Abs(ll) {
			break
		}
	}
	return g, history, nil
}

// kmeansPlusPlus picks k centres among the points (each next one with
// probability proportional to its squared distance to the nearest centre so
// far) and returns the index of each point's nearest centre.
func kmeansPlusPlus(x []float64, d, k int, rng *rand.Rand) []int {
	n := len(x) / d
	row := func(i int) []float64 { return x[i*d : (i+1)*d] }
	dist := make([]float64, n)
	nearest := make([]int, n)
	for i := range dist {
		dist[i] = math.Inf(1)
	}
	centre := rng.IntN(n)
	for c := range k {
		total := 0.0
		for i := range n {
			if d2 := sqDist(row(i), row(centre)); d2 < dist[i] {
				dist[i], nearest[i] = d2, c
			}
			total += dist[i]
		}
		if c == k-1 {
			break
		}
		u := rng.Float64() * total
		centre = n - 1
		for i, v := range dist {
			if u -= v; u < 0 {
				centre = i
				break
			}
		}
	}
	return nearest
}

// maximise sets weights, means and floored covariances from the
// responsibilities (n×k).
func (g *gaussianMixture) maximise(x, resp []float64, k int, lambda float64) error {
	d, n := g.d, len(x)/g.d
	g.weights, g.means, g.chol, g.lower = make([]float64, k), make([][]float64, k), make([]*mat.Cholesky, k), make([]*mat.TriDense, k)
	for c := range k {
		nk := 0.0
		mean := make([]float64, d)
		for i := range n {
			r := resp[i*k+c]
			nk += r
			for j := range d {
				mean[j] += r * x[i*d+j]
			}
		}
		nk = math.Max(nk, 1e-300) // an emptied component keeps the floor as covariance
		for j := range mean {
			mean[j] /= nk
		}
		cov := mat.NewSymDense(d, nil)
		for i := range n {
			r := resp[i*k+c]
			if r == 0 {
				continue
			}
			for a := range d {
				da := x[i*d+a] - mean[a]
				for b := a; b < d; b++ {
					cov.SetSym(a, b, cov.At(a, b)+r*da*(x[i*d+b]-mean[b]))
				}
			}
		}
		for a := range d {
			cov.SetSym(a, a, cov.At(a, a)+lambda)
		}
		cov.ScaleSym(1/nk, cov)
		var ch mat.Cholesky
		if !ch.Factorize(cov) {
			return fmt.Errorf("mixture component %d: covariance not positive definite", c)
		}
		var l mat.TriDense
		ch.LTo(&l)
		g.weights[c], g.means[c], g.chol[c], g.lower[c] = nk/float64(n), mean, &ch, &l
	}
	return nil
}

// expect fills the responsibilities (n×k) and returns the log-likelihood.
func (g *gaussianMixture) expect(x, resp []float64) float64 {
	k, ll := len(g.weights), 0.0
	logp := make([]float64, k)
	for i := range len(x) / g.d {
		for c := range k {
			logp[c] = math.Log(g.weights[c]) + g.logDensity(c, x[i*g.d:(i+1)*g.d])
		}
		lse := floats.LogSumExp(logp)
		for c := range k {
			resp[i*k+c] = math.Exp(logp[c] - lse)
		}
		ll += lse
	}
	return ll
}

// logDensity is log N(z | μ_c, Σ_c).
func (g *gaussianMixture) logDensity(c int, z []float64) float64 {
	diff := mat.NewVecDense(g.d, nil)
	for j := range z {
		diff.SetVec(j, z[j]-g.means[c][j])
	}
	var y mat.VecDense
	if err := y.SolveVec(g.lower[c], diff); err != nil {
		return math.Inf(-1)
	}
	maha := mat.Dot(&y, &y)
	return -0.5 * (maha + g.chol[c].LogDet() + float64(g.d)*math.Log(2*math.Pi))
}

// logProb is log Σ_c w_c N(z | μ_c, Σ_c).
func (g *gaussianMixture) logProb(z []float64) float64 {
	logp := make([]float64, len(g.weights))
	for c := range logp {
		logp[c] = math.Log(g.weights[c]) + g.logDensity(c, z)
	}
	return floats.LogSumExp(logp)
}

// sample draws n points: a component by weight, then μ + Lε.
func (g *gaussianMixture) sample(rng *rand.Rand, n int) []float64 {
	out := make([]float64, 0, n*g.d)
	eps := make([]float64, g.d)
	for range n {
		c := pickWeighted(rng, g.weights)
		for j := range eps {
			eps[j] = rng.NormFloat64()
		}
		var z mat.VecDense
		z.MulVec(g.lower[c], mat.NewVecDense(g.d, eps))
		for j := range g.d {
			out = append(out, g.means[c][j]+z.AtVec(j))
		}
	}
	return out
}

func traceInverse(c *mat.Cholesky, d int) float64 {
	var inv mat.SymDense
	if err := c.InverseTo(&inv); err != nil {
		return math.Inf(1)
	}
	t := 0.0
	for j := range d {
		t += inv.At(j, j)
	}
	return t
}

func meanVariance(x []float64, d int) float64 {
	n := len(x) / d
	total := 0.0
	for j := range d {
		mean, sq := 0.0, 0.0
		for i := range n {
			mean += x[i*d+j]
		}
		mean /= float64(n)
		for i := range n {
			sq += (x[i*d+j] - mean) * (x[i*d+j] - mean)
		}
		total += sq / float64(n)
	}
	return total / float64(d)
}

func sqDist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += (a[i] - b[i]) * (a[i] - b[i])
	}
	return s
}

func (s *gmmSampler) Key() string { return fmt.Sprintf("components=%d", s.components) }

// gmmFit is the stored form of a fitted mixture: each covariance by its
// lower Cholesky factor (row-major d×d), from which the fit is rebuilt
// exactly.
type gmmFit struct {
	Weights []float64   `json:"weights"`
	Means   [][]float64 `json:"means"`
	Lower   [][]float64 `json:"lower"`
}

func (s *gmmSampler) MarshalFit() ([]byte, error) {
	g := s.mix
	f := gmmFit{Weights: g.weights, Means: g.means}
	for _, l := range g.lower {
		f.Lower = append(f.Lower, mat.DenseCopyOf(l).RawMatrix().Data)
	}
	return json.Marshal(f)
}

func (s *gmmSampler) UnmarshalFit(m *Model, b []byte) error {
	var f gmmFit
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	d, k := m.cfg.Latent, len(f.Weights)
	if k != s.components || len(f.Means) != k || len(f.Lower) != k {
		return fmt.Errorf("gmm fit: %d weights, %d means and %d factors for %d components", k, len(f.Means), len(f.Lower), s.components)
	}
	g := &gaussianMixture{d: d, weights: f.Weights, means: f.Means}
	for c := range k {
		if len(f.Means[c]) != d || len(f.Lower[c]) != d*d {
			return fmt.Errorf("gmm fit: component %d does not have %d dimensions", c, d)
		}
		l := mat.NewTriDense(d, mat.Lower, f.Lower[c])
		u := mat.NewTriDense(d, mat.Upper, nil)
		for i := range d {
			for j := i; j < d; j++ {
				u.SetTri(i, j, l.At(j, i))
			}
		}
		var ch mat.Cholesky
		ch.SetFromU(u)
		g.chol, g.lower = append(g.chol, &ch), append(g.lower, l)
	}
	s.mix = g
	return nil
}
