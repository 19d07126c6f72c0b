package report

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/vaelab/vaelab/evaluate"
	"github.com/vaelab/vaelab/runs"
)

// Export writes an experiment's tables in a format papers and spreadsheets take:
// "csv" is the full per-run table (every varying value and every stored
// summary, numbers at full precision); "md" and "latex" are the summary table
// (one row per configuration, mean ± std over seeds, the best in bold, arrows
// giving each metric's better direction). Rows are configurations actually
// trained; runs that only an earlier version of the spec had are in the CSV
// with in_spec false, and left out of the summary table with a note.
func Export(ctx context.Context, st Store, experiment, format string, filter []string, w io.Writer) error {
	rs, notInSpec, err := loadRuns(ctx, st, experiment, filter)
	if err != nil {
		return err
	}
	if len(rs)+len(notInSpec) == 0 {
		return fmt.Errorf("export %s: no runs", experiment)
	}
	axes := varyingAxes(infos(rs))
	switch format {
	case "csv":
		all := append(rs, notInSpec...)
		m, err := readManaged(ctx, st, experiment, infos(all))
		if err != nil {
			return err
		}
		return exportCSV(w, all, axes, m)
	case "md", "latex":
		groups := groupRuns(experiment, rs, axes)
		ms := SummaryMetrics()
		markBest(groups, ms)
		if format == "md" {
			err = exportMarkdown(w, groups, ms)
		} else {
			err = exportLaTeX(w, groups, ms)
		}
		if err == nil && len(notInSpec) > 0 {
			comment := map[string]string{"md": "\n", "latex": "% "}[format]
			_, err = fmt.Fprintf(w, "%s%d runs recorded under %s are not in its current spec and are left out: %s\n",
				comment, len(notInSpec), experiment, strings.Join(runIDs(notInSpec), ", "))
		}
		return err
	}
	return fmt.Errorf("export: unknown format %q (csv, md, latex)", format)
}

func infos(rs []runData) []runs.RunInfo {
	out := make([]runs.RunInfo, len(rs))
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

func exportMarkdown(w io.Writer, groups []*Group, ms []Metric) error {
	var b strings.Builder
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
			if g.Best[m.Key] {
				cell = "**" + cell + "**"
			}
			fmt.Fprintf(&b, " %s |", cell)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "*", `\*`, "_", `\_`, "<", "&lt;", ">", "&gt;", "\n", " ").Replace(s)
}

// exportLaTeX writes a tabular environment (with booktabs rules) that can be
// \input into a table float.
func exportLaTeX(w io.Writer, groups []*Group, ms []Metric) error {
	var b strings.Builder
	fmt.Fprintf(&b, "\\begin{tabular}{l%s}\n\\toprule\n", strings.Repeat("r", len(ms)+2))
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
					cell += fmt.Sprintf(" \\pm %.*f", m.Digits, s.Std)
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
	_, err := io.WriteString(w, b.String())
	return err
}

func texArrow(d evaluate.Direction) string {
	return [...]string{"", " $\\uparrow$", " $\\downarrow$", " ($\\to 1$)"}[d]
}

// texEscape escapes LaTeX's special characters in text.
func texEscape(s string) string {
	return strings.NewReplacer(
		`\`, `\textbackslash{}`, "{", `\{`, "}", `\}`, "$", `\$`, "&", `\&`, "#", `\#`,
		"_", `\_`, "%", `\%`, "~", `\textasciitilde{}`, "^", `\textasciicircum{}`,
		"<", `\textless{}`, ">", `\textgreater{}`, "β", `$\beta$`, "σ", `$\sigma$`,
	).Replace(s)
}
