package blaslib

import (
	"strings"
	"testing"
)

// Doctor's advice: a generic kernel set is a warning whose remedy depends
// on who chose it; gonum is a note; a fitting OpenBLAS needs none.
func TestAdvice(t *testing.T) {
	for _, c := range []struct {
		name  string
		info  Info
		level string
		says  string
	}{
		{"fitting OpenBLAS", Info{Library: "OpenBLAS", Core: "SkylakeX", CPU: "AVX-512"}, "", ""},
		{"generic, chosen by OpenBLAS", Info{Library: "OpenBLAS", Core: "Prescott", CPU: "AVX2", Generic: true, Reason: "detected"},
			"warning", "generic Prescott kernels on a CPU with AVX2, 3-6x slower than it could: this OpenBLAS build cannot switch"},
		{"generic, set by the user", Info{Library: "OpenBLAS", Core: "Prescott", CPU: "AVX2", Generic: true, Reason: userReason("Prescott", "Prescott")},
			"warning", "unset OPENBLAS_CORETYPE to let vaelab choose"},
		{"gonum", Info{Library: "gonum", Reason: "no OpenBLAS found"}, "note", "pure-Go BLAS, 3-5x slower than OpenBLAS"},
	} {
		level, advice := c.info.Advice()
		if level != c.level || !strings.Contains(advice, c.says) || (c.says == "") != (advice == "") {
			t.Errorf("%s: Advice() = %q, %q; want %q containing %q", c.name, level, advice, c.level, c.says)
		}
	}
}
