package runs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/record"
	"github.com/vaelab/vaelab/vae"
)

// Explorer decodes rows of images from finished runs' final checkpoints for
// the live view's latent explorer (it implements serve.Decoder). A loaded
// model and its dataset are kept for the next request of the same run, at
// most keepModels of them: moving a slider asks for many rows in a row.
type Explorer struct {
	st     *Store
	loader *data.Loader

	mu     sync.Mutex
	models []loaded // most recently used last
}

type loaded struct {
	id string
	m  *vae.Model
	ds *data.Dataset
}

const keepModels = 2

// NewExplorer decodes from the runs of st, loading datasets with loader.
func NewExplorer(st *Store, loader *data.Loader) *Explorer { return &Explorer{st: st, loader: loader} }

// badDecode is a request the run cannot answer; the view answers it 400.
type badDecode struct{ msg string }

func (e badDecode) Error() string    { return e.msg }
func (e badDecode) BadRequest() bool { return true }

// model loads (or finds loaded) a run's trained model and dataset, checked
// against the store's record of its checkpoint as vaelab sample does.
func (e *Explorer) model(ctx context.Context, r record.RunInfo) (*vae.Model, *data.Dataset, error) {
	e.mu.Lock()
	for i, l := range e.models {
		if l.id == r.ID {
			e.models = append(append(e.models[:i:i], e.models[i+1:]...), l)
			e.mu.Unlock()
			return l.m, l.ds, nil
		}
	}
	e.mu.Unlock()
	var cfg experiments.RunConfig
	if err := json.Unmarshal([]byte(r.Config), &cfg); err != nil {
		return nil, nil, fmt.Errorf("run %s: stored config: %w", r.ID, err)
	}
	m, ds, err := LoadTrained(ctx, e.st, r, cfg, e.loader)
	if err != nil {
		return nil, nil, fmt.Errorf("run %s: %w", r.ID, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.models) == keepModels {
		e.models = e.models[1:]
	}
	e.models = append(e.models, loaded{r.ID, m, ds})
	return m, ds, nil
}

// codes encodes test images idx to their posterior means.
func codes(ctx context.Context, m *vae.Model, ds *data.Dataset, idx ...int) ([]float64, error) {
	for _, i := range idx {
		if i < 0 || i >= ds.Test.N {
			return nil, badDecode{fmt.Sprintf("test image %d: the run's test split has %d images (0 to %d)", i, ds.Test.N, ds.Test.N-1)}
		}
	}
	mu, _, err := m.Encode(ctx, ds.Test.View(idx), len(idx))
	return mu, err
}

func pngRow(ctx context.Context, m *vae.Model, ds *data.Dataset, z []float64) ([]byte, error) {
	im, err := m.Decode(ctx, z, ds.Test)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := data.WriteGridPNG(&buf, im, im.N, 2); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Interpolate decodes steps codes on the line from test image a's
// posterior mean to b's.
func (e *Explorer) Interpolate(ctx context.Context, r record.RunInfo, a, b, steps int) ([]byte, error) {
	m, ds, err := e.model(ctx, r)
	if err != nil {
		return nil, err
	}
	mu, err := codes(ctx, m, ds, a, b)
	if err != nil {
		return nil, err
	}
	L := len(mu) / 2
	z := make([]float64, 0, steps*L)
	for s := range steps {
		t := float64(s) / float64(steps-1)
		for j := range L {
			z = append(z, (1-t)*mu[j]+t*mu[L+j])
		}
	}
	return pngRow(ctx, m, ds, z)
}

// Sweep decodes test image a's posterior mean with latent dimension dim
// moved over the prior's traversal range, as the report's traversals do.
func (e *Explorer) Sweep(ctx context.Context, r record.RunInfo, a, dim, steps int) ([]byte, error) {
	m, ds, err := e.model(ctx, r)
	if err != nil {
		return nil, err
	}
	mu, err := codes(ctx, m, ds, a)
	if err != nil {
		return nil, err
	}
	if dim < 0 || dim >= len(mu) {
		return nil, badDecode{fmt.Sprintf("latent dimension %d: the run has %d (0 to %d)", dim, len(mu), len(mu)-1)}
	}
	lo, hi := m.Prior().TraversalRange()
	z := make([]float64, 0, steps*len(mu))
	for s := range steps {
		code := append([]float64(nil), mu...)
		code[dim] = lo + (hi-lo)*float64(s)/float64(steps-1)
		z = append(z, code...)
	}
	return pngRow(ctx, m, ds, z)
}
