package report

import (
	"context"
	"strings"

	"github.com/vaelab/vaelab/record"
)

// Managed is what a researcher wrote about an experiment and its runs
// (vaelab tag, vaelab note): shown in the section's header and exports.
type Managed struct {
	Tags     string // the experiment's, key=value sorted
	Notes    []record.Note
	RunNotes []RunNote // runs with tags or notes
}

// RunNote is one run's tags and notes.
type RunNote struct {
	ID, Label, Tags string
	Notes           []record.Note
}

// readManaged reads the tags and notes of an experiment and of its runs.
func readManaged(ctx context.Context, st record.Reader, experiment string, rs []record.RunInfo) (Managed, error) {
	var m Managed
	tags, notes, err := targetManaged(ctx, st, record.Target{Kind: "experiment", ID: experiment})
	if err != nil {
		return m, err
	}
	m.Tags, m.Notes = tags, notes
	for _, r := range rs {
		tags, notes, err := targetManaged(ctx, st, record.Target{Kind: "run", ID: r.ID})
		if err != nil {
			return m, err
		}
		if tags != "" || len(notes) > 0 {
			m.RunNotes = append(m.RunNotes, RunNote{ID: r.ID, Label: r.Label, Tags: tags, Notes: notes})
		}
	}
	return m, nil
}

func targetManaged(ctx context.Context, st record.Reader, t record.Target) (string, []record.Note, error) {
	tags, err := st.Tags(ctx, t)
	if err != nil {
		return "", nil, err
	}
	notes, err := st.Notes(ctx, t)
	return TagsText(tags), notes, err
}

// notesText joins notes for one CSV cell.
func notesText(ns []record.Note) string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Text)
	}
	return strings.Join(out, " | ")
}
