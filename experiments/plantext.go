package experiments

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/vaelab/vaelab/internal/termtext"
)

// PrintPlan prints what `vaelab plan` shows: the runs a spec expands to,
// one line each with its varying values and its status (from status, keyed
// by run id; "new" when absent), the rungs of early stopping, and below
// the table the settings of the members (objectives, samplers) the runs use.
func PrintPlan(w io.Writer, spec *Spec, rs []Run, status map[string]string) error {
	fmt.Fprintf(w, "experiment %s: %d runs (spec sha256 %s)\n", termtext.Safe(spec.Name), len(rs), spec.Hash[:12])
	if p := rungPlan(spec); p != "" {
		fmt.Fprintln(w, p)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	axes := planAxes(spec)
	fmt.Fprintf(tw, "ID\t%s\tSTATUS\n", strings.ToUpper(strings.Join(axes, "\t")))
	for _, r := range rs {
		v := r.Varying()
		cols := make([]string, len(axes))
		for i, a := range axes {
			cols[i] = termtext.Safe(v[a])
		}
		st := status[r.ID]
		if st == "" {
			st = "new"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, strings.Join(cols, "\t"), st)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return printMemberSettings(w, rs)
}

// planAxes are the plan's columns: what varies between runs.
func planAxes(spec *Spec) []string {
	var axes []string
	if len(spec.Variants) > 0 {
		axes = append(axes, "variant")
	}
	for _, a := range spec.Grid {
		axes = append(axes, a.Key)
	}
	if r := spec.Random; r != nil {
		axes = append(axes, "trial")
		for _, p := range r.Params {
			axes = append(axes, p.Key)
		}
	}
	return append(axes, "seed")
}

// rungPlan describes early stopping's rungs: how many trials each reaches
// when every decision keeps the top 1/eta.
func rungPlan(spec *Spec) string {
	e := spec.EarlyStop
	if e == nil {
		return ""
	}
	trials := 1
	if spec.Random != nil {
		trials = spec.Random.Trials
	}
	configs := trials * max(1, len(spec.Variants))
	for _, ax := range spec.Grid {
		configs *= len(ax.Values)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "early stopping (%s, %s of %s, eta %d): ", e.Decisions, e.Mode, e.Metric, e.Eta)
	n := configs
	for _, r := range e.Rungs {
		fmt.Fprintf(&b, "%d configs to epoch %d, ", n, r)
		n = max(1, (n+e.Eta-1)/e.Eta)
	}
	fmt.Fprintf(&b, "%d to epoch %d (train.epochs)", n, spec.Base.Train.Epochs)
	return b.String()
}
