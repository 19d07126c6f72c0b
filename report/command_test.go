package report

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vaelab/vaelab/internal/testenv"
)

// The report after a sweep is written and announced; stopped, it says how
// to write it later and is a stop, not a failure.
func TestWriteAfter(t *testing.T) {
	st, name := fakeExperiment(t, testenv.GridSpec("after", []int{1, 2}, []int{2}, 1), 3, 1)
	path := filepath.Join(t.TempDir(), "r.html")
	var log strings.Builder
	if err := WriteAfter(path, &log)(context.Background(), st, name); err != nil || log.String() != "report: "+path+"\n" {
		t.Fatalf("WriteAfter: %v, %q", err, log.String())
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("no report: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := WriteAfter(filepath.Join(t.TempDir(), "s.html"), &log)(ctx, st, name)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "the runs are recorded: vaelab report "+name) {
		t.Errorf("stopped WriteAfter: %v", err)
	}
}

// Export writes the tables or the curves, to the writer or to a file.
func TestExportTo(t *testing.T) {
	st, name := fakeExperiment(t, testenv.GridSpec("export", []int{1, 2}, []int{2}, 1), 3, 1)
	dir := t.TempDir()
	for _, c := range []struct {
		req  ExportRequest
		want string // the first line starts so
	}{
		{ExportRequest{Experiment: name, Format: "csv", Curves: true}, "experiment,run_id,label,seed,step,epoch,key,value"},
		{ExportRequest{Experiment: name, Format: "csv", Curves: true, Path: filepath.Join(dir, "curves.csv")}, "experiment,run_id,label,seed,step,epoch,key,value"},
		{ExportRequest{Experiment: name, Format: "md", Path: filepath.Join(dir, "t.md")}, ""},
	} {
		var w strings.Builder
		if err := ExportTo(context.Background(), st, c.req, &w); err != nil {
			t.Fatalf("%+v: %v", c.req, err)
		}
		got := w.String()
		if c.req.Path != "" {
			if w.Len() > 0 {
				t.Errorf("%+v: wrote to the writer too", c.req)
			}
			b, err := os.ReadFile(c.req.Path)
			if err != nil || len(b) == 0 {
				t.Fatalf("%+v: %v, %d bytes", c.req, err, len(b))
			}
			got = string(b)
		}
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%+v: starts %q, want %q", c.req, got[:min(len(got), 80)], c.want)
		}
	}
	if err := ExportTo(context.Background(), st, ExportRequest{Experiment: name, Format: "latex", Curves: true}, &strings.Builder{}); err == nil {
		t.Error("curves as latex: no error")
	}
}
