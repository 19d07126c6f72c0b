package report

import (
	"context"
	"strings"

	"github.com/vaelab/vaelab/runs"
)

// Managed is what a researcher wrote about an experiment and its runs
// (vaelab tag, vaelab note): shown in the section's header and exports.
type Managed struct {
	Tags     string // the experiment's, key=value sorted
	Notes    []runs.Note
	RunNotes []RunNote // runs with tags or notes
}

// RunNote is one run's tags and notes.
type RunNote struct {
	ID, Label, Tags string
	Notes           []runs.Note
}

// managedReader is the part of the store that holds tags and notes; a store
// without it (an older reader) shows none.
type managedReader interface {
	Tags(ctx context.Context, t runs.Target) (map[string]string, error)
	Notes(ctx context.Context, t runs.Target) ([]runs.Note, error)
}

// readManaged reads the tags and notes of an experiment and of its runs.
func readManaged(ctx context.Context, st Store, experiment string, rs []runs.RunInfo) (Managed, error) {
	var m Managed
	mr, ok := st.(managedReader)
	if !ok {
		return m, nil
	}
	tags, notes, err := targetManaged(ctx, mr, runs.Target{Kind: "experiment", ID: experiment})
	if err != nil {
		return m, err
	}
	m.Tags, m.Notes = tags, notes
	for _, r := range rs {
		tags, notes, err := targetManaged(ctx, mr, runs.Target{Kind: "run", ID: r.ID})
		if err != nil {
			return m, err
		}
		if tags != "" || len(notes) > 0 {
			m.RunNotes = append(m.RunNotes, RunNote{ID: r.ID, Label: r.Label, Tags: tags, Notes: notes})
		}
	}
	return m, nil
}

func targetManaged(ctx context.Context, mr managedReader, t runs.Target) (string, []runs.Note, error) {
	tags, err := mr.Tags(ctx, t)
	if err != nil {
		return "", nil, err
	}
	notes, err := mr.Notes(ctx, t)
	return TagsText(tags), notes, err
}

// notesText joins notes for one CSV cell.
func notesText(ns []runs.Note) string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Text)
	}
	return strings.Join(out, " | ")
}
