// Package metrics holds pure functions over images and features that score VAEs:
// sample-quality distances, sharpness, posterior health, disentanglement and stability.
package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// Gaussian is the mean and covariance of a set of feature vectors.
type Gaussian struct {
	Mean []float64
	Cov  *mat.SymDense
}

// FitGaussian fits the sample mean and the unbiased sample covariance of the
// rows of x (n × d, n ≥ 2).
func FitGaussian(x *mat.Dense) (Gaussian, error) {
	n, d := x.Dims()
	if n < 2 {
		return Gaussian{}, fmt.Errorf("fit Gaussian: %d samples, need at least 2", n)
	}
	g := Gaussian{Mean: make([]float64, d), Cov: mat.NewSymDense(d, nil)}
	for j := range d {
		g.Mean[j] = stat.Mean(mat.Col(nil, j, x), nil)
	}
	stat.CovarianceMatrix(g.Cov, x, nil)
	return g, nil
}

// FrechetDistance is the squared Fréchet (2-Wasserstein) distance between two
// Gaussians: |μ1 − μ2|² + Tr(Σ1 + Σ2 − 2 (Σ1^½ Σ2 Σ1^½)^½). The matrix root is
// taken through symmetric eigendecompositions, so it stays real and exact for
// singular (rank-deficient) covariances.
func FrechetDistance(a, b Gaussian) (float64, error) {
	ref, err := NewReference(a)
	if err != nil {
		return 0, err
	}
	return ref.Distance(b)
}

// Reference is a Gaussian prepared for many Fréchet distances to it: its
// covariance's square root is computed once.
type Reference struct {
	Gaussian
	root *mat.Dense
}

// NewReference prepares g as the first argument of Fréchet distances.
func NewReference(g Gaussian) (*Reference, error) {
	root, err := symSqrt(g.Cov)
	if err != nil {
		return nil, err
	}
	return &Reference{Gaussian: g, root: root}, nil
}

// Distance is the Fréchet distance from the reference to b.
func (r *Reference) Distance(b Gaussian) (float64, error) {
	d := len(r.Mean)
	if len(b.Mean) != d || b.Cov.SymmetricDim() != d {
		return 0, fmt.Errorf("Fréchet distance: dimensions %d and %d differ", d, len(b.Mean))
	}
	meanTerm := 0.0
	for i := range d {
		diff := r.Mean[i] - b.Mean[i]
		meanTerm += diff * diff
	}
	var m mat.Dense
	m.Mul(r.root, b.Cov)
	m.Mul(&m, r.root)
	sym := mat.NewSymDense(d, nil)
	for i := range d {
		for j := i; j < d; j++ {
			sym.SetSym(i, j, (m.At(i, j)+m.At(j, i))/2)
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(sym, false) {
		return 0, fmt.Errorf("Fréchet distance: eigendecomposition did not converge")
	}
	traceRoot := 0.0
	for _, v := range eig.Values(nil) {
		traceRoot += math.Sqrt(math.Max(v, 0))
	}
	fd := meanTerm + mat.Trace(r.Cov) + mat.Trace(b.Cov) - 2*traceRoot
	return math.Max(fd, 0), nil
}

// DistanceTo fits a Gaussian to the rows of x and returns its distance from the reference.
func (r *Reference) DistanceTo(x *mat.Dense) (float64, error) {
	g, err := FitGaussian(x)
	if err != nil {
		return 0, err
	}
	return r.Distance(g)
}

// symSqrt returns the symmetric square root of a positive semi-definite matrix.
func symSqrt(s *mat.SymDense) (*mat.Dense, error) {
	var eig mat.EigenSym
	if !eig.Factorize(s, true) {
		return nil, fmt.Errorf("matrix square root: eigendecomposition did not converge")
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	d := len(vals)
	scaled := mat.NewDense(d, d, nil)
	for j, v := range vals {
		r := math.Sqrt(math.Max(v, 0))
		for i := range d {
			scaled.Set(i, j, vecs.At(i, j)*r)
		}
	}
	var root mat.Dense
	root.Mul(scaled, vecs.T())
	return &root, nil
}

// FrechetFeatures is the Fréchet distance between Gaussian fits of two feature sets.
func FrechetFeatures(x, y *mat.Dense) (float64, error) {
	a, err := FitGaussian(x)
	if err != nil {
		return 0, err
	}
	b, err := FitGaussian(y)
	if err != nil {
		return 0, err
	}
	return FrechetDistance(a, b)
}

// FrechetUnbiased estimates the Fréchet distance from the reference at an
// infinite number of samples of x (Chong & Forsyth 2020): FD is computed on
// random subsets of x of sizes spread between n/4 and n, and a line
// FD = FD∞ + c/N is fitted; its intercept is FD∞. fdAll is the distance for
// all of x, already known to the caller.
func (r *Reference) FrechetUnbiased(x *mat.Dense, fdAll float64, points int, rng *rand.Rand) (float64, error) {
	n := rows(x)
	if points < 2 || n < 8 {
		return 0, fmt.Errorf("bias-corrected FD: %d points over %d samples", points, n)
	}
	inv, fd := make([]float64, points), make([]float64, points)
	inv[points-1], fd[points-1] = 1/float64(n), fdAll
	for p := range points - 1 {
		size := n/4 + (n-n/4)*p/(points-1)
		v, err := r.DistanceTo(subsetRows(x, size, rng))
		if err != nil {
			return 0, err
		}
		inv[p], fd[p] = 1/float64(size), v
	}
	intercept, _ := stat.LinearRegression(inv, fd, nil, false)
	return intercept, nil
}

func rows(x *mat.Dense) int { r, _ := x.Dims(); return r }

// subsetRows draws size distinct rows of x.
func subsetRows(x *mat.Dense, size int, rng *rand.Rand) *mat.Dense {
	n, d := x.Dims()
	out := mat.NewDense(size, d, nil)
	for i, r := range rng.Perm(n)[:size] {
		out.SetRow(i, x.RawRowView(r))
	}
	return out
}
