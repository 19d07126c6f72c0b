package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/vaelab/vaelab/runs"
)

// failure gives a command's error its exit status: the user's errors are
// exitErrors already; a stop (Ctrl-C, SIGTERM) is an interruption; anything
// else is a failure.
func failure(err error) error {
	var ee *exitError
	switch {
	case err == nil || errors.As(err, &ee):
		return err
	case errors.Is(err, context.Canceled):
		return &exitError{exitInterrupted, err}
	}
	return &exitError{exitFailure, err}
}

func openStore(ctx context.Context, s *settings) (*runs.Store, error) {
	st, err := runs.Open(ctx, s.db())
	return st, failure(err)
}

// requireDB fails when the workspace has no database yet: only run creates one.
func requireDB(s *settings) error {
	if _, err := os.Stat(s.db()); err != nil {
		return &exitError{exitFailure, fmt.Errorf("no database at %s (run a spec first, or set --db)", s.db())}
	}
	return nil
}

// openExistingForWriting opens the workspace database for writing, refusing
// to create one.
func openExistingForWriting(ctx context.Context, s *settings) (*runs.Store, error) {
	if err := requireDB(s); err != nil {
		return nil, err
	}
	return openStore(ctx, s)
}

// openExistingStore opens the database read-only for reading commands, which
// must neither create an empty workspace by accident nor write while a sweep runs.
func openExistingStore(ctx context.Context, s *settings) (*runs.Store, error) {
	if err := requireDB(s); err != nil {
		return nil, err
	}
	st, err := runs.OpenReadOnly(ctx, s.db())
	return st, failure(err)
}

// readStore runs fn with the workspace database opened read-only; fn's
// errors get their exit status from failure.
func readStore(cmd *cobra.Command, s *settings, fn func(ctx context.Context, st *runs.Store) error) error {
	return useStore(cmd, s, openExistingStore, fn)
}

// writeStore is readStore for commands that write (tag, note, rm, doctor --repair).
func writeStore(cmd *cobra.Command, s *settings, fn func(ctx context.Context, st *runs.Store) error) error {
	return useStore(cmd, s, openExistingForWriting, fn)
}

func useStore(cmd *cobra.Command, s *settings, open func(context.Context, *settings) (*runs.Store, error), fn func(ctx context.Context, st *runs.Store) error) error {
	st, err := open(cmd.Context(), s)
	if err != nil {
		return err
	}
	defer st.Close()
	return failure(fn(cmd.Context(), st))
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
