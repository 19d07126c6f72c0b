package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/vaelab/vaelab/internal/safefile"
	"github.com/vaelab/vaelab/internal/termtext"
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
	if _, err := os.Stat(s.db()); err == nil {
		// Runs may have been trained under another runs directory: their
		// folders are protected wherever the database says they are.
		if st, err := runs.OpenReadOnly(ctx, s.db()); err == nil {
			dirs, _ := st.RunsDirs(ctx)
			specs, _ := st.SpecHashes(ctx)
			st.Close()
			for _, d := range dirs {
				g.Dir(d, "a folder of the workspace's runs")
			}
			// A command given no spec still never overwrites one: an
			// existing file holding a stored experiment's spec is refused.
			if b, err := safefile.Read(path, safefile.MaxSpec); err == nil {
				sum := sha256.Sum256(b)
				if name, ok := specs[hex.EncodeToString(sum[:])]; ok {
					return &exitError{exitUsage, fmt.Errorf("%s %s: refusing to write there: it holds the spec of experiment %s, which vaelab never overwrites; name another file", flag, path, termtext.Safe(name))}
				}
			}
		}
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
