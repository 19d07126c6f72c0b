package vae

import (
	"context"
	"fmt"
	"slices"

	"github.com/vaelab/vaelab/data"
)

// GridRecorder is a Recorder that also keeps the small image grids training
// makes every eval.grid_every epochs: Train calls Grid after an epoch's
// Epoch. A Recorder without it gets no grids, and training is the same.
type GridRecorder interface {
	Recorder
	// Grid receives the grid made after epoch epoch, at step step, of cols
	// columns.
	Grid(step, epoch int, im data.Images, cols int) error
}

// trainingGridColumns is the images per row of a training grid: a row of
// test images, a row of their reconstructions and a row of decoded fixed
// latents.
const trainingGridColumns = 8

// trainingGridSeed seeds the grid's latents. It is fixed, not the run's
// seed, so that every run of an experiment (every seed, every
// configuration with the same latent size and prior) decodes the same
// codes and their faces can be compared side by side. The draws come from
// their own generator: no other stream of the run moves.
const trainingGridSeed = 0

// GridEpochs is the epochs between training grids for a training of epochs
// epochs: eval.grid_every, or by default one every epochs/20 (rounded up),
// about 20 per run.
func (c EvalConfig) GridEpochs(epochs int) int {
	if c.GridEvery > 0 {
		return c.GridEvery
	}
	return max(1, (epochs+19)/20)
}

// gridDue says whether a grid is made after epoch of epochs: every
// GridEpochs, and after the last.
func gridDue(c EvalConfig, epoch, epochs int) bool {
	return epoch%c.GridEpochs(epochs) == 0 || epoch == epochs
}

// TrainingGrid is the grid training stores: the first test images, their
// reconstructions (decoder means at the posterior mean) and the decoder
// means of fixed draws from the prior, a row each.
func (m *Model) TrainingGrid(ctx context.Context, test data.Images) (data.Images, int, error) {
	n := min(trainingGridColumns, test.N)
	if n == 0 {
		return data.Images{}, 0, fmt.Errorf("training grid: no test images")
	}
	real := test.First(n)
	rec, err := m.Reconstruct(ctx, real, n)
	if err != nil {
		return data.Images{}, 0, fmt.Errorf("training grid: %w", err)
	}
	z := m.prior.Sample(NewRand(trainingGridSeed, StreamSamples), n, m.cfg.Latent)
	gen, err := m.Decode(ctx, z, real)
	if err != nil {
		return data.Images{}, 0, fmt.Errorf("training grid: %w", err)
	}
	pix := slices.Concat(real.Values(), rec.Pix, gen.Pix)
	return data.Images{N: 3 * n, Height: real.Height, Width: real.Width, Channels: real.Channels, Pix: pix}, n, nil
}
