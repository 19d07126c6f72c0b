package progress

import (
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// IsTerminal reports whether w is a terminal: progress redraws a bar there,
// and writes lines (or nothing) elsewhere.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Counter draws a bar of items done (for example "reading runs") on w when
// it is a terminal and the total reaches atLeast; it returns nil off a
// terminal, where the work is quick to wait for or logged elsewhere.
func Counter(w io.Writer, what string, atLeast int) func(done, total int) {
	if !IsTerminal(w) {
		return nil
	}
	var bar *progressbar.ProgressBar
	return func(done, total int) {
		if total < atLeast {
			return
		}
		if bar == nil {
			bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
				progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
		}
		_ = bar.Set(done)
	}
}

// Bytes draws a byte bar (for example "downloading frey") on a terminal;
// it returns nil elsewhere.
func Bytes(w io.Writer, what string) func(done, total int64) {
	if !IsTerminal(w) {
		return nil
	}
	var bar *progressbar.ProgressBar
	return func(done, total int64) {
		if bar == nil {
			bar = progressbar.DefaultBytes(total, what)
		}
		_ = bar.Set64(done)
	}
}
