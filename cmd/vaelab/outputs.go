package main

import (
	"context"

	"github.com/vaelab/vaelab/internal/safefile"
	"github.com/vaelab/vaelab/runs"
)

// checkOutput refuses, before any work starts, an output path (the value of
// flag) that leads to the workspace's own files: the database with its WAL
// and shared memory, anything under the runs directory (the configured one
// and those the database records), the settings file, or one of specs (the
// spec being run). Every command that writes a
// file the user names calls it; "" (no output) passes.
func checkOutput(ctx context.Context, s *settings, flag, path string, specs ...string) error {
	if path == "" {
		return nil
	}
	var g safefile.Guard
	g.Store(s.db())
	g.Dir(s.runsDir(), "the runs directory")
	if f := s.v.ConfigFileUsed(); f != "" {
		g.File(f, "the settings file")
	}
	for _, spec := range specs {
		g.File(spec, "the spec being run")
	}
	if err := runs.GuardRecorded(ctx, s.db(), &g, flag, path); err != nil {
		return &exitError{exitUsage, err}
	}
	if err := g.Check(flag, path); err != nil {
		return &exitError{exitUsage, err}
	}
	return nil
}

// checkRunsDir refuses a system folder as the runs directory before a
// command that trains or evaluates creates anything.
func checkRunsDir(s *settings) error {
	if err := runs.CheckRunsDirPath(s.runsDir()); err != nil {
		return &exitError{exitUsage, err}
	}
	return nil
}
