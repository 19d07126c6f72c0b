package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/internal/blaslib"
	"github.com/vaelab/vaelab/internal/fault"
	"github.com/vaelab/vaelab/internal/safefile"
	"github.com/vaelab/vaelab/internal/threads"
	"github.com/vaelab/vaelab/report"
	"github.com/vaelab/vaelab/runs"
)

// settings are the workspace settings, resolved by viper with the precedence
// flag > VAELAB_* environment variable > config file > default. The config file
// is --config, or .vaelab.yaml in the working directory when present.
type settings struct {
	v       *viper.Viper
	threads threads.Decision // decided with the BLAS setup
}

func newSettings() *settings {
	v := viper.New()
	v.SetEnvPrefix("VAELAB")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()
	return &settings{v: v}
}

// bindFlags declares the settings flags on the root command; a flag's
// default is its setting's (viper falls back to it).
func (s *settings) bindFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.String("config", "", "settings file (YAML; default .vaelab.yaml in the working directory, if present)")
	f.String("db", "vaelab.db", "workspace database (env VAELAB_DB)")
	f.Int("workers", runtime.NumCPU(), "runs trained at once (env VAELAB_WORKERS)")
	f.String("data-dir", data.DefaultDir(), "folder of downloaded datasets, e.g. holding frey/frey_rawface.mat (env VAELAB_DATA_DIR)")
	f.String("runs-dir", "", "folder for run files (checkpoints, images); default vaelab-runs beside the database (env VAELAB_RUNS_DIR)")
	f.String("cache-dir", filepath.Join(data.DefaultDir(), "decoded"), "folder for decoded copies of datasets, shared by runs (env VAELAB_CACHE_DIR)")
	f.String("blas", blaslib.Auto, "matrix products: auto (OpenBLAS when installed, its kernels checked against the CPU), openblas, or gonum (pure Go) (env VAELAB_BLAS)")
	f.String("threads", threads.Auto, "threads of one run: auto (usable cores / workers, fewer where more do not pay here; vaelab doctor shows why) or a number (env VAELAB_THREADS)")
	for _, key := range strings.Fields(settingKeys) {
		_ = s.v.BindPFlag(key, f.Lookup(strings.ReplaceAll(key, "_", "-"))) // the flags exist: declared just above
	}
}

// settingKeys are the settings file's keys; each is a flag with - for _.
const settingKeys = "db workers data_dir runs_dir cache_dir blas threads"

// load reads the config file, if any. Call it once flags are parsed.
func (s *settings) load(cmd *cobra.Command) error {
	path, _ := cmd.Flags().GetString("config")
	if path == "" {
		if _, err := os.Stat(".vaelab.yaml"); err != nil {
			return nil
		}
		path = ".vaelab.yaml"
	}
	// Read as any file vaelab reads: a regular file of bounded size (a FIFO
	// or /dev/zero named .vaelab.yaml is refused, not read).
	b, err := safefile.Read(path, safefile.MaxSettings)
	if err != nil {
		return &exitError{exitUsage, fmt.Errorf("read settings %s: %w", path, err)}
	}
	s.v.SetConfigFile(path) // its extension gives the format
	if err := s.v.ReadConfig(bytes.NewReader(b)); err != nil {
		return &exitError{exitUsage, fmt.Errorf("read settings %s: %w", path, err)}
	}
	for _, k := range s.v.AllKeys() {
		if k != "config" && !slices.Contains(strings.Fields(settingKeys), k) {
			return &exitError{exitUsage, fmt.Errorf("settings %s: unknown key %q (known: %s)", path, k, strings.ReplaceAll(settingKeys, " ", ", "))}
		}
	}
	return nil
}

func (s *settings) db() string       { return s.v.GetString("db") }
func (s *settings) dataDir() string  { return s.v.GetString("data_dir") }
func (s *settings) cacheDir() string { return s.v.GetString("cache_dir") }
func (s *settings) loader() *data.Loader {
	return &data.Loader{DataDir: s.dataDir(), CacheDir: s.cacheDir()}
}

