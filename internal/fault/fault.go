// Package fault tells the user's errors (a bad spec, flag, argument or
// setting: fix the input and try again) and stops (Ctrl-C, SIGTERM: run the
// command again to resume) from failures of the work itself, so that the
// packages which find them can say which is which and the CLI can give each
// its exit status without knowing where it arose.
package fault

import (
	"context"
	"errors"
)

// userError marks an error as the user's to fix; its message is unchanged.
type userError struct{ err error }

func (e userError) Error() string { return e.err.Error() }
func (e userError) Unwrap() error { return e.err }

// User marks err as the user's to fix; nil stays nil.
func User(err error) error {
	if err == nil {
		return nil
	}
	return userError{err}
}

// IsUser reports whether err, or an error it wraps, was marked by User.
func IsUser(err error) bool {
	var u userError
	return errors.As(err, &u)
}

// stopped is a stop told in its own words: errors.Is finds context.Canceled
// in it, as in the errors of work cut short by a cancelled context.
type stopped struct{ err error }

func (e stopped) Error() string        { return e.err.Error() }
func (e stopped) Unwrap() error        { return e.err }
func (e stopped) Is(target error) bool { return target == context.Canceled }

// Stopped marks err as a stop (errors.Is(err, context.Canceled) holds)
// without adding "context canceled" to its message; nil stays nil.
func Stopped(err error) error {
	if err == nil {
		return nil
	}
	return stopped{err}
}
