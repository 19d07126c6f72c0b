package runs

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Select applies the report's --tag, --archived and --runs: the experiments
// to show (every one carrying the tag when none is named, each once) and the
// runs to keep (nil for all). An archived experiment is refused unless
// archived is set; a --runs prefix no run has, or a tag no run carries, is an
// error rather than an empty page.
func (s *Store) Select(ctx context.Context, names []string, tag string, archived bool, filter []string) ([]string, []string, error) {
	if len(names) == 0 {
		if tag == "" {
			return nil, nil, fmt.Errorf("name at least one experiment, or select them with --tag key=value")
		}
		l, err := s.ListExperiments(ctx, ListOptions{All: archived, Tag: tag})
		if err != nil {
			return nil, nil, err
		}
		for _, e := range l {
			names = append(names, e.Name)
		}
		if len(names) == 0 {
			return nil, nil, fmt.Errorf("no experiment has a run tagged %s", tag)
		}
	}
	seen := map[string]bool{} // report A A lists A once
	names = slices.DeleteFunc(slices.Clone(names), func(n string) bool { d := seen[n]; seen[n] = true; return d })
	for _, p := range filter {
		if err := s.runsMatch(ctx, names, p); err != nil {
			return nil, nil, err
		}
	}
	for _, n := range names {
		a, err := s.Archived(ctx, n)
		if err != nil {
			return nil, nil, err
		}
		if a && !archived {
			return nil, nil, fmt.Errorf("experiment %q is archived: pass --archived to report it, or `vaelab unarchive %s`", n, n)
		}
	}
	if tag == "" {
		return names, filter, nil
	}
	k, v, err := ParseTag(tag, false)
	if err != nil {
		return nil, nil, err
	}
	var keep []string
	for _, n := range names {
		ids, err := s.Tagged(ctx, n, k, v)
		if err != nil {
			return nil, nil, err
		}
		for _, id := range ids {
			if len(filter) == 0 || slices.ContainsFunc(filter, func(p string) bool { return strings.HasPrefix(id, p) }) {
				keep = append(keep, id)
			}
		}
	}
	if len(keep) == 0 {
		return nil, nil, fmt.Errorf("no run of %s is tagged %s", strings.Join(names, ", "), tag)
	}
	return names, keep, nil
}

// runsMatch fails when no run of the experiments has an id starting with prefix.
func (s *Store) runsMatch(ctx context.Context, names []string, prefix string) error {
	for _, n := range names {
		rs, err := s.Runs(ctx, n)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(rs, func(r RunInfo) bool { return strings.HasPrefix(r.ID, prefix) }) {
			return nil
		}
	}
	return fmt.Errorf("--runs %s: no run of %s has an id starting so (vaelab ls EXPERIMENT lists them)", prefix, strings.Join(names, ", "))
}

// OnlyTagged keeps the runs of experiment tagged tag (all of them for "").
func (s *Store) OnlyTagged(ctx context.Context, experiment, tag string, rs []RunInfo) ([]RunInfo, error) {
	if tag == "" {
		return rs, nil
	}
	_, keep, err := s.Select(ctx, []string{experiment}, tag, true, nil)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(rs, func(r RunInfo) bool { return !slices.Contains(keep, r.ID) }), nil
}