// needsBLAS marks, in a command's Annotations, the commands that compute:
// the root sets up the BLAS and threads before them, once. The value
// trainsPool marks those that train --workers runs at once; others, one.
const needsBLAS, trainsPool = "vaelab.blas", "workers"

// setupBLAS decides the threads of one computation from the threads setting
// (package threads; it remembers measurements in the cache_dir folder, as
// other per-machine figures, the only folder it may write) and chooses the BLAS
// from the blas setting; warnings (a kernel set that failed its check) go to stderr.
func (s *settings) setupBLAS(cores string, stderr io.Writer) (err error) {
	workers := 1
	if cores == trainsPool {
		workers = s.v.GetInt("workers") // sweep refuses one below 1
	}
	if s.threads, err = threads.Resolve(s.v.GetString("threads"), workers, s.cacheDir()); err == nil {
		_, err = blaslib.Setup(blaslib.Options{Choice: s.v.GetString("blas"), Warn: stderr, Threads: s.threads.N, ThreadsRule: s.threads.Rule})
	}
	if err != nil {
		return &exitError{exitUsage, err}
	}
	return nil
}

// workspace is where commands work, as these settings resolve it.
func (s *settings) workspace() runs.Workspace {
	return runs.Workspace{DB: s.db(), DataDir: s.dataDir(), CacheDir: s.cacheDir(), RunsDir: s.runsDir()}
}

// sweep fills in o, the options of run or evaluate, from the settings and
// --report (reportPath, "" for none), which may not lead to the workspace's
// files or to spec, the spec or experiment run.
func (s *settings) sweep(ctx context.Context, o *runs.SweepOptions, reportPath, spec string, stdout io.Writer) error {
	if err := s.checkOutput(ctx, "--report", reportPath, spec); err != nil {
		return err
	}
	if o.Workers = s.v.GetInt("workers"); o.Workers < 1 {
		return &exitError{exitUsage, fmt.Errorf("workers: %q must be a positive integer", s.v.GetString("workers"))}
	}
	o.Workspace = s.workspace()
	if reportPath != "" {
		o.Report = report.WriteAfter(reportPath, stdout)
	}
	return nil
}

// checkOutput refuses, before any work starts, an output path (the value of
// flag) that leads to the workspace's own files or to one of specs, the
// spec being run (see runs.CheckOutput); "" (no output) passes.
func (s *settings) checkOutput(ctx context.Context, flag, path string, specs ...string) error {
	return runs.CheckOutput(ctx, s.workspace(), s.v.ConfigFileUsed(), flag, path, specs...)
}

func (s *settings) runsDir() string {
	if d := s.v.GetString("runs_dir"); d != "" {
		return d
	}
	return filepath.Join(filepath.Dir(s.db()), "vaelab-runs")
}

// failure gives a command's error its exit status: exitErrors keep theirs;
// a stop (Ctrl-C, SIGTERM) is an interruption; an error the packages marked
// as the user's (fault.User: a spec, flag or argument to fix) is a usage
// error; anything else is a failure.
func failure(err error) error {
	var ee *exitError
	switch {
	case err == nil || errors.As(err, &ee):
		return err
	case errors.Is(err, context.Canceled):
		return &exitError{exitInterrupted, err}
	case fault.IsUser(err):
		return &exitError{exitUsage, err}
	}
	return &exitError{exitFailure, err}
}

// readStore runs fn with the workspace database opened read-only: reading
// commands neither create a workspace nor write while a sweep runs.
func readStore(cmd *cobra.Command, s *settings, fn func(ctx context.Context, st *runs.Store) error) error {
	return runs.WithStore(cmd.Context(), s.db(), false, fn)
}

// writeStore is readStore for commands that write (tag, note, archive, rm).
func writeStore(cmd *cobra.Command, s *settings, fn func(ctx context.Context, st *runs.Store) error) error {
	return runs.WithStore(cmd.Context(), s.db(), true, fn)
}
