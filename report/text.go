package report

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vaelab/vaelab/evaluate"
	"github.com/vaelab/vaelab/internal/termtext"
	"github.com/vaelab/vaelab/record"
)

// List is what vaelab ls prints: the experiments (o), or, when experiment
// is not "", that experiment's runs (tagged o.Tag when set).
func List(ctx context.Context, w io.Writer, st record.Reader, experiment string, o record.ListOptions) error {
	if experiment == "" {
		return ListExperiments(ctx, w, st, o)
	}
	return ListRuns(ctx, w, st, experiment, o.Tag)
}

// ListExperiments prints the experiments `vaelab ls` lists.
func ListExperiments(ctx context.Context, w io.Writer, st record.Reader, o record.ListOptions) error {
	exps, err := st.ListExperiments(ctx, o)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EXPERIMENT\tRUNS\tSTATUS\tLAST STARTED")
	for _, e := range exps {
		counts := countsText(e.Counts)
		if e.NotInSpec > 0 {
			counts += fmt.Sprintf("; %d not in the current spec", e.NotInSpec)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", termtext.Safe(e.Name), e.RunCount, counts, e.StartedAt)
	}
	return tw.Flush()
}

// ListRuns prints the runs of an experiment (those tagged tag, all for ""),
// with the headline metric under its catalogue title.
func ListRuns(ctx context.Context, w io.Writer, st record.Reader, experiment, tag string) error {
	if _, err := st.Experiment(ctx, experiment); err != nil {
		return err
	}
	rs, err := st.Runs(ctx, experiment)
	if err != nil {
		return err
	}
	if rs, err = st.OnlyTagged(ctx, experiment, tag, rs); err != nil {
		return err
	}
	elbo, _ := evaluate.Lookup("test/elbo")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ID\tRUN\tSTATUS\tSTEPS\t%s %s\tTIME\n", elbo.Title, elbo.Dir.Arrow())
	for _, r := range rs {
		sums, err := st.Summaries(ctx, r.ID)
		if err != nil {
			return err
		}
		value := "—"
		if v, ok := sums[elbo.Key]; ok {
			value = fmt.Sprintf("%.*f", elbo.Digits, v.Value)
		}
		status := r.Status
		if r.DivergedStep > 0 {
			status += fmt.Sprintf(" (step %d)", r.DivergedStep)
		}
		label := termtext.Safe(r.Label)
		if !r.InSpec {
			label += " (not in the current spec)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", r.ID, label, status, r.Steps, value, r.Duration().Round(100*time.Millisecond))
	}
	return tw.Flush()
}

func countsText(c map[string]int) string {
	var parts []string
	for _, k := range []string{record.StatusDone, record.StatusDiverged, record.StatusFailed, record.StatusInterrupted, record.StatusRunning, record.StatusPending, record.StatusPaused, record.StatusStopped} {
		if c[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[k], k))
		}
	}
	return strings.Join(parts, ", ")
}

// ShowRun prints one run as `vaelab show` does: identity, config, its
// evaluations, final values under their catalogue titles with direction and
// meaning, curves, files, events, tags and notes.
func ShowRun(ctx context.Context, w io.Writer, st record.Reader, r record.RunInfo) error {
	fmt.Fprintf(w, "run        %s\nlabel      %s\nexperiment %s\nstatus     %s\n", r.ID, termtext.Safe(r.Label), termtext.Safe(r.Experiment), r.Status)
	if r.Error != "" {
		fmt.Fprintf(w, "reason     %s\n", termtext.Safe(r.Error))
	}
	if !r.InSpec {
		fmt.Fprintf(w, "in spec    no: an earlier version of the experiment's spec had this run; reports flag it and leave it out of comparisons\n")
	}
	fmt.Fprintf(w, "steps      %d (attempt %d)\nstarted    %s\nfinished   %s\nhost       %s\nBLAS       %s\ndirectory  %s\n",
		r.Steps, r.Attempts, r.StartedAt.Format(time.RFC3339), r.FinishedAt.Format(time.RFC3339), r.Host, r.BLAS, r.Dir)
	var cfg any
	if err := json.Unmarshal([]byte(r.Config), &cfg); err == nil {
		b, _ := json.MarshalIndent(cfg, "", "  ")
		fmt.Fprintf(w, "config\n%s\n", b)
	}
	evals, err := st.Evaluations(ctx, r.ID)
	if err != nil {
		return err
	}
	shown := shownEvaluation(r, evals)
	for _, e := range evals {
		mark := " "
		if e.Hash == shown {
			mark = "*"
		}
		fmt.Fprintf(w, "evaluation %s%s %s (%.1fs, %s)\n", e.Hash, mark, e.Config, e.Seconds, e.CreatedAt.Format(time.RFC3339))
	}
	sums, err := st.SummariesAt(ctx, r.ID, shown)
	if err != nil {
		return err
	}
	printSummaries(w, sums, shown)
	if err := printCurves(ctx, w, st, r.ID); err != nil {
		return err
	}
	arts, err := st.ArtifactsAt(ctx, r.ID, shown)
	if err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(arts)) {
		a := arts[k]
		fmt.Fprintf(w, "artifact   %-16s %s (%d bytes, sha256 %s)\n", a.Kind, a.Path, a.Bytes, a.SHA256[:min(12, len(a.SHA256))])
	}
	events, err := st.Events(ctx, "", r.ID)
	if err != nil {
		return err
	}
	for _, e := range events {
		fmt.Fprintf(w, "event      %s %s %s: %s\n", e.Time, e.Level, e.Kind, termtext.Safe(e.Message))
	}
	return ShowManaged(ctx, w, st, record.Target{Kind: "run", ID: r.ID})
}

