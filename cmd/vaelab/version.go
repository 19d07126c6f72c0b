package main

import (
	"github.com/spf13/cobra"

	"github.com/vaelab/vaelab/runs"
)

// setVersion gives the root command --version: vaelab's version, and the
// commit it was built from when the build recorded one.
func setVersion(root *cobra.Command) {
	p := runs.CurrentProvenance()
	v := runs.Version
	if p.VCSRevision != "" && p.VCSRevision[0] != 'u' { // "unknown (…)" otherwise
		v += " (commit " + p.VCSRevision
		if p.VCSModified {
			v += ", modified"
		}
		v += ")"
	}
	root.Version = v
	root.SetVersionTemplate("vaelab {{.Version}}\n")
}
