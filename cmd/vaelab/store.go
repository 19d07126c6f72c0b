package main

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/vaelab/vaelab/internal/fault"
	"github.com/vaelab/vaelab/runs"
)

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
