// Package termtext makes text from specs and the store safe to print on a
// terminal: control characters are shown as escapes, never sent raw.
package termtext

import (
	"fmt"
	"strings"
	"unicode"
)

// Safe shows control characters in names from a spec or the store as
// escapes (\x1b, \u202e), so that printing them cannot move the cursor,
// recolour, retitle or rewrite the user's terminal.
func Safe(s string) string {
	if strings.IndexFunc(s, isUnsafeRune) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !isUnsafeRune(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

// isUnsafeRune: C0 and C1 controls, DEL, and the bidirectional overrides
// that reorder what a terminal shows.
func isUnsafeRune(r rune) bool {
	return unicode.IsControl(r) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

// Lines is Safe for text of several lines: newlines stay, every other
// control character is escaped.
func Lines(s string) string {
	parts := strings.Split(s, "\n")
	for i, p := range parts {
		parts[i] = Safe(p)
	}
	return strings.Join(parts, "\n")
}
