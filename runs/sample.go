package runs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/evaluate"
	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/internal/atomicfile"
)

// DrawGrid rebuilds the run's model from its checkpoint, loaded as the
// scheduler loads it (checked against the store's record), and draws what
// `vaelab sample` asks for (evaluate.DrawGrid), with the grid's columns.
// Sampler fits are read from the run's stored ones; nothing is written.
func DrawGrid(ctx context.Context, st *Store, r RunInfo, loader *data.Loader, req evaluate.SampleRequest, log io.Writer) (data.Images, int, error) {
	var cfg experiments.RunConfig
	if err := json.Unmarshal([]byte(r.Config), &cfg); err != nil {
		return data.Images{}, 0, fmt.Errorf("stored config: %w", err)
	}
	m, ds, err := LoadTrained(ctx, st, r, cfg, loader)
	if err != nil {
		return data.Images{}, 0, err
	}
	evals, err := st.Evaluations(ctx, r.ID)
	if err != nil {
		return data.Images{}, 0, err
	}
	sink, err := newEvalSink(ctx, st, r.ID, "", "")
	if err != nil {
		return data.Images{}, 0, err
	}
	return evaluate.DrawGrid(ctx, m, ds, cfg, evals, sink, req, log)
}

// Sample is vaelab sample: it draws the grid req asks for from the final
// checkpoint of the run whose id starts with prefix (DrawGrid) and writes
// it to out as a PNG.
func Sample(ctx context.Context, st *Store, prefix string, loader *data.Loader, req evaluate.SampleRequest, out string, log io.Writer) error {
	r, err := st.FindRun(ctx, prefix)
	if err != nil {
		return err
	}
	im, cols, err := DrawGrid(ctx, st, r, loader, req, log)
	if err != nil {
		return fmt.Errorf("sample run %s: %w", r.ID, err)
	}
	if _, _, err := atomicfile.WriteTarget(out, func(w io.Writer) error { return data.WriteGridPNG(w, im, cols, 2) }); err != nil {
		return err
	}
	fmt.Fprintf(log, "%s of run %s (%s): %s\n", req.Kind, r.ID, r.Label, out)
	return nil
}
