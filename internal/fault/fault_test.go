package fault

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestUser(t *testing.T) {
	base := errors.New("spec x.yaml: line 3: unknown key")
	for _, c := range []struct {
		name string
		err  error
		user bool
	}{
		{"nil", User(nil), false},
		{"plain", base, false},
		{"marked", User(base), true},
		{"wrapped after marking", fmt.Errorf("run: %w", User(base)), true},
		{"marked after wrapping", User(fmt.Errorf("run: %w", base)), true},
	} {
		if got := IsUser(c.err); got != c.user {
			t.Errorf("%s: IsUser = %v, want %v", c.name, got, c.user)
		}
	}
	if User(nil) != nil {
		t.Error("User(nil) is not nil")
	}
	if err := User(base); err.Error() != base.Error() || !errors.Is(err, base) {
		t.Errorf("User changed the message or lost the cause: %v", err)
	}
}

func TestStopped(t *testing.T) {
	msg := "stopped waiting; the Slurm jobs keep running"
	for _, c := range []struct {
		name    string
		err     error
		stopped bool
	}{
		{"plain", errors.New(msg), false},
		{"marked", Stopped(errors.New(msg)), true},
		{"wrapped", fmt.Errorf("sync: %w", Stopped(errors.New(msg))), true},
		{"cancelled", fmt.Errorf("train: %w", context.Canceled), true},
	} {
		if got := errors.Is(c.err, context.Canceled); got != c.stopped {
			t.Errorf("%s: errors.Is(err, context.Canceled) = %v, want %v", c.name, got, c.stopped)
		}
	}
	if err := Stopped(errors.New(msg)); err.Error() != msg || IsUser(err) {
		t.Errorf("Stopped changed the message or made a user error: %v", err)
	}
	if Stopped(nil) != nil {
		t.Error("Stopped(nil) is not nil")
	}
}
