package report

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/vaelab/vaelab/evaluate"
	"github.com/vaelab/vaelab/metrics"
	"github.com/vaelab/vaelab/record"
)

// Metric is a column of a summary table: an entry of the metric catalogue.
type Metric = evaluate.Metric

// SummaryMetrics are the columns of the summary table, in order.
func SummaryMetrics() []Metric { return evaluate.SummaryTable() }

// Stat is a mean and sample standard deviation over the seeds that have the value.
type Stat struct {
	Mean, Std float64
	N         int
}

// Group is one configuration: the runs of an experiment that differ only by seed.
type Group struct {
	Experiment string
	Label      string   // the varying values other than the seed
	Values     []string // the same, in the section's axis order
	Runs       []record.RunInfo
	Diverged   int
	Stats      map[string]Stat // by summary key, over finished (done) runs
	Best       map[string]bool // keys where this group is the best of its table
	members    []runData       // Runs with their summaries
}

// runData is what the report knows of one run.
type runData struct {
	info record.RunInfo
	sums map[string]record.Summary
}

// groupRuns groups runs by the configuration they trained (their resolved
// config without the seed), in first-seen order, so that runs of different
// configurations are never averaged, whatever their labels. A group is
// labelled by its varying values; configurations that share a label (the
// spec changed a base value between runs of the same experiment) are told
// apart by the config keys in which they differ.
func groupRuns(experiment string, rs []runData, axes []string) []*Group {
	var groups []*Group
	byKey := map[string]*Group{}
	configs := map[*Group]map[string]string{}
	// Runs of one configuration differ only by their seed: each distinct
	// config without it is flattened once (at 10,000 runs of 1,000
	// configurations, parsing every run's config took most of an
	// overview's time).
	type flatKey struct {
		flat map[string]string
		key  string
	}
	bySeedless := map[[2]string]flatKey{}
	of, sizes := make([]*Group, len(rs)), map[*Group]int{} // each run's group
	for i, r := range rs {
		seedless, shared := withoutSeed(r.info.Config)
		fk, ok := bySeedless[seedless]
		if !shared || !ok {
			flat, parsed := flattenConfig(r.info.Config)
			delete(flat, "seed")
			fk = flatKey{flat, configKey(flat)}
			if shared && parsed {
				bySeedless[seedless] = fk
			}
		}
		flat, key := fk.flat, fk.key
		g := byKey[key]
		if g == nil {
			var parts, vals []string
			for _, a := range axes {
				if a == "seed" {
					continue
				}
				parts = append(parts, a+"="+r.info.Varying[a])
				vals = append(vals, r.info.Varying[a])
			}
			g = &Group{Experiment: experiment, Label: strings.Join(parts, " "), Values: vals, Stats: map[string]Stat{}, Best: map[string]bool{}}
			byKey[key] = g
			configs[g] = flat
			groups = append(groups, g)
		}
		of[i], sizes[g] = g, sizes[g]+1
	}
	for _, g := range groups {
		g.Runs, g.members = make([]record.RunInfo, 0, sizes[g]), make([]runData, 0, sizes[g])
	}
	for i, r := range rs {
		g := of[i]
		g.Runs, g.members = append(g.Runs, r.info), append(g.members, r)
		if r.info.Status == record.StatusDiverged {
			g.Diverged++
		}
	}
	disambiguate(groups, configs)
	for _, g := range groups {
		values := map[string][]float64{}
		for _, r := range g.members {
			if r.info.Status != record.StatusDone {
				continue
			}
			for k, s := range r.sums {
				values[k] = append(values[k], s.Value)
			}
		}
		for k, v := range values {
			g.Stats[k] = meanStd(v)
		}
	}
	return groups
}

// SeedsText is how many runs a configuration's figures average: its run
// count when all have finished, else "2 of 3" (a sweep still running, or
// runs failed or interrupted), so a count never claims runs it did not average.
func (g *Group) SeedsText() string {
	finished := 0
	for _, r := range g.Runs {
		if r.Status == record.StatusDone || r.Status == record.StatusDiverged {
			finished++
		}
	}
	if finished == len(g.Runs) {
		return strconv.Itoa(len(g.Runs))
	}
	return fmt.Sprintf("%d of %d", finished-g.Diverged, len(g.Runs))
}

