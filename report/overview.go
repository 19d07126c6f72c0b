package report

import (
	"context"
	"fmt"

	"github.com/vaelab/vaelab/record"
)

// Overview is an experiment as a live view shows it above its curves: its
// runs grouped by the configuration they trained, and the report's ranking
// of those configurations. It reads the runs and their final values only,
// never a curve, so it stays quick for tens of thousands of runs.
type Overview struct {
	Info    record.ExperimentInfo
	Runs    []record.RunInfo // the current spec's runs, in its expansion order
	Axes    []string         // the keys that vary between runs, seed last
	Groups  []*Group         // in the spec's order; labels are unique
	Ranking *Ranking         // nil without runs
	// SearchMetric is the series a random search is judged by, "" when the
	// experiment is no search (SearchView draws it).
	SearchMetric string
}

// BuildOverview groups and ranks the runs of an experiment's current spec
// as the report's section does.
func BuildOverview(ctx context.Context, st record.Reader, experiment string) (*Overview, error) {
	info, err := st.Experiment(ctx, experiment)
	if err != nil {
		return nil, err
	}
	return OverviewOf(ctx, st, info)
}

// OverviewOf is BuildOverview of an experiment its caller has just read
// (a live view reads it anyway to tell whether its overview is stale).
func OverviewOf(ctx context.Context, st record.Reader, info record.ExperimentInfo) (*Overview, error) {
	experiment := info.Name
	rs, _, err := loadRuns(ctx, st, experiment, nil)
	if err != nil {
		return nil, err
	}
	o := &Overview{Info: info, Runs: infos(rs)}
	o.Axes = varyingAxes(o.Runs)
	o.Groups = groupRuns(experiment, rs, o.Axes)
	o.Ranking = buildRanking(o.Groups, specPrimary(info.SpecText))
	if key, ok := searchMetric(info); ok {
		o.SearchMetric = key
	}
	return o, nil
}

// SearchView draws the search of an overview (the rung table, the trials in
// parallel coordinates and the metric against each parameter) from each
// run's series of o.SearchMetric, by run id; nil when it is no search.
func SearchView(o *Overview, series map[string][]record.Point) (*Search, error) {
	if o.SearchMetric == "" {
		return nil, nil
	}
	var rs []runData
	bySeries := map[string]map[string][]record.Point{}
	for _, g := range o.Groups {
		rs = append(rs, g.members...)
		for _, r := range g.members {
			bySeries[r.info.ID] = map[string][]record.Point{o.SearchMetric: series[r.info.ID]}
		}
	}
	s, err := buildSearch(o.Info, rs, bySeries)
	if err != nil {
		return nil, fmt.Errorf("search view of %s: %w", o.Info.Name, err)
	}
	return s, nil
}
