package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/vaelab/vaelab/internal/testenv"
	"github.com/vaelab/vaelab/record"
)

// Every stored point is one row, with its run's experiment, id,
// configuration label (the report's, without the seed) and seed.
func TestExportCurvesLongFormat(t *testing.T) {
	ctx := context.Background()
	const steps = 7
	st, name := fakeExperiment(t, testenv.GridSpec("curves", []int{1, 4}, []int{8}, 2), steps, 3)
	var buf bytes.Buffer
	if err := ExportCurves(ctx, st, name, "csv", nil, &buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != "experiment,run_id,label,seed,step,epoch,key,value" {
		t.Fatalf("header %q", got)
	}
	stored, err := st.Runs(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	// 2 β × 2 variants × 2 seeds, 3 curves of steps points each.
	if want := 1 + len(stored)*3*steps; len(recs) != want || len(stored) != 8 {
		t.Fatalf("%d rows for %d runs, want %d", len(recs), len(stored), want)
	}
	labels := map[string]map[string]bool{} // label → seeds
	rowsOf := map[string][][]string{}
	for _, rec := range recs[1:] {
		rowsOf[rec[1]] = append(rowsOf[rec[1]], rec)
		if rec[0] != name || strings.Contains(rec[2], "seed=") || rec[2] == "" {
			t.Fatalf("row %q: experiment or label wrong", rec)
		}
		if labels[rec[2]] == nil {
			labels[rec[2]] = map[string]bool{}
		}
		labels[rec[2]][rec[3]] = true
	}
	if len(labels) != 4 {
		t.Errorf("%d configuration labels, want 4: %v", len(labels), labels)
	}
	for label, seeds := range labels {
		if len(seeds) != 2 {
			t.Errorf("configuration %q has seeds %v, want 1 and 2", label, seeds)
		}
	}
	for _, r := range stored {
		series, err := st.Metrics(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		var want [][]string
		for _, k := range sortedKeys(series) {
			for _, p := range series[k] {
				want = append(want, []string{strconv.FormatUint(r.Seed, 10), strconv.Itoa(p.Step), strconv.Itoa(p.Epoch), k, strconv.FormatFloat(p.Value, 'g', -1, 64)})
			}
		}
		got := rowsOf[r.ID]
		if len(got) != len(want) {
			t.Fatalf("run %s: %d rows, %d points stored", r.ID, len(got), len(want))
		}
		for i := range want {
			if strings.Join(got[i][3:], ",") != strings.Join(want[i], ",") {
				t.Fatalf("run %s row %d: %q, stored %q", r.ID, i, got[i][3:], want[i])
			}
		}
	}
}

func TestExportCurvesRefusals(t *testing.T) {
	st, name := fakeExperiment(t, testenv.GridSpec("refuse", []int{1}, []int{8}, 1), 3, 1)
	for _, tc := range []struct {
		name, experiment, format string
		filter                   []string
		want                     string
	}{
		{"markdown", name, "md", nil, `format "md"`},
		{"latex", name, "latex", nil, `format "latex"`},
		{"no such experiment", "nope", "csv", nil, "no runs"},
		{"filter matches nothing", name, "csv", []string{"zzzz"}, "no runs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := ExportCurves(context.Background(), st, tc.experiment, tc.format, tc.filter, &buf)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes before refusing", buf.Len())
			}
		})
	}
}

func TestExportCurvesFilter(t *testing.T) {
	ctx := context.Background()
	st, name := fakeExperiment(t, testenv.GridSpec("filter", []int{1, 2}, []int{8}, 1), 4, 1)
	stored, err := st.Runs(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := ExportCurves(ctx, st, name, "csv", []string{stored[1].ID[:8]}, &buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs[1:] {
		if rec[1] != stored[1].ID {
			t.Fatalf("row of run %s, only %s asked for", rec[1], stored[1].ID)
		}
	}
	if len(recs) != 1+3*4 {
		t.Errorf("%d rows, want a header and 12", len(recs))
	}
}

// A metric key that a spreadsheet would take for a formula is written as
// text; numbers stay numbers.
func TestExportCurvesFormulaSafe(t *testing.T) {
	ctx := context.Background()
	st, name := fakeExperiment(t, testenv.GridSpec("formula", []int{1}, []int{8}, 1), 2, 1)
	stored, err := st.Runs(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.WriteMetrics(ctx, stored[0].ID, []metricRow{{Step: 1, Epoch: 1, Key: "=HYPERLINK(\"x\")", Value: -3.5}}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := ExportCurves(ctx, st, name, "csv", nil, &buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, rec := range recs[1:] {
		if strings.Contains(rec[6], "HYPERLINK") {
			found = true
			if rec[6] != `'=HYPERLINK("x")` || rec[7] != "-3.5" {
				t.Errorf("row %q: the key must be text, the value a number", rec)
			}
		}
	}
	if !found {
		t.Fatal("the point with the formula-like key is missing")
	}
}

// cancelAfterMetrics cancels the export's context once it has read the
// curves of one run.
type cancelAfterMetrics struct {
	record.Reader
	cancel func()
	reads  *int
}

func (s cancelAfterMetrics) Metrics(ctx context.Context, runID string) (map[string][]record.Point, error) {
	*s.reads++
	defer s.cancel()
	return s.Reader.Metrics(ctx, runID)
}

// A cancelled export stops at the next run, with the runs written so far
// complete.
func TestExportCurvesCancelled(t *testing.T) {
	st, name := fakeExperiment(t, testenv.GridSpec("cancelcurves", []int{1, 2}, []int{8}, 2), 5, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reads := 0
	var buf bytes.Buffer
	err := ExportCurves(ctx, cancelAfterMetrics{st, cancel, &reads}, name, "csv", nil, &buf)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if reads != 1 {
		t.Errorf("read the curves of %d runs after the cancel, want 1", reads)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+3*5 {
		t.Errorf("%d rows, want the header and the first run's 15 points", len(recs))
	}
}
