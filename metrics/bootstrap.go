package metrics

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// The image-sampling error of a distance between two sets of images.
//
// A Fréchet distance or a KID computed from N generated and N real images is
// an estimate: other draws of the same N images would give another value, and
// with a few dozen test images the difference can exceed the spread over
// seeds. The standard errors here are the bootstrap's (Efron & Tibshirani
// 1993): both sets are resampled with replacement, each on its own, the
// statistic is recomputed on every replicate from the features already
// extracted, and the standard deviation of the replicates is the SE. Features
// are never recomputed, so the cost is B times the statistic's alone.

// FrechetSE is the bootstrap standard error of the Fréchet distance between
// Gaussian fits of the rows of x and y (FrechetFeatures), from replicates
// resamplings of both sets. Each replicate's distance is computed as
// |μx − μy|² + Tr Σx + Tr Σy − 2‖Fx Fyᵀ‖*, with Σ = FᵀF: the trace of the
// matrix root is the nuclear norm of the factors' product, whose side is at
// most min(N, d), so a replicate costs no eigendecomposition of a d × d
// product when N is small (40 faces in a 128-d space) and one QR per set and
// one SVD of d × d otherwise.
func FrechetSE(ctx context.Context, x, y *mat.Dense, replicates int, rng *rand.Rand) (float64, error) {
	nx, d := x.Dims()
	ny, dy := y.Dims()
	if d != dy {
		return 0, fmt.Errorf("Fréchet distance SE: dimensions %d and %d differ", d, dy)
	}
	if nx < 2 || ny < 2 || replicates < 2 {
		return 0, fmt.Errorf("Fréchet distance SE: %d and %d samples, %d replicates; need at least 2 of each", nx, ny, replicates)
	}
	vals := make([]float64, replicates)
	wx, wy := make([]int, nx), make([]int, ny)
	for b := range replicates {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		resample(wx, rng)
		resample(wy, rng)
		v, err := frechetWeighted(x, wx, y, wy)
		if err != nil {
			return 0, fmt.Errorf("Fréchet distance SE, replicate %d: %w", b+1, err)
		}
		vals[b] = v
	}
	return stat.StdDev(vals, nil), nil
}

// resample draws len(w) indices with replacement and stores in w how often
// each was drawn.
func resample(w []int, rng *rand.Rand) {
	clear(w)
	for range w {
		w[rng.IntN(len(w))]++
	}
}

// frechetWeighted is the Fréchet distance between the Gaussian fits of x and
// y with row i taken wx[i] (wy[i]) times: the fits of the resampled sets.
func frechetWeighted(x *mat.Dense, wx []int, y *mat.Dense, wy []int) (float64, error) {
	mx, fx, err := weightedFactor(x, wx)
	if err != nil {
		return 0, err
	}
	my, fy, err := weightedFactor(y, wy)
	if err != nil {
		return 0, err
	}
	meanTerm := 0.0
	for i := range mx {
		diff := mx[i] - my[i]
		meanTerm += diff * diff
	}
	var c mat.Dense
	c.Mul(fx, fy.T())
	var svd mat.SVD
	if !svd.Factorize(&c, mat.SVDNone) {
		return 0, fmt.Errorf("SVD did not converge")
	}
	nuclear := 0.0
	for _, s := range svd.Values(nil) {
		nuclear += s
	}
	fd := meanTerm + frob2(fx) + frob2(fy) - 2*nuclear
	return math.Max(fd, 0), nil
}

// weightedFactor returns the mean of the rows of x taken w[i] times each and
// a factor F of their unbiased covariance, Σ = FᵀF: the centred rows, scaled
// by √(w[i]/(N−1)), or, when there are more of them than dimensions, the R of
// their QR decomposition (RᵀR is the same product, in d rows).
func weightedFactor(x *mat.Dense, w []int) ([]float64, *mat.Dense, error) {
	_, d := x.Dims()
	total, distinct := 0, 0
	for _, c := range w {
		total += c
		if c > 0 {
			distinct++
		}
	}
	if total < 2 {
		return nil, nil, fmt.Errorf("covariance of %d samples", total)
	}
	mean := make([]float64, d)
	for i, c := range w {
		if c == 0 {
			continue
		}
		for j, v := range x.RawRowView(i) {
			mean[j] += float64(c) * v
		}
	}
	for j := range mean {
		mean[j] /= float64(total)
	}
	f := mat.NewDense(distinct, d, nil)
	r := 0
	for i, c := range w {
		if c == 0 {
			continue
		}
		s := math.Sqrt(float64(c) / float64(total-1))
		row := f.RawRowView(r)
		for j, v := range x.RawRowView(i) {
			row[j] = s * (v - mean[j])
		}
		r++
	}
	if distinct <= d {
		return mean, f, nil
	}
	var qr mat.QR
	qr.Factorize(f)
	var full mat.Dense
	qr.RTo(&full)
	return mean, mat.DenseCopyOf(full.Slice(0, d, 0, d)), nil
}

