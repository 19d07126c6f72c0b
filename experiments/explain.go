package experiments

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/vaelab/vaelab/internal/termtext"
	"github.com/vaelab/vaelab/vae"
)

// A family is a kind of plug-in member whose settings the members declare
// in their own files (package vae); the spec schema, `vaelab plan` and
// `vaelab spec --explain` read them from there, through this table.
type family struct {
	noun     string // "likelihood", "prior", "objective", "sampler"
	section  string // the spec section holding the members' keys
	chooser  string // the spec key that names the member(s)
	names    func() []string
	settings func(name string) ([]vae.Setting, error)
	about    func(name string) string // a one-line description, "" if none
	// used lists the members a run uses; value is a setting's value in
	// effect in a run.
	used  func(c RunConfig) []string
	value func(c RunConfig, key string) any
}

func families() []family {
	none := func(string) string { return "" }
	return []family{
		{noun: "likelihood", section: "model", chooser: "model.likelihood",
			names: vae.LikelihoodNames, settings: vae.LikelihoodSettings, about: none,
			used:  func(c RunConfig) []string { return []string{c.Model.Likelihood} },
			value: func(c RunConfig, key string) any { return c.Model.Value(key) }},
		{noun: "prior", section: "model", chooser: "model.prior",
			names: vae.PriorNames, settings: vae.PriorSettings, about: none,
			used:  func(c RunConfig) []string { return []string{cmp.Or(c.Model.Prior, "standard")} },
			value: func(c RunConfig, key string) any { return c.Model.Value(key) }},
		{noun: "objective", section: "objective", chooser: "objective.type",
			names: vae.ObjectiveNames, settings: vae.ObjectiveSettings,
			about: func(name string) string {
				obj, err := vae.ObjectiveNamed(name)
				if err != nil {
					return ""
				}
				return obj.LossText()
			},
			used:  func(c RunConfig) []string { return []string{c.Objective.TypeName()} },
			value: func(c RunConfig, key string) any { return c.Objective.Value(key) }},
		{noun: "sampler", section: "eval", chooser: "eval.samplers",
			names: vae.SamplerNames, settings: vae.SamplerSettings, about: none,
			used:  func(c RunConfig) []string { return c.Eval.WithDefaults().Samplers },
			value: func(c RunConfig, key string) any { return c.Eval.Value(key) }},
	}
}

// Explain writes the documentation of a member setting key, from the
// member's own declaration: a section or chooser (model, objective,
// objective.type, eval.samplers) lists every member with its settings; a
// member (objective.rae, eval.gmm, model.mog) lists its own; a setting
// (objective.kappa, eval.gmm_components, model.sigma) shows each member
// that takes it.
func Explain(w io.Writer, key string) error {
	if key == "" {
		return fmt.Errorf("no key given; explain one of %s", strings.Join(explainable(), ", "))
	}
	section, rest, _ := strings.Cut(key, ".")
	found := false
	for _, f := range families() {
		if section != f.section {
			continue
		}
		names := f.names()
		var list []string
		only := ""
		switch {
		case rest == "" || key == f.chooser:
			fmt.Fprintf(w, "%s: %s (their settings are keys of %s)\n", f.chooser, strings.Join(names, ", "), f.section)
			list = names
		case slices.Contains(names, rest):
			list = []string{rest}
		default:
			for _, name := range names {
				settings, err := f.settings(name)
				if err != nil {
					return err
				}
				if slices.ContainsFunc(settings, func(s vae.Setting) bool { return s.Key == rest }) {
					list = append(list, name)
				}
			}
			only = rest
		}
		if len(list) > 0 {
			found = true
			if err := explainMembers(w, f, list, only); err != nil {
				return err
			}
		}
	}
	if !found {
		return fmt.Errorf("%s: not a member setting; explain one of %s", key, strings.Join(explainable(), ", "))
	}
	return nil
}

// explainable lists the keys Explain takes, for its error.
func explainable() []string {
	var out []string
	for _, f := range families() {
		if !slices.Contains(out, f.section) {
			out = append(out, f.section)
		}
		out = append(out, f.chooser, f.section+".NAME ("+strings.Join(f.names(), ", ")+")")
	}
	return append(out, "SECTION.KEY")
}

// explainMembers writes members' settings (only key, if given) as a table.
func explainMembers(w io.Writer, f family, names []string, key string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, name := range names {
		settings, err := f.settings(name)
		if err != nil {
			return err
		}
		head := fmt.Sprintf("%s %s", f.noun, name)
		if about := f.about(name); about != "" {
			head += ": " + about
		}
		fmt.Fprintf(tw, "%s\n", head)
		if len(settings) == 0 {
			fmt.Fprintf(tw, "  (no settings)\n")
		}
		for _, s := range settings {
			if key != "" && s.Key != key {
				continue
			}
			def := "default " + s.DefaultText()
			if s.Required {
				def = "required"
			}
			fmt.Fprintf(tw, "  %s.%s\t%s\t%s\t%s\n", f.section, s.Key, s.Kind(), def, s.Doc)
		}
	}
	return tw.Flush()
}

// printMemberSettings writes, below a plan, the settings of the members
// its runs use: the values they take (in run order) and the defaults.
func printMemberSettings(w io.Writer, rs []Run) error {
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "settings of the members used (vaelab spec --explain KEY describes one):")
	for _, f := range families() {
		var members []string
		for _, r := range rs {
			for _, name := range f.used(r.Config) {
				if !slices.Contains(members, name) {
					members = append(members, name)
				}
			}
		}
		for _, name := range members {
			settings, err := f.settings(name)
			if err != nil {
				return err
			}
			if len(settings) == 0 {
				fmt.Fprintf(tw, "  %s %s\t(no settings)\t\n", f.noun, termtext.Safe(name))
			}
			for _, s := range settings {
				var vals []string
				for _, r := range rs {
					if !slices.Contains(f.used(r.Config), name) {
						continue
					}
					if v := fmt.Sprint(f.value(r.Config, s.Key)); !slices.Contains(vals, v) {
						vals = append(vals, v)
					}
				}
				def := "default " + s.DefaultText()
				if s.Required {
					def = "required"
				}
				fmt.Fprintf(tw, "  %s %s\t%s.%s = %s\t%s\n", f.noun, termtext.Safe(name), f.section, s.Key, termtext.Safe(strings.Join(vals, ", ")), def)
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// A member without settings has an empty last cell: no trailing padding.
	for _, line := range strings.SplitAfter(table.String(), "\n") {
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+strings.Repeat("\n", strings.Count(line, "\n"))); err != nil {
			return err
		}
	}
	return nil
}
