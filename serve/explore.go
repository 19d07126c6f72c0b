package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/vaelab/vaelab/record"
)

// Decoder decodes images from a finished run's final checkpoint for the
// latent explorer. serve never loads a model itself (it would need the
// store's files and the datasets): the command wires an implementation
// (runs.Explorer) that does. Each method returns one row of images as PNG;
// an error with a method BadRequest() bool answering true (a test image or
// latent dimension the run does not have) reaches the client as a 400.
type Decoder interface {
	// Interpolate decodes steps images on the line between the posterior
	// means of test images a and b, a first.
	Interpolate(ctx context.Context, run record.RunInfo, a, b, steps int) ([]byte, error)
	// Sweep decodes steps images of test image a's posterior mean with
	// latent dimension dim moved over the prior's traversal range.
	Sweep(ctx context.Context, run record.RunInfo, a, dim, steps int) ([]byte, error)
}

// decodeTimeout bounds one decode, the model's loading included.
const decodeTimeout = 60 * time.Second

// maxDecodes is how many decoded rows are kept (each a few kilobytes).
const maxDecodes = 128

// errBusy is a decode refused because another one of the same run is
// under way past the wait.
var errBusy = errors.New("another decode of this run is under way; try again in a moment")

// decodeGate lets one decode of a run run at a time (a model holds its
// weights and dataset in memory; two at once would double that) and keeps
// the rows it decoded.
type decodeGate struct {
	mu    sync.Mutex
	runs  map[string]chan struct{} // a run's token, taken while it decodes
	done  map[string][]byte
	order []string
}

func newDecodeGate() *decodeGate {
	return &decodeGate{runs: map[string]chan struct{}{}, done: map[string][]byte{}}
}

func (g *decodeGate) token(run string) chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	t := g.runs[run]
	if t == nil {
		t = make(chan struct{}, 1)
		g.runs[run] = t
	}
	return t
}

func (g *decodeGate) cached(key string) ([]byte, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	b, ok := g.done[key]
	return b, ok
}

func (g *decodeGate) keep(key string, b []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.done[key]; ok {
		return
	}
	if len(g.order) == maxDecodes {
		delete(g.done, g.order[0])
		g.order = g.order[1:]
	}
	g.done[key] = b
	g.order = append(g.order, key)
}

// decode answers a decode of run from the cache, or runs it when the run's
// token is free within the timeout.
func (g *decodeGate) decode(ctx context.Context, run, key string, fn func(ctx context.Context) ([]byte, error)) ([]byte, error) {
	if b, ok := g.cached(key); ok {
		return b, nil
	}
	ctx, cancel := context.WithTimeout(ctx, decodeTimeout)
	defer cancel()
	t := g.token(run)
	select {
	case t <- struct{}{}:
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, errBusy
		}
		return nil, ctx.Err()
	}
	defer func() { <-t }()
	if b, ok := g.cached(key); ok { // decoded while this request waited
		return b, nil
	}
	b, err := fn(ctx)
	if err != nil {
		return nil, err
	}
	g.keep(key, b)
	return b, nil
}

// canDecode says why the explorer cannot open a run, if it cannot.
func (s *Server) canDecode(run *record.RunInfo) error {
	if s.opt.Decoder == nil {
		return notFound{"the latent explorer is off on this server"}
	}
	if run.Status != record.StatusDone {
		return badf("run %s is %s: the latent explorer opens finished (done) runs", run.ID, run.Status)
	}
	return nil
}

// Explorer limits: a row of at most maxSteps images, test images and
// dimensions by index.
const (
	maxSteps = 16
	maxIndex = 1 << 20
)

func (s *Server) handleDecode(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	_, run, err := s.findRun(r.Context(), q.Get("name"), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.canDecode(run); err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := intParam(q, "a", 0, 0, maxIndex)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	steps, err := intParam(q, "steps", 8, 2, maxSteps)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var key string
	var fn func(ctx context.Context) ([]byte, error)
	switch mode := q.Get("mode"); mode {
	case "", "interpolate":
		b, err := intParam(q, "b", 1, 0, maxIndex)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		key = fmt.Sprintf("%s/i/%d/%d/%d", run.ID, a, b, steps)
		fn = func(ctx context.Context) ([]byte, error) { return s.opt.Decoder.Interpolate(ctx, *run, a, b, steps) }
	case "dimension":
		dim, err := intParam(q, "dim", 0, 0, maxIndex)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		key = fmt.Sprintf("%s/d/%d/%d/%d", run.ID, a, dim, steps)
		fn = func(ctx context.Context) ([]byte, error) { return s.opt.Decoder.Sweep(ctx, *run, a, dim, steps) }
	default:
		s.fail(w, r, badf("mode=%q: interpolate or dimension", clip(mode)))
		return
	}
	b, err := s.dec.decode(r.Context(), run.ID, key, fn)
	if err != nil {
		var br interface{ BadRequest() bool }
		if errors.As(err, &br) && br.BadRequest() {
			err = badRequest{err.Error()}
		}
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	_, _ = w.Write(b)
}
