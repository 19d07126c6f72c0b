package report

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/vaelab/vaelab/evaluate"
	"github.com/vaelab/vaelab/record"
)

// Export writes an experiment's tables in a format papers and spreadsheets
// take. Every format opens with the ranking (ranking.go: configuration ×
// sampler by the primary metric, its 95 % interval over seeds and whether
// each row can be told apart from the best):
//   - "csv": the ranking's rows (numbers at full precision), an empty line,
//     then the full per-run table (every varying value and every stored
//     summary). Read the second table with, e.g., pandas' read_csv(path,
//     skiprows=ranking rows + 2).
//   - "md" and "latex": the ranking with its verdict and test, then the
//     summary table (one row per configuration, mean ± std over seeds, each
//     column's top group in bold, arrows giving each metric's better
//     direction), then the experiment's and runs' tags and notes.
//
// Rows are configurations actually trained; runs that only an earlier
// version of the spec had are in the per-run CSV with in_spec false, and
// left out of the ranking and the summary table with a note.
func Export(ctx context.Context, st record.Reader, experiment, format string, filter []string, w io.Writer) error {
	if format != "csv" && format != "md" && format != "latex" {
		return fmt.Errorf("export: unknown format %q (csv, md, latex)", format)
	}
	rs, notInSpec, err := loadRuns(ctx, st, experiment, filter)
	if err != nil {
		return err
	}
	if len(rs)+len(notInSpec) == 0 {
		return fmt.Errorf("export %s: no runs", experiment)
	}
	info, err := st.Experiment(ctx, experiment)
	if err != nil {
		return err
	}
	axes := varyingAxes(infos(rs))
	groups := groupRuns(experiment, rs, axes)
	rk := buildRanking(groups, specPrimary(info.SpecText))
	all := append(slices.Clone(rs), notInSpec...)
	m, err := readManaged(ctx, st, experiment, infos(all))
	if err != nil {
		return err
	}
	if format == "csv" {
		if err := exportRankingCSV(w, experiment, rk); err != nil {
			return fmt.Errorf("export %s: ranking: %w", experiment, err)
		}
		return exportCSV(w, all, axes, m)
	}
	ms := withAnyValue(groups, SummaryMetrics())
	markBest(groups, ms)
	if format == "md" {
		err = exportMarkdown(w, rk, groups, ms, m)
	} else {
		err = exportLaTeX(w, rk, groups, ms, m)
	}
	if err == nil && len(notInSpec) > 0 {
		comment := map[string]string{"md": "\n", "latex": "% "}[format]
		_, err = fmt.Fprintf(w, "%s%d runs recorded under %s are not in its current spec and are left out: %s\n",
			comment, len(notInSpec), experiment, strings.Join(runIDs(notInSpec), ", "))
	}
	return err
}

func infos(rs []runData) []record.RunInfo {
	out := make([]record.RunInfo, len(rs))
	for i, r := range rs {
		out[i] = r.info
	}
	return out
}

func exportCSV(w io.Writer, rs []runData, axes []string, m Managed) error {
	keys := summaryKeys(rs)
	cw := csv.NewWriter(w)
	header := append([]string{"experiment", "run_id", "label", "status", "diverged_step", "steps", "in_spec"}, axes...)
	if err := cw.Write(append(append(header, keys...), "tags", "notes")); err != nil {
		return err
	}
	for _, r := range rs {
		row := []string{csvText(r.info.Experiment), r.info.ID, csvText(r.info.Label), r.info.Status,
			strconv.Itoa(r.info.DivergedStep), strconv.Itoa(r.info.Steps), strconv.FormatBool(r.info.InSpec)}
		for _, a := range axes {
			row = append(row, csvText(r.info.Varying[a]))
		}
		for _, k := range keys {
			if s, ok := r.sums[k]; ok {
				row = append(row, strconv.FormatFloat(s.Value, 'g', -1, 64))
			} else {
				row = append(row, "")
			}
		}
		var rn RunNote
		for _, x := range m.RunNotes {
			if x.ID == r.info.ID {
				rn = x
			}
		}
		row = append(row, csvText(rn.Tags), csvText(notesText(rn.Notes)))
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvText makes a text cell safe to open in a spreadsheet: a cell that
// starts with =, +, -, @, a tab or a carriage return would be taken as a
// formula, so it gets a leading apostrophe (shown by spreadsheets as text).
// Numbers are written as numbers and never pass through here.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func runIDs(rs []runData) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.info.ID
	}
	return ids
}

