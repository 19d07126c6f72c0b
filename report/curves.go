package report

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/vaelab/vaelab/record"
)

// curvesHeader is the header row of ExportCurves' CSV.
var curvesHeader = []string{"experiment", "run_id", "label", "seed", "step", "epoch", "key", "value"}

// ExportCurves writes every stored metric point of an experiment's runs (the
// training curves: loss, KL, reconstruction, gradient norm, the objective's
// own terms) as CSV in long format, one row per point: experiment, run_id,
// label (the run's configuration as the report's tables name it, seed left
// out), seed, step, epoch, key, value. Runs come in the spec's order, each
// run's keys sorted and each key's points by step. Runs recorded under the
// experiment but no longer in its spec are included, as in the per-run CSV.
// filter keeps only runs whose id starts with one of its entries.
//
// Rows are written run by run: one run's curves are held at a time, so an
// experiment of tens of thousands of runs streams in bounded memory, and a
// cancelled ctx stops between runs. format must be "csv": the curves have no
// table form.
func ExportCurves(ctx context.Context, st record.Reader, experiment, format string, filter []string, w io.Writer) error {
	if format != "csv" {
		return fmt.Errorf("export --curves: format %q; the curves are written only as csv (long format: one row per point)", format)
	}
	stored, err := st.Runs(ctx, experiment)
	if err != nil {
		return err
	}
	var rs []runData
	for _, r := range stored {
		if matches(r.ID, filter) {
			rs = append(rs, runData{info: r})
		}
	}
	if len(rs) == 0 {
		return fmt.Errorf("export %s: no runs", experiment)
	}
	label := map[string]string{}
	for _, g := range groupRuns(experiment, rs, varyingAxes(infos(rs))) {
		for _, r := range g.Runs {
			label[r.ID] = g.Label
		}
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(curvesHeader); err != nil {
		return err
	}
	for _, r := range rs {
		if err := ctx.Err(); err != nil {
			return err
		}
		series, err := st.Metrics(ctx, r.info.ID)
		if err != nil {
			return err
		}
		exp, id, lab, seed := csvText(r.info.Experiment), r.info.ID, csvText(label[r.info.ID]), strconv.FormatUint(r.info.Seed, 10)
		keys := make([]string, 0, len(series))
		for k := range series {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			key := csvText(k)
			for _, p := range series[k] {
				row := []string{exp, id, lab, seed, strconv.Itoa(p.Step), strconv.Itoa(p.Epoch), key, strconv.FormatFloat(p.Value, 'g', -1, 64)}
				if err := cw.Write(row); err != nil {
					return err
				}
			}
		}
		// Flushed per run: the buffered writer then holds at most one run's
		// rows, and a write error (a full disk, a closed pipe) stops the
		// export at the run where it happened.
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("export %s curves: %w", experiment, err)
		}
	}
	return nil
}
