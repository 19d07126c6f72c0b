package record

import (
	"testing"
	"time"
)

func TestRunDurationIsZeroUntilFinished(t *testing.T) {
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	if d := (RunInfo{StartedAt: start}).Duration(); d != 0 {
		t.Errorf("an unfinished run lasted %v, want 0", d)
	}
	if d := (RunInfo{StartedAt: start, FinishedAt: start.Add(90 * time.Second)}).Duration(); d != 90*time.Second {
		t.Errorf("duration %v, want 1m30s", d)
	}
}

func TestTargetNamesKindAndID(t *testing.T) {
	if s := (Target{Kind: "run", ID: "c44e33bfecdda893"}).String(); s != "run c44e33bfecdda893" {
		t.Errorf("String() = %q", s)
	}
}
