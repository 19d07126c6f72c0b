package report

import (
	"context"

	"github.com/vaelab/vaelab/runs"
)

// Store is what the report reads of a workspace's records; *runs.Store
// satisfies it (opened read-only, so a report never writes).
type Store interface {
	Experiment(ctx context.Context, name string) (runs.ExperimentInfo, error)
	Runs(ctx context.Context, experiment string) ([]runs.RunInfo, error)
	ExperimentSummaries(ctx context.Context, experiment string) (map[string]map[string]runs.Summary, error)
	ExperimentParam(ctx context.Context, experiment, key string) (map[string]float64, error)
	Metrics(ctx context.Context, runID string) (map[string][]runs.Point, error)
	ArtifactsAt(ctx context.Context, runID, evalHash string) (map[string]runs.Artifact, error)
	Events(ctx context.Context, experiment, runID string) ([]runs.Event, error)
}

var _ Store = (*runs.Store)(nil)