// printSummaries lists a run's final values: catalogue metrics under their
// title, direction and meaning (the key in brackets, for queries), grouped
// as the catalogue orders them; values the catalogue does not describe
// (training's last values) follow under their keys.
func printSummaries(w io.Writer, sums map[string]record.Summary, evalHash string) {
	if len(sums) == 0 {
		return
	}
	what := "training"
	if evalHash != "" {
		what += " and evaluation " + evalHash
	}
	fmt.Fprintf(w, "summaries  %s\n", what)
	keys := slices.Sorted(maps.Keys(sums))
	var described, other []string
	for _, k := range keys {
		if _, _, ok := describe(k); ok {
			described = append(described, k)
		} else {
			other = append(other, k)
		}
	}
	order := map[string]int{}
	for i, m := range evaluate.Catalogue() {
		order[m.Key] = i
	}
	slices.SortStableFunc(described, func(a, b string) int {
		ma, sa, _ := describe(a)
		mb, sb, _ := describe(b)
		if sa != sb {
			return strings.Compare(sa, sb)
		}
		return order[ma.Key] - order[mb.Key]
	})
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, k := range described {
		m, sampler, _ := describe(k)
		title := m.Title + " " + m.Dir.Arrow()
		if sampler != "" {
			title += " (" + sampler + " sampler)"
		}
		digits := max(m.Digits, 2)
		if strings.HasSuffix(k, "_se") {
			title = "  ± image SE"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s [%s]\t%s\n", title, FormatSpread(sums[k].Value, digits), m.Meaning, k, sums[k].Protocol)
	}
	for _, k := range other {
		fmt.Fprintf(tw, "  %s\t%s\t\t%s\n", k, FormatSpread(sums[k].Value, 4), sums[k].Protocol)
	}
	tw.Flush()
}

// describe finds the catalogue entry of a summary key: its own, a sampler's
// block (samples_NAME/…) or an image-sampling error (…_se); sampler is ""
// for the prior's samples and keys outside a sampler block.
func describe(key string) (m evaluate.Metric, sampler string, ok bool) {
	base := strings.TrimSuffix(key, "_se")
	if head, rest, cut := strings.Cut(base, "/"); cut && strings.HasPrefix(head, "samples_") {
		sampler = strings.TrimPrefix(head, "samples_")
		base = "samples/" + rest
	}
	m, ok = evaluate.Lookup(base)
	return m, sampler, ok
}

// shownEvaluation is the evaluation show prints: the one the run's
// experiment asks for when it exists, else the newest (marked * in the list).
func shownEvaluation(r record.RunInfo, evals []record.Evaluation) string {
	for _, e := range evals {
		if e.Hash == r.EvalHash {
			return e.Hash
		}
	}
	if len(evals) > 0 {
		return evals[0].Hash
	}
	return ""
}

// printCurves lists the series a run recorded (what its objective feeds or
// estimates among them: β(t), C(t), λ(t), TC, MI) with their last values.
func printCurves(ctx context.Context, w io.Writer, st record.Reader, runID string) error {
	series, err := st.Metrics(ctx, runID)
	if err != nil || len(series) == 0 {
		return err
	}
	fmt.Fprintf(w, "curves     (points, last step: value)\n")
	for _, k := range slices.Sorted(maps.Keys(series)) {
		pts := series[k]
		last := pts[len(pts)-1]
		fmt.Fprintf(w, "  %-26s %6d  step %d: %.6g\n", k, len(pts), last.Step, last.Value)
	}
	return nil
}

// ShowManaged prints a run's or an experiment's tags and notes.
func ShowManaged(ctx context.Context, w io.Writer, st record.Reader, t record.Target) error {
	tags, err := st.Tags(ctx, t)
	if err != nil {
		return err
	}
	if len(tags) > 0 {
		fmt.Fprintf(w, "tags       %s\n", termtext.Safe(TagsText(tags)))
	}
	notes, err := st.Notes(ctx, t)
	if err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintf(w, "note       %s %s\n", n.Time, termtext.Safe(n.Text))
	}
	return nil
}

// PrintTagged is vaelab tag's answer: the target and its tags now.
func PrintTagged(w io.Writer, t record.Target, tags map[string]string) {
	fmt.Fprintf(w, "%s: %s\n", termtext.Safe(t.String()), termtext.Safe(cmp.Or(TagsText(tags), "(no tags)")))
}

// TagsText formats tags as sorted key=value pairs ("" for none).
func TagsText(tags map[string]string) string {
	kv := make([]string, 0, len(tags))
	for k, v := range tags {
		kv = append(kv, k+"="+v)
	}
	slices.Sort(kv)
	return strings.Join(kv, " ")
}
