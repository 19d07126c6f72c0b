package blaslib

import (
	"strings"
	"testing"
)

func TestOwnProductsTakeOverWhereAsWide(t *testing.T) {
	openblas := func(core string) Info { return Info{Library: "OpenBLAS", Core: core} }
	for _, c := range []struct {
		name      string
		choice    string
		info      Info
		kernel    string
		available bool
		want      bool
		says      string
	}{
		{"forced Haswell on AVX-512", Auto, openblas("Haswell"), "avx512", true, true, "the OpenBLAS core Haswell is AVX2"},
		{"generic Prescott", OpenBLAS, openblas("Prescott"), "avx2", true, true, "core Prescott is SSE3"},
		{"the library's AVX-512 core", Auto, openblas("Cooperlake"), "avx512", true, false, "as wide as"},
		{"Haswell core, AVX2 kernel", Auto, openblas("Haswell"), "avx2", true, true, "as wide as the OpenBLAS core Haswell"},
		{"Zen core, AVX2 kernel", OpenBLAS, openblas("Zen"), "avx2", true, true, "as wide as the OpenBLAS core Zen"},
		{"SkylakeX core, AVX-512 kernel", Auto, openblas("SkylakeX"), "avx512", true, false, "as wide as"},
		{"unknown core name", Auto, openblas("Neoverse"), "avx512", true, false, "informed choice"},
		{"no OpenBLAS", Auto, Info{Library: "gonum"}, "avx2", true, true, "no OpenBLAS"},
		{"gonum asked for", Gonum, Info{Library: "gonum"}, "avx512", true, false, "pure Go"},
		{"no compiled kernels", Auto, openblas("Haswell"), "go", false, false, "need cgo"},
	} {
		t.Run(c.name, func(t *testing.T) {
			use, why := ownProducts(c.choice, c.info, c.kernel, c.available)
			if use != c.want || !strings.Contains(why, c.says) {
				t.Errorf("ownProducts = %t, %q; want %t, containing %q", use, why, c.want, c.says)
			}
		})
	}
}
