package report

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/vaelab/vaelab/internal/atomicfile"
	"github.com/vaelab/vaelab/internal/fault"
	"github.com/vaelab/vaelab/record"
)

// What vaelab export does, and what vaelab run and evaluate do with
// --report; the CLI parses their flags and calls these.

// WriteAfter returns the step that writes an experiment's report to path
// once its runs have ended, saying so on w. Stopped while writing, it says
// that the runs are recorded and how to write the report later.
func WriteAfter(path string, w io.Writer) func(ctx context.Context, st record.Reader, experiment string) error {
	return func(ctx context.Context, st record.Reader, experiment string) error {
		err := WriteSaying(ctx, st, []string{experiment}, path, Options{}, w)
		if errors.Is(err, context.Canceled) {
			return fault.Stopped(fmt.Errorf("report %s: stopped; the runs are recorded: vaelab report %s -o %s writes it", path, experiment, path))
		}
		return err
	}
}

// WriteSaying is WriteFile that says on w where the report went.
func WriteSaying(ctx context.Context, st record.Reader, experiments []string, path string, opt Options, w io.Writer) error {
	if err := WriteFile(ctx, st, experiments, path, opt); err != nil {
		return err
	}
	fmt.Fprintf(w, "report: %s\n", path)
	return nil
}

// ExportRequest is what vaelab export was asked for.
type ExportRequest struct {
	Experiment, Format string
	Runs               []string // only these runs (ids or unique prefixes); none: every run
	Curves             bool     // the training curves (ExportCurves) instead of the tables (Export)
	Path               string   // the file written whole or not at all; "" writes to the caller's writer
}

// ExportTo writes what r asks for to r.Path, or to w when it has none.
func ExportTo(ctx context.Context, st record.Reader, r ExportRequest, w io.Writer) error {
	export := Export
	if r.Curves {
		export = ExportCurves
	}
	write := func(w io.Writer) error { return export(ctx, st, r.Experiment, r.Format, r.Runs, w) }
	if r.Path == "" {
		return write(w)
	}
	_, _, err := atomicfile.WriteTarget(r.Path, write)
	return err
}