// frob2 is the squared Frobenius norm, the trace of FᵀF.
func frob2(f *mat.Dense) float64 {
	s := 0.0
	r, _ := f.Dims()
	for i := range r {
		for _, v := range f.RawRowView(i) {
			s += v * v
		}
	}
	return s
}

// KernelDistanceSE is KernelDistance (the same value from the same draws of
// rng) with the bootstrap standard error of its mean, from replicates
// resamplings of both sets drawn from boot. The value averages unbiased
// MMD² estimates over random subsets, whose mean given the images is the
// estimate over all of them (each pair of images is as likely in a subset as
// any other); by the law of total variance its variance is that
// estimate's variance over draws of the images, bootstrapped here on the
// kernel matrices already computed, plus the subsets' own, Std²/Subsets.
// In a replicate, positions that repeat one image (about a third of them)
// are not paired with each other in the within-set sums: k(x, x) is no draw
// of the kernel between two images, and counting it would bias every
// replicate up and widen their spread.
func KernelDistanceSE(ctx context.Context, x, y *mat.Dense, subsets, m, replicates int, rng, boot *rand.Rand) (KID, float64, error) {
	nx, ny := rows(x), rows(y)
	m = min(m, nx, ny)
	if m < 2 || subsets < 1 || replicates < 2 {
		return KID{}, 0, fmt.Errorf("KID: subset size %d, %d subsets, %d replicates", m, subsets, replicates)
	}
	_, d := x.Dims()
	kxx, kyy, kxy := polyKernel(x, x, d), polyKernel(y, y, d), polyKernel(x, y, d)
	kid := kernelDistance(kxx, kyy, kxy, subsets, m, rng)
	if err := ctx.Err(); err != nil {
		return KID{}, 0, err
	}
	wx, wy := mat.NewDense(nx, replicates, nil), mat.NewDense(ny, replicates, nil)
	for b := range replicates {
		for range nx {
			i := boot.IntN(nx)
			wx.Set(i, b, wx.At(i, b)+1)
		}
		for range ny {
			i := boot.IntN(ny)
			wy.Set(i, b, wy.At(i, b)+1)
		}
	}
	var kwx, kwy, kxyWy mat.Dense
	kwx.Mul(kxx, wx)
	kwy.Mul(kyy, wy)
	kxyWy.Mul(kxy, wy)
	// within is the mean kernel between distinct images of a replicate:
	// (wᵀKw − Σ w²·k(a, a)) / (N² − Σ w²).
	within := func(k, w, kw *mat.Dense, b int) (float64, error) {
		n := rows(k)
		var s, ties, total float64
		for a := range n {
			c := w.At(a, b)
			s += c * kw.At(a, b)
			ties += c * c * k.At(a, a)
			total += c * c
		}
		pairs := float64(n)*float64(n) - total
		if pairs == 0 {
			return 0, fmt.Errorf("KID SE: a resampled set holds a single image")
		}
		return (s - ties) / pairs, nil
	}
	vals := make([]float64, replicates)
	for b := range replicates {
		vx, err := within(kxx, wx, &kwx, b)
		if err != nil {
			return KID{}, 0, err
		}
		vy, err := within(kyy, wy, &kwy, b)
		if err != nil {
			return KID{}, 0, err
		}
		cross := 0.0
		for a := range nx {
			cross += wx.At(a, b) * kxyWy.At(a, b)
		}
		vals[b] = vx + vy - 2*cross/(float64(nx)*float64(ny))
	}
	images := stat.Variance(vals, nil)
	return kid, math.Sqrt(images + kid.Std*kid.Std/float64(kid.Subsets)), nil
}
