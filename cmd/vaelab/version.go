package main

import (
	"github.com/spf13/cobra"

	"github.com/vaelab/vaelab/runs"
)

// setVersion gives the root command --version (runs.VersionLine).
func setVersion(root *cobra.Command) {
	root.Version = runs.VersionLine(runs.CurrentProvenance())
	root.SetVersionTemplate("vaelab {{.Version}}\n")
}
