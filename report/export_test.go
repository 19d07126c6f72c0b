package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat"

	"github.com/vaelab/vaelab/internal/testenv"
	"github.com/vaelab/vaelab/record"
)

func TestExportCSVRoundTrips(t *testing.T) {
	st, name := fakeExperiment(t, testenv.GridSpec("exp_1", []int{1, 4}, []int{8}, 3), 20, 1)
	var buf bytes.Buffer
	if err := Export(context.Background(), st, name, "csv", nil, &buf); err != nil {
		t.Fatal(err)
	}
	// The ranking comes first, then an empty line, then the per-run table.
	ranking, perRun, ok := strings.Cut(buf.String(), "\n\n")
	if !ok || !strings.HasPrefix(ranking, "experiment,primary_metric,rank,") {
		t.Fatalf("the CSV does not open with the ranking:\n%.300s", buf.String())
	}
	if rk, err := csv.NewReader(strings.NewReader(ranking)).ReadAll(); err != nil || len(rk) != 1+4 {
		t.Fatalf("ranking: %d rows (want a header and 4 configurations), %v", len(rk), err)
	}
	recs, err := csv.NewReader(strings.NewReader(perRun)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := recs[0]
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	if len(recs) != 1+2*2*3 {
		t.Fatalf("%d rows, want a header and 12 runs", len(recs))
	}
	for _, rec := range recs[1:] {
		sums, err := st.Summaries(context.Background(), rec[col["run_id"]])
		if err != nil {
			t.Fatal(err)
		}
		for key, s := range sums {
			v, err := strconv.ParseFloat(rec[col[key]], 64)
			if err != nil || v != s.Value {
				t.Fatalf("run %s %s: CSV %q, database %v", rec[col["run_id"]], key, rec[col[key]], s.Value)
			}
		}
	}
}

// TestSummaryMatchesIndependentStatistics recomputes mean ± std for every
// configuration from the stored per-run values and compares with the Markdown table.
func TestSummaryMatchesIndependentStatistics(t *testing.T) {
	st, name := fakeExperiment(t, testenv.GridSpec("exp_2", []int{1, 4}, []int{8, 16}, 3), 10, 2)
	var buf bytes.Buffer
	if err := Export(context.Background(), st, name, "md", nil, &buf); err != nil {
		t.Fatal(err)
	}
	// The summary table follows the ranking, under its own heading.
	_, summary, ok := strings.Cut(buf.String(), "## Summary\n\n")
	if !ok || !strings.HasPrefix(buf.String(), "## Ranking by ") {
		t.Fatalf("no ranking, then summary:\n%s", buf.String())
	}
	summary, _, _ = strings.Cut(summary, "\n\n")
	lines := strings.Split(strings.TrimSpace(summary), "\n")
	// Markdown: every line is a row of the same number of cells, the second the separator.
	cells := func(l string) []string {
		if !strings.HasPrefix(l, "|") || !strings.HasSuffix(l, "|") {
			t.Fatalf("not a table row: %q", l)
		}
		return strings.Split(strings.ReplaceAll(l[1:len(l)-1], `\|`, "¦"), "|")
	}
	// Independently: group the stored runs by everything but the seed, in store order.
	stored, err := st.Runs(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	values := map[string]map[string][]float64{}
	for _, r := range stored {
		key := r.Varying["variant"] + "|" + r.Varying["objective.beta"] + "|" + r.Varying["model.latent"]
		if values[key] == nil {
			values[key] = map[string][]float64{}
			order = append(order, key)
		}
		if r.Status != record.StatusDone {
			continue
		}
		sums, err := st.Summaries(context.Background(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for k, s := range sums {
			values[key][k] = append(values[key][k], s.Value)
		}
	}
	// Columns: the summary metrics some finished run has a value for.
	var ms []Metric
	for _, m := range SummaryMetrics() {
		for _, v := range values {
			if len(v[m.Key]) > 0 {
				ms = append(ms, m)
				break
			}
		}
	}
	if n := len(cells(lines[0])); n != 3+len(ms) || !strings.HasPrefix(lines[1], "|---|") || len(cells(lines[1])) != n {
		t.Fatalf("markdown header/separator malformed:\n%s\n%s", lines[0], lines[1])
	}
	rows := lines[2:]
	if len(rows) != len(order) || len(order) != 8 {
		t.Fatalf("%d table rows, %d configurations; want 8", len(rows), len(order))
	}
	for i, l := range rows {
		c := cells(l)
		for j, m := range ms {
			vals := values[order[i]][m.Key]
			got := strings.Trim(strings.TrimSpace(c[3+j]), "*")
			want := "—"
			if len(vals) == 1 {
				want = fmt.Sprintf("%.*f", m.Digits, vals[0])
			} else if len(vals) > 1 {
				mean, std := stat.MeanStdDev(vals, nil)
				sd := fmt.Sprintf("%.*f", m.Digits, std)
				if std != 0 && strings.Trim(sd, "0.") == "" {
					sd = strconv.FormatFloat(std, 'g', 2, 64) // never 0.000 for a non-zero spread
				}
				want = fmt.Sprintf("%.*f ± %s", m.Digits, mean, sd)
			}
			if got != want {
				t.Errorf("configuration %s, %s: table %q, recomputed %q", order[i], m.Title, got, want)
			}
		}
	}
}

func TestExportLaTeXIsATableBody(t *testing.T) {
	st, name := fakeExperiment(t, testenv.GridSpec("exp_3%", []int{1, 4}, []int{8}, 2), 10, 3)
	var buf bytes.Buffer
	if err := Export(context.Background(), st, name, "latex", nil, &buf); err != nil {
		t.Fatal(err)
	}
	// Comment lines (they name each table) are LaTeX's to skip, and so are
	// the checks below.
	var kept []string
	for _, l := range strings.Split(buf.String(), "\n") {
		if !strings.HasPrefix(l, "%") {
			kept = append(kept, l)
		}
	}
	tex := strings.Join(kept, "\n")
	if !strings.HasPrefix(tex, `\begin{tabular}`) || strings.Count(tex, `\begin{tabular}`) != 2 || strings.Count(tex, `\end{tabular}`) != 2 {
		t.Fatalf("not the ranking's and the summary's tabulars:\n%s", tex)
	}
	depth := 0
	for i := 0; i < len(tex); i++ {
		switch tex[i] {
		case '\\':
			i++ // an escaped character, or the first letter of a command
		case '{':
			depth++
		case '}':
			depth--
		}
		if depth < 0 {
			t.Fatalf("unbalanced braces at %d", i)
		}
		if i < len(tex) && (tex[i] == '_' || tex[i] == '%' || tex[i] == '#') && (i == 0 || tex[i-1] != '\\') {
			t.Fatalf("unescaped %q at %d: %q", tex[i], i, tex[max(0, i-20):min(len(tex), i+20)])
		}
	}
	if depth != 0 {
		t.Fatalf("braces unbalanced by %d", depth)
	}
	// Every row of a tabular has as many cells as its header.
	for _, table := range strings.Split(tex, `\end{tabular}`) {
		var rows [][]string
		for _, l := range strings.Split(table, "\n") {
			if strings.HasSuffix(l, `\\`) {
				rows = append(rows, strings.Split(strings.ReplaceAll(l, `\&`, "AMP"), " & "))
			}
		}
		for _, r := range rows {
			if len(r) != len(rows[0]) {
				t.Fatalf("row with %d cells, header %d: %v", len(r), len(rows[0]), r)
			}
		}
	}
	if _, summary, _ := strings.Cut(tex, `\end{tabular}`); !strings.Contains(summary, "configuration & seeds & diverged") {
		t.Fatalf("the summary does not follow the ranking:\n%s", tex)
	}
	if !strings.Contains(tex, `mlp\_100\% \& \#1`) || !strings.Contains(tex, `\mathbf{`) || !strings.Contains(tex, `$\uparrow$`) {
		t.Fatalf("escaping, bold best or arrows missing:\n%s", tex)
	}
}
