package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// KID is the kernel inception distance of Bińkowski et al. 2018, computed in a
// given feature space: the unbiased estimate of MMD² with the polynomial kernel
// k(x, y) = (x·y/d + 1)³, averaged over random subsets.
type KID struct {
	Mean, Std           float64
	Subsets, SubsetSize int
}

// KernelDistance computes KID over subsets of size m drawn from x and y. The
// kernel matrices are computed once over all samples; subsets index into them.
func KernelDistance(x, y *mat.Dense, subsets, m int, rng *rand.Rand) (KID, error) {
	nx, ny := rows(x), rows(y)
	m = min(m, nx, ny)
	if m < 2 || subsets < 1 {
		return KID{}, fmt.Errorf("KID: subset size %d, %d subsets", m, subsets)
	}
	_, d := x.Dims()
	return kernelDistance(polyKernel(x, x, d), polyKernel(y, y, d), polyKernel(x, y, d), subsets, m, rng), nil
}

// kernelDistance is KernelDistance from the kernel matrices, m at most the
// number of samples of each set.
func kernelDistance(kxx, kyy, kxy *mat.Dense, subsets, m int, rng *rand.Rand) KID {
	nx, ny := rows(kxx), rows(kyy)
	vals := make([]float64, subsets)
	for s := range subsets {
		a, b := rng.Perm(nx)[:m], rng.Perm(ny)[:m]
		var sxx, syy, sxy float64
		for i := range m {
			for j := range m {
				if i != j {
					sxx += kxx.At(a[i], a[j])
					syy += kyy.At(b[i], b[j])
				}
				sxy += kxy.At(a[i], b[j])
			}
		}
		fm := float64(m)
		vals[s] = sxx/(fm*(fm-1)) + syy/(fm*(fm-1)) - 2*sxy/(fm*fm)
	}
	mean, std := stat.MeanStdDev(vals, nil)
	if subsets == 1 {
		std = 0
	}
	return KID{Mean: mean, Std: std, Subsets: subsets, SubsetSize: m}
}

// polyKernel is the matrix of k(p_i, q_j) = (p_i·q_j/d + 1)³.
func polyKernel(p, q *mat.Dense, d int) *mat.Dense {
	var g mat.Dense
	g.Mul(p, q.T())
	raw := g.RawMatrix().Data
	for i, v := range raw {
		v = v/float64(d) + 1
		raw[i] = v * v * v
	}
	return &g
}

// PRDC holds precision and recall (Kynkäänniemi et al. 2019) and density and
// coverage (Naeem et al. 2020) of generated features against real ones.
type PRDC struct {
	Precision, Recall, Density, Coverage float64
	K                                    int
}

// PrecisionRecall compares real and fake feature sets through k-nearest-neighbour
// balls: precision is the share of fakes inside some real ball, recall the share
// of reals inside some fake ball, density the mean number of real balls holding
// a fake divided by k, coverage the share of real balls holding at least one fake.
func PrecisionRecall(real, fake *mat.Dense, k int) (PRDC, error) {
	nr, nf := rows(real), rows(fake)
	if k < 1 || k >= nr || k >= nf {
		return PRDC{}, fmt.Errorf("precision/recall: k = %d with %d real and %d fake samples", k, nr, nf)
	}
	drr, dff, drf := pairwiseDist(real, real), pairwiseDist(fake, fake), pairwiseDist(real, fake)
	rr, rf := kthNeighbour(drr, k), kthNeighbour(dff, k)
	out := PRDC{K: k}
	covered := make([]bool, nr)
	for j := range nf {
		inReal, count := false, 0
		for i := range nr {
			if drf.At(i, j) <= rr[i] {
				inReal = true
				count++
				covered[i] = true
			}
		}
		if inReal {
			out.Precision++
		}
		out.Density += float64(count)
	}
	for i := range nr {
		for j := range nf {
			if drf.At(i, j) <= rf[j] {
				out.Recall++
				break
			}
		}
		if covered[i] {
			out.Coverage++
		}
	}
	out.Precision /= float64(nf)
	out.Density /= float64(k * nf)
	out.Recall /= float64(nr)
	out.Coverage /= float64(nr)
	return out, nil
}

// pairwiseDist returns Euclidean distances between the rows of a and of b.
func pairwiseDist(a, b *mat.Dense) *mat.Dense {
	var g mat.Dense
	g.Mul(a, b.T())
	na, nb := rows(a), rows(b)
	sqA, sqB := rowNorms2(a), rowNorms2(b)
	out := mat.NewDense(na, nb, nil)
	for i := range na {
		for j := range nb {
			out.Set(i, j, math.Sqrt(math.Max(sqA[i]+sqB[j]-2*g.At(i, j), 0)))
		}
	}
	return out
}

func rowNorms2(a *mat.Dense) []float64 {
	n := rows(a)
	out := make([]float64, n)
	for i := range n {
		for _, v := range a.RawRowView(i) {
			out[i] += v * v
		}
	}
	return out
}

// kthNeighbour is, for each row of a square distance matrix, the distance to
// its k-th nearest other point.
func kthNeighbour(d *mat.Dense, k int) []float64 {
	n := rows(d)
	out := make([]float64, n)
	row := make([]float64, n)
	for i := range n {
		copy(row, d.RawRowView(i))
		sort.Float64s(row) // row[0] is the point itself, at distance 0
		out[i] = row[k]
	}
	return out
}
