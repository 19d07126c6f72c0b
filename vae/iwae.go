package vae

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"

	"github.com/vaelab/vaelab/data"

	"github.com/vaelab/vaelab/vae/internal/ops"
)

// Encode returns the posterior mean and log-variance of every image of im
// (n × latent each, row-major).
func (m *Model) Encode(ctx context.Context, im data.Images, batch int) (mu, logvar []float64, err error) {
	L := m.cfg.Latent
	err = m.forEachBatch(ctx, im, batch, func(r *readouts, n int) {
		mu = append(mu, ops.Values64(r.mu)[:n*L]...)
		logvar = append(logvar, ops.Values64(r.logvar)[:n*L]...)
	}, func(n int) []float64 { return make([]float64, n) })
	return mu, logvar, err
}

// IWAE estimates the importance-weighted bound of Burda et al. 2016 with k
// samples per image, averaged over im, in nats per image:
// log (1/k) Σ_i p(x, z_i)/q(z_i|x), z_i ~ q(z|x). It is at least the ELBO (k = 1)
// in expectation and tightens as k grows; ε comes from rng.
func (m *Model) IWAE(ctx context.Context, im data.Images, k, batch int, rng *rand.Rand) (float64, error) {
	if k < 1 {
		return 0, fmt.Errorf("IWAE: k = %d", k)
	}
	logw := make([][]float64, im.N) // per image, the k log weights
	row := 0
	// k passes over im in one graph; each pass draws its ε in image order.
	err := m.forEachBatchPasses(ctx, im, batch, k, func(r *readouts, n int) {
		logpx, ratio := ops.Values64(r.logpx), ops.Values64(r.logRatio)
		for i := range n {
			logw[row+i] = append(logw[row+i], logpx[i]+ratio[i])
		}
		row = (row + n) % im.N
	}, func(n int) []float64 { return normals(rng, n) })
	if err != nil {
		return 0, fmt.Errorf("IWAE: %w", err)
	}
	total := 0.0
	for _, w := range logw {
		total += floats.LogSumExp(w) - math.Log(float64(k))
	}
	return total / float64(im.N), nil
}