// disambiguate appends to the labels that several groups share the config
// keys in which those groups differ, and names a lone unlabelled group.
func disambiguate(groups []*Group, configs map[*Group]map[string]string) {
	byLabel := map[string][]*Group{}
	for _, g := range groups {
		byLabel[g.Label] = append(byLabel[g.Label], g)
	}
	for label, gs := range byLabel {
		if len(gs) == 1 {
			if label == "" {
				gs[0].Label = "(one configuration)"
			}
			continue
		}
		keys := map[string]bool{}
		for _, g := range gs[1:] {
			for k := range union(configs[gs[0]], configs[g]) {
				if configs[gs[0]][k] != configs[g][k] {
					keys[k] = true
				}
			}
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, g := range gs {
			var parts []string
			if label != "" {
				parts = append(parts, label)
			}
			for _, k := range sorted {
				v, ok := configs[g][k]
				if !ok {
					v = "(unset)"
				}
				parts = append(parts, k+"="+v)
			}
			g.Label = strings.Join(parts, " ")
		}
	}
}

func union(a, b map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// withoutSeed cuts the value of the top-level "seed" member out of a JSON
// object's text: the text before it and the text after. Two configs whose cut texts are equal, when both cuts are
// shared (an integer seed cut) and the first parses, flatten to the same keys
// and values apart from "seed". shared is false when there is no such
// member, its value is no integer or the text is not an object as expected:
// the config is then flattened on its own.
func withoutSeed(canonical string) (cut [2]string, shared bool) {
	depth, inString, escaped := 0, false, false
	keyStart := -1 // where a top-level string started, while in it
	expectKey := false
	for i := 0; i < len(canonical); i++ {
		c := canonical[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				if keyStart >= 0 && canonical[keyStart:i+1] == `"seed"` {
					return cutValue(canonical, i+1)
				}
				keyStart = -1
			}
			continue
		}
		switch c {
		case '"':
			inString = true
			if depth == 1 && expectKey {
				keyStart = i
			}
			expectKey = false
		case '{', '[':
			depth++
			expectKey = depth == 1 && c == '{'
		case '}', ']':
			depth--
			expectKey = false
		case ',':
			expectKey = depth == 1
		case ' ', '\t', '\n', '\r':
		default:
			expectKey = false
		}
		if depth < 0 || depth == 0 && c != '{' && c != '}' && c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return [2]string{canonical}, false
		}
	}
	return [2]string{canonical}, false
}

// plainInteger tells whether v is a JSON integer of at most 15 digits.
func plainInteger(v string) bool {
	digits := strings.TrimPrefix(v, "-")
	if digits == "" || len(digits) > 15 || len(digits) > 1 && digits[0] == '0' {
		return false
	}
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// cutValue cuts the value of the member whose key ends at i out of text,
// with shared false when it is not a plain integer (any such value parses,
// so the texts that share a cut all parse or none does).
func cutValue(text string, i int) ([2]string, bool) {
	j := i
	for j < len(text) && strings.IndexByte(" \t\n\r", text[j]) >= 0 {
		j++
	}
	if j == len(text) || text[j] != ':' {
		return [2]string{text}, false
	}
	start := j + 1
	end := start
	for end < len(text) && text[end] != ',' && text[end] != '}' {
		if c := text[end]; c == '"' || c == '{' || c == '[' || c == '\\' {
			return [2]string{text}, false // a string, object or array: not cut
		}
		end++
	}
	v := strings.TrimSpace(text[start:end])
	if end == len(text) || !plainInteger(v) {
		return [2]string{text}, false
	}
	return [2]string{text[:start], text[end:]}, true
}

// flatConfig flattens a run's canonical JSON config into dotted keys with
// their JSON values as text.
func flatConfig(canonical string) map[string]string {
	out, _ := flattenConfig(canonical)
	return out
}

// flattenConfig is flatConfig, with parsed false when the config is no
// JSON (and is then keyed by its text).
func flattenConfig(canonical string) (out map[string]string, parsed bool) {
	var tree any
	out = map[string]string{}
	if err := json.Unmarshal([]byte(canonical), &tree); err != nil {
		out[""] = canonical // unreadable: group by the text itself
		return out, false
	}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if m, ok := v.(map[string]any); ok {
			for k, x := range m {
				if prefix != "" {
					k = prefix + "." + k
				}
				walk(k, x)
			}
			return
		}
		b, _ := json.Marshal(v)
		out[prefix] = string(b)
	}
	walk("", tree)
	return out, true
}