// exportRankingCSV writes the ranking's rows: the primary metric's mean,
// interval, seeds, seed SD and image SE (empty without), the claim against
// the best with its Holm-corrected p-value and test, then each other
// headline metric's mean and std. It ends with the empty line that
// separates it from the per-run table.
func exportRankingCSV(w io.Writer, experiment string, rk *Ranking) error {
	cw := csv.NewWriter(w)
	header := []string{"experiment", "primary_metric", "rank", "configuration", "sampler", "mean", "ci95_low", "ci95_high", "seeds", "seed_sd", "image_se",
		"distinguishable_from_best", "p_holm", "test"}
	var cols []Metric
	if rk != nil {
		cols = rk.Columns
	}
	for _, c := range cols {
		header = append(header, c.Key, c.Key+"_std")
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	num := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	for i, r := range rankRows(rk) {
		claim, p, test := "", "", ""
		switch {
		case r.Interval.N == 0:
		case r.Claim.Best:
			claim = "best"
		case r.Claim.Tested:
			claim, p, test = map[bool]string{true: "yes", false: "no"}[r.Claim.Distinct], num(r.Claim.P), r.Claim.Test.Kind
		default:
			claim = "no claim: " + r.Claim.Reason
		}
		iv := r.Interval
		mean, sd := "", ""
		if iv.N > 0 {
			mean = num(iv.Mean)
		}
		if iv.N > 1 {
			sd = num(iv.Std)
		}
		row := []string{csvText(experiment), rk.Metric.Key, strconv.Itoa(i + 1), csvText(r.Config), r.Sampler, mean, num(iv.Lo), num(iv.Hi),
			strconv.Itoa(iv.N), sd, num(r.ImageSEValue), claim, p, test}
		for _, c := range r.Cells {
			st := meanStd(c.sample.Values)
			m, sd := "", ""
			if st.N > 0 {
				m = num(st.Mean)
			}
			if st.N > 1 {
				sd = num(st.Std)
			}
			row = append(row, m, sd)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func rankRows(rk *Ranking) []RankRow {
	if rk == nil {
		return nil
	}
	return rk.Rows
}

func exportMarkdown(w io.Writer, rk *Ranking, groups []*Group, ms []Metric, notes Managed) error {
	var b strings.Builder
	if rk != nil {
		fmt.Fprintf(&b, "## Ranking by %s %s\n\n%s\n\n", mdEscape(rk.Metric.Title), rk.Metric.Dir.Arrow(), mdEscape(rk.Verdict))
		first := "configuration"
		if rk.Samplers {
			first = "configuration · sampler"
		}
		fmt.Fprintf(&b, "| %s | %s %s | 95 %% CI | seeds | seed SD |", first, mdEscape(rk.Metric.Title), rk.Metric.Dir.Arrow())
		if rk.HasSE {
			b.WriteString(" image SE |")
		}
		b.WriteString(" distinguishable from the best |")
		for _, c := range rk.Columns {
			fmt.Fprintf(&b, " %s %s |", mdEscape(c.Title), c.Dir.Arrow())
		}
		b.WriteString("\n|---|---:|---:|---:|---:|")
		if rk.HasSE {
			b.WriteString("---:|")
		}
		b.WriteString("---|")
		for range rk.Columns {
			b.WriteString("---:|")
		}
		b.WriteString("\n")
		for _, r := range rk.Rows {
			label, mean := mdEscape(r.Label), r.Mean
			if r.Top {
				label, mean = "**"+label+"**", "**"+mean+"**"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |", label, mean, r.CI, r.SeedsText, r.SeedSD)
			if rk.HasSE {
				fmt.Fprintf(&b, " %s |", orDash(r.ImageSE))
			}
			fmt.Fprintf(&b, " %s |", mdEscape(r.Distinguish))
			for _, c := range r.Cells {
				fmt.Fprintf(&b, " %s |", mdBold(c.Text, c.Best))
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "\nRanked by `%s` (%s). %s\n\n## Summary\n\n", rk.Metric.Key, mdEscape(rk.Source), mdEscape(rk.Test))
	}
	b.WriteString("| configuration | seeds | diverged |")
	for _, m := range ms {
		fmt.Fprintf(&b, " %s %s |", mdEscape(m.Title), m.Dir.Arrow())
	}
	b.WriteString("\n|---|---:|---:|")
	for range ms {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, g := range groups {
		fmt.Fprintf(&b, "| %s | %s | %d |", mdEscape(g.Label), g.SeedsText(), g.Diverged)
		for _, m := range ms {
			s, ok := g.Stats[m.Key]
			cell := FormatStat(s, ok, m.Digits)
			if sharpnessIsNoise(g, m.Key) {
				cell += " (noise)"
			}
			fmt.Fprintf(&b, " %s |", mdBold(cell, g.Best[m.Key]))
		}
		b.WriteString("\n")
	}
	if lines := notesLines(notes); len(lines) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, l := range lines {
			b.WriteString("- " + mdEscape(l) + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdBold(s string, bold bool) string {
	if bold {
		return "**" + s + "**"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// notesLines are the experiment's tags and notes and each run's, one line
// each, for the Notes part of the md and LaTeX exports.
func notesLines(m Managed) []string {
	var out []string
	if m.Tags != "" {
		out = append(out, "tags: "+m.Tags)
	}
	for _, n := range m.Notes {
		out = append(out, fmt.Sprintf("note (%s): %s", n.Time, n.Text))
	}
	for _, r := range m.RunNotes {
		l := "run " + r.ID
		if r.Label != "" {
			l += " (" + r.Label + ")"
		}
		if r.Tags != "" {
			l += ": tags " + r.Tags
		}
		for i, n := range r.Notes {
			sep := "; "
			if i == 0 && r.Tags == "" {
				sep = ": "
			}
			l += sep + "note (" + n.Time + "): " + n.Text
		}
		out = append(out, l)
	}
	return out
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "*", `\*`, "_", `\_`, "<", "&lt;", ">", "&gt;", "\n", " ").Replace(s)
}

// exportLaTeX writes the ranking and the summary as tabular environments
// (booktabs rules) that can be \input into a table float, each followed by
// a short paragraph (the verdict and its test; the notes).
func exportLaTeX(w io.Writer, rk *Ranking, groups []*Group, ms []Metric, notes Managed) error {
	var b strings.Builder
	if rk != nil {
		extra := 0
		if rk.HasSE {
			extra = 1
		}
		fmt.Fprintf(&b, "%% Ranking by %s\n\\begin{tabular}{l%sl%s}\n\\toprule\n", latexComment(rk.Metric.Key), strings.Repeat("r", 4+extra), strings.Repeat("r", len(rk.Columns)))
		first := "configuration"
		if rk.Samplers {
			first = "configuration $\\cdot$ sampler"
		}
		fmt.Fprintf(&b, "%s & %s%s & 95\\%% CI & seeds & seed SD", first, texEscape(rk.Metric.Title), texArrow(rk.Metric.Dir))
		if rk.HasSE {
			b.WriteString(" & image SE")
		}
		b.WriteString(" & distinguishable from the best")
		for _, c := range rk.Columns {
			fmt.Fprintf(&b, " & %s%s", texEscape(c.Title), texArrow(c.Dir))
		}
		b.WriteString(" \\\\\n\\midrule\n")
		for _, r := range rk.Rows {
			label, mean := texEscape(r.Label), texNum(r.Mean, r.Top)
			if r.Top {
				label = "\\textbf{" + label + "}"
			}
			fmt.Fprintf(&b, "%s & %s & %s & %s & %s", label, mean, texEscape(r.CI), texEscape(r.SeedsText), texNum(r.SeedSD, false))
			if rk.HasSE {
				b.WriteString(" & " + texNum(orDash(r.ImageSE), false))
			}
			b.WriteString(" & " + texEscape(r.Distinguish))
			for _, c := range r.Cells {
				b.WriteString(" & " + texCell(c.Text, c.Best))
			}
			b.WriteString(" \\\\\n")
		}
		b.WriteString("\\bottomrule\n\\end{tabular}\n\n")
		fmt.Fprintf(&b, "\\smallskip\\noindent %s Ranked by \\texttt{%s}; two-sided $t$-tests against the best row at $\\alpha = %.2g$, paired by run where both rows are the same trained runs scored with two samplers, Welch's otherwise, Holm-corrected over every pair of rows; bold: the best row and every row the test cannot tell apart from it.\n\n",
			texEscape(rk.Verdict), texEscape(rk.Metric.Key), Alpha)
	}
	fmt.Fprintf(&b, "%% Summary\n\\begin{tabular}{l%s}\n\\toprule\n", strings.Repeat("r", len(ms)+2))
	b.WriteString("configuration & seeds & diverged")
	for _, m := range ms {
		fmt.Fprintf(&b, " & %s%s", texEscape(m.Title), texArrow(m.Dir))
	}
	b.WriteString(" \\\\\n\\midrule\n")
	for _, g := range groups {
		fmt.Fprintf(&b, "%s & %s & %d", texEscape(g.Label), g.SeedsText(), g.Diverged)
		for _, m := range ms {
			s, ok := g.Stats[m.Key]
			cell := "--"
			if ok && s.N > 0 {
				cell = fmt.Sprintf("%.*f", m.Digits, s.Mean)
				if s.N > 1 {
					cell += " \\pm " + texSci(FormatSpread(s.Std, m.Digits))
				}
				if g.Best[m.Key] {
					cell = "\\mathbf{" + cell + "}"
				}
				cell = "$" + cell + "$"
				if sharpnessIsNoise(g, m.Key) {
					cell += " (noise)"
				}
			}
			b.WriteString(" & " + cell)
		}
		b.WriteString(" \\\\\n")
	}
	b.WriteString("\\bottomrule\n\\end{tabular}\n")
	if lines := notesLines(notes); len(lines) > 0 {
		b.WriteString("\n\\smallskip\\noindent\\textbf{Notes.}\n\\begin{itemize}\n")
		for _, l := range lines {
			b.WriteString("\\item " + texEscape(l) + "\n")
		}
		b.WriteString("\\end{itemize}\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// texNum sets a formatted number in math mode ("—" as "--"), bold when asked.
func texNum(s string, bold bool) string {
	if s == "—" || s == "" {
		return "--"
	}
	s = texSci(s)
	if bold {
		s = "\\mathbf{" + s + "}"
	}
	return "$" + s + "$"
}

// texCell sets a "mean ± std" cell of FormatStat in math mode.
func texCell(text string, bold bool) string {
	if text == "—" {
		return "--"
	}
	num, suffix, _ := strings.Cut(text, " (")
	parts := strings.SplitN(num, " ± ", 2)
	cell := parts[0]
	if len(parts) == 2 {
		cell += " \\pm " + texSci(parts[1])
	}
	if bold {
		cell = "\\mathbf{" + cell + "}"
	}
	cell = "$" + cell + "$"
	if suffix != "" {
		cell += " (" + texEscape(suffix)
	}
	return cell
}

// texSci writes 3.4e-05 as 3.4 \cdot 10^{-5}, for math mode.
func texSci(s string) string {
	m, e, ok := strings.Cut(s, "e")
	if !ok {
		return s
	}
	exp, err := strconv.Atoi(e)
	if err != nil {
		return s
	}
	return fmt.Sprintf("%s \\cdot 10^{%d}", m, exp)
}

// latexComment keeps a text on one comment line.
func latexComment(s string) string { return strings.ReplaceAll(s, "\n", " ") }

func texArrow(d evaluate.Direction) string {
	return [...]string{"", " $\\uparrow$", " $\\downarrow$", " ($\\to 1$)"}[d]
}

// texEscape escapes LaTeX's special characters in text.
func texEscape(s string) string {
	return strings.NewReplacer(
		`\`, `\textbackslash{}`, "{", `\{`, "}", `\}`, "$", `\$`, "&", `\&`, "#", `\#`,
		"_", `\_`, "%", `\%`, "~", `\textasciitilde{}`, "^", `\textasciicircum{}`,
		"<", `\textless{}`, ">", `\textgreater{}`, "β", `$\beta$`, "σ", `$\sigma$`,
		"·", `$\cdot$`, "α", `$\alpha$`, "±", `$\pm$`, "−", `--`, "∞", `$\infty$`, "√", `$\surd$`, "≤", `$\le$`, "…", `\ldots{}`, "—", `---`,
	).Replace(s)
}

// withAnyValue leaves out the metrics no configuration has a value for
// (MIG without known factors), as the report's tables do.
func withAnyValue(groups []*Group, ms []Metric) []Metric {
	return slices.DeleteFunc(slices.Clone(ms), func(m Metric) bool {
		return !slices.ContainsFunc(groups, func(g *Group) bool { _, ok := g.Stats[m.Key]; return ok })
	})
}
