package vae

import (
	"context"
	"math"
	"testing"

	"github.com/vaelab/vaelab/data"

	"github.com/vaelab/vaelab/vae/internal/ops"
)

// TestLearnedSigmaTracksReconstructionError: the σ-VAE's single σ, started at
// 1, moves to the root-mean-square reconstruction error per pixel (the σ that
// maximises the Gaussian likelihood of the residuals).
func TestLearnedSigmaTracksReconstructionError(t *testing.T) {
	train, test := smallFaces(t)
	s := smallSetup(5)
	s.Model.Likelihood = "gaussian_learned"
	s.Model = s.Model.With("sigma", 1.0)
	s.Train.Epochs, s.Train.LearningRate = 30, 1e-2 // Adam moves log σ by at most about lr per step
	m, res, err := Train(context.Background(), s, train, test, &recording{})
	if err != nil || res.Diverged() {
		t.Fatalf("train: %v %+v", err, res)
	}
	sigma, rmse := sigmaAndRMSE(t, m, train)
	t.Logf("learned σ %.4f (started at 1), reconstruction RMSE %.4f", sigma, rmse)
	if !(sigma < 0.3) || math.Abs(sigma-rmse) > 0.15*rmse {
		t.Fatalf("learned σ %.4f did not move from 1 to near the reconstruction RMSE %.4f", sigma, rmse)
	}
}

// TestOptimalSigmaIsTheBatchRMSE: with gaussian_optimal, σ is set after every
// step to the step's root-mean-square error, so after a few epochs from σ = 1
// it sits at the reconstruction RMSE, where gaussian_learned at the default
// learning rate would still be near its start.
func TestOptimalSigmaIsTheBatchRMSE(t *testing.T) {
	train, test := smallFaces(t)
	sigmaAfter := func(likelihood string) (sigma, rmse float64) {
		s := smallSetup(5)
		s.Model.Likelihood = likelihood
		s.Model = s.Model.With("sigma", 1.0)
		s.Train.Epochs = 4
		m, res, err := Train(context.Background(), s, train, test, &recording{})
		if err != nil || res.Diverged() {
			t.Fatalf("%s: %v %+v", likelihood, err, res)
		}
		return sigmaAndRMSE(t, m, train)
	}
	opt, rmse := sigmaAfter("gaussian_optimal")
	learned, _ := sigmaAfter("gaussian_learned")
	t.Logf("after 4 epochs from σ = 1: optimal σ %.4f (reconstruction RMSE %.4f), learned σ %.4f", opt, rmse, learned)
	if math.Abs(opt-rmse) > 0.2*rmse {
		t.Errorf("optimal σ %.4f is not near the reconstruction RMSE %.4f", opt, rmse)
	}
	if !(learned > 2*opt) {
		t.Errorf("learned σ %.4f already near the optimum %.4f: the comparison shows nothing", learned, opt)
	}
}

// sigmaAndRMSE returns the model's single σ and its root-mean-square
// reconstruction error per pixel on im (decoder means at z = μ).
func sigmaAndRMSE(t *testing.T, m *Model, im data.Images) (sigma, rmse float64) {
	t.Helper()
	recon, err := m.Reconstruct(context.Background(), im, 50)
	if err != nil {
		t.Fatal(err)
	}
	se := 0.0
	for i := range recon.Pix {
		d := float64(recon.Pix[i] - im.Pix[i])
		se += d * d
	}
	return math.Exp(ops.Values64(m.params[m.logSigma].Value)[0]), math.Sqrt(se / float64(len(recon.Pix)))
}
