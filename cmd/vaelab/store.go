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
	return useStore(cmd, s, runs.OpenExistingReadOnly, fn)
}

// writeStore is readStore for commands that write (tag, note, rm, doctor --repair).
func writeStore(cmd *cobra.Command, s *settings, fn func(ctx context.Context, st *runs.Store) error) error {
	return useStore(cmd, s, runs.OpenExisting, fn)
}

func useStore(cmd *cobra.Command, s *settings, open func(context.Context, string) (*runs.Store, error), fn func(ctx context.Context, st *runs.Store) error) error {
	st, err := open(cmd.Context(), s.db())
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(cmd.Context(), st)
}

// withRun runs fn with the run whose id starts with prefix, the store opened read-only.
func withRun(cmd *cobra.Command, s *settings, prefix string, fn func(ctx context.Context, st *runs.Store, r runs.RunInfo) error) error {
	return readStore(cmd, s, func(ctx context.Context, st *runs.Store) error {
		r, err := st.FindRun(ctx, prefix)
		if err != nil {
			return err
		}
		return fn(ctx, st, r)
	})
}
