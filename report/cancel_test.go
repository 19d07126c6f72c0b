package report

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vaelab/vaelab/internal/testenv"
	"github.com/vaelab/vaelab/record"
)

// slowAfterRuns cancels the report's context when the report reads its
// first image (as a SIGTERM during a big report would) and then takes a
// long time, as reading and plotting thousands of runs does.
type slowAfterRuns struct {
	record.Reader
	cancel func()
}

func (s slowAfterRuns) ArtifactsAt(ctx context.Context, runID, evalHash string) (map[string]record.Artifact, error) {
	s.cancel()
	time.Sleep(3 * time.Second)
	return s.Reader.ArtifactsAt(ctx, runID, evalHash)
}

// Defect 9 (issue 28): a report cancelled after its runs are read (SIGTERM
// while plotting and rendering) returns within 2 s, writes nothing and says
// it was cancelled.
func TestReportStopsSoonAfterCancel(t *testing.T) {
	st, name := fakeExperiment(t, testenv.GridSpec("cancel", []int{1, 2}, []int{2}, 1), 3, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := filepath.Join(t.TempDir(), "r.html")
	start := time.Now()
	err := WriteFile(ctx, slowAfterRuns{st, cancel}, []string{name}, out, Options{})
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the cancelled report took %v to return", took.Round(time.Millisecond))
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("WriteFile = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a cancelled report wrote its file")
	}
	time.Sleep(3 * time.Second) // let the abandoned build finish before the store closes
}