// configKey is a canonical text of a flattened config.
func configKey(flat map[string]string) string {
	keys := make([]string, 0, len(flat))
	for k := range flat {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + flat[k] + "\n")
	}
	return b.String()
}

// meanStd is the mean and the sample (n−1) standard deviation; 0 for one value.
func meanStd(v []float64) Stat {
	s := Stat{N: len(v)}
	for _, x := range v {
		s.Mean += x / float64(len(v))
	}
	if len(v) > 1 {
		ss := 0.0
		for _, x := range v {
			ss += (x - s.Mean) * (x - s.Mean)
		}
		s.Std = math.Sqrt(ss / float64(len(v)-1))
	}
	return s
}

// markBest flags, for each metric with a direction, the groups of the top
// group: the best mean and every group the test of CompareToBest cannot
// tell apart from it (configurations share no runs: Welch's test). A
// sharpness ratio that noise raised is no candidate; see sharpnessIsNoise.
func markBest(groups []*Group, ms []Metric) {
	for _, m := range ms {
		if m.Dir == evaluate.Neutral {
			continue
		}
		samples := make([]Sample, len(groups))
		for i, g := range groups {
			if !sharpnessIsNoise(g, m.Key) {
				samples[i] = orient(g.values(m.Key), m.Dir)
			}
		}
		_, claims := CompareToBest(samples)
		for i, g := range groups {
			g.Best[m.Key] = claims[i].Top
		}
	}
}

// FormatStat prints mean ± std with the metric's digits (a small non-zero
// std with two significant digits: see FormatSpread), "—" when absent.
func FormatStat(s Stat, ok bool, digits int) string {
	if !ok || s.N == 0 {
		return "—"
	}
	if s.N == 1 {
		return fmt.Sprintf("%.*f", digits, s.Mean)
	}
	return fmt.Sprintf("%.*f ± %s", digits, s.Mean, FormatSpread(s.Std, digits))
}

// loadRuns reads the runs of an experiment (all, or those whose id starts
// with one of the filters) and their summaries. Runs that only an earlier
// version of the experiment's spec had are returned apart (notInSpec), to be
// flagged and never compared with the current ones; a filter naming such a
// run includes it (it still groups by its own configuration).
func loadRuns(ctx context.Context, st record.Reader, experiment string, filter []string) (current, notInSpec []runData, err error) {
	// The two reads are independent: the final values are read beside the
	// runs (a third of the time of both at 10,000 runs).
	type summaries struct {
		all map[string]map[string]record.Summary
		err error
	}
	sumc := make(chan summaries, 1)
	go func() {
		all, err := st.ExperimentSummaries(ctx, experiment)
		sumc <- summaries{all, err}
	}()
	stored, err := st.Runs(ctx, experiment)
	sum := <-sumc
	if err != nil {
		return nil, nil, err
	}
	all, err := sum.all, sum.err
	if err != nil {
		return nil, nil, err
	}
	if len(filter) == 0 {
		current = make([]runData, 0, len(stored))
	}
	for _, r := range stored {
		if !matches(r.ID, filter) {
			continue
		}
		sums := all[r.ID]
		if sums == nil {
			sums = map[string]record.Summary{}
		}
		if !r.InSpec && len(filter) == 0 {
			notInSpec = append(notInSpec, runData{info: r, sums: sums})
			continue
		}
		current = append(current, runData{info: r, sums: sums})
	}
	return current, notInSpec, nil
}

func matches(id string, filter []string) bool {
	if len(filter) == 0 {
		return true
	}
	for _, f := range filter {
		if strings.HasPrefix(id, f) {
			return true
		}
	}
	return false
}

// summaryKeys is the sorted union of summary keys over runs.
func summaryKeys(rs []runData) []string {
	set := map[string]bool{}
	for _, r := range rs {
		for k := range r.sums {
			set[k] = true
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sharpnessIsNoise tells whether key is a sharpness ratio (Laplacian
// variance against the data's) of images whose high-frequency power
// exceeds the data's by more than metrics.SpectrumMarginDB: grain raises
// the Laplacian variance as detail does, so such a ratio does not mean
// "sharp". The report neither marks it best nor shows it unqualified.
func sharpnessIsNoise(g *Group, key string) bool {
	prefix, ok := strings.CutSuffix(key, "/sharpness_laplacian")
	if !ok {
		return false
	}
	s, ok := g.Stats[prefix+"/spectrum_db_4"]
	return ok && s.N > 0 && s.Mean > metrics.SpectrumMarginDB
}
