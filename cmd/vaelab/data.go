package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/internal/progress"
)

func dataCmd(s *settings, stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "List, download, verify and look at datasets",
	}
	cmd.AddCommand(dataLsCmd(s, stdout), dataFetchCmd(s, stdout, stderr), dataVerifyCmd(s, stdout), dataShowCmd(s, stdout, stderr))
	return cmd
}

func dataLsCmd(s *settings, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List the known datasets, whether each is present in the data directory, and its checksum",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return data.PrintCatalogue(stdout, s.dataDir())
		},
	}
}

func dataFetchCmd(s *settings, stdout, stderr io.Writer) *cobra.Command {
	r := data.FetchRequest{Log: stdout}
	cmd := &cobra.Command{
		Use:   "fetch NAME",
		Short: "Download a dataset (or dlib-face, the face descriptor's weights) into the data directory, checking its sha256",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r.Name, r.DataDir, r.Progress = args[0], s.dataDir(), progress.Bytes(stderr, "downloading "+args[0])
			r.Check = func(dst string) error { return s.checkOutput(cmd.Context(), "--data-dir", dst) }
			return data.FetchNamed(cmd.Context(), r)
		},
	}
	cmd.Flags().StringVar(&r.Mirror, "url", "", "download from this address (a mirror) instead of the dataset's own")
	cmd.Flags().StringVar(&r.Tarball, "file", "", "dlib-face: install from this package tarball instead of running npm pack")
	return cmd
}

func dataVerifyCmd(s *settings, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "verify NAME",
		Short: "Check a dataset file's sha256 (CelebA's zip: md5) against the expected one",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return data.VerifyBuiltin(stdout, args[0], s.dataDir())
		},
	}
}

func dataShowCmd(s *settings, stdout, stderr io.Writer) *cobra.Command {
	var out string
	var n int
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Write a PNG grid of a dataset's first training images",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := s.checkOutput(cmd.Context(), "--output", out); err != nil {
				return err
			}
			loader := &data.Loader{DataDir: s.dataDir(), CacheDir: s.cacheDir(), Progress: stderr, Terminal: progress.IsTerminal(stderr)}
			return data.ShowGrid(cmd.Context(), loader, args[0], n, out, stdout)
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "grid.png", "PNG file to write")
	cmd.Flags().IntVarP(&n, "n", "n", 64, "number of images")
	return cmd
}
