package termtext

import "testing"

func TestSafe(t *testing.T) {
	for _, tc := range []struct{ in, safe, lines string }{
		{"plain β=1 name", "plain β=1 name", "plain β=1 name"},
		{"\x1b[2Jclear", `\x1b[2Jclear`, `\x1b[2Jclear`},
		{"title\x1b]0;pwned\a", `title\x1b]0;pwned\x07`, `title\x1b]0;pwned\x07`},
		{"tab\there", `tab\x09here`, `tab\x09here`},
		{"two\nlines\r", `two\x0alines\x0d`, "two\nlines\\x0d"},
		{"bidi \u202egnp.exe", `bidi \u202egnp.exe`, `bidi \u202egnp.exe`},
		{"c1 \u009b31m", `c1 \x9b31m`, `c1 \x9b31m`},
	} {
		if got := Safe(tc.in); got != tc.safe {
			t.Errorf("Safe(%q) = %q, want %q", tc.in, got, tc.safe)
		}
		if got := Lines(tc.in); got != tc.lines {
			t.Errorf("Lines(%q) = %q, want %q", tc.in, got, tc.lines)
		}
	}
}
