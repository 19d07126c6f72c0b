package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestBLASIsRecorded: the BLAS library and the kernels (core) that trained a
// run are in doctor, show, the report header and the bench header; a user's
// OPENBLAS_CORETYPE is what is recorded, and doctor warns when it is a
// generic core on a CPU that offers more.
func TestBLASIsRecorded(t *testing.T) {
	spec := "name: blas\ndataset: {name: synthetic, size: 8, count: 60, test_fraction: 0.5}\nmodel: {hidden: [8], latent: 2}\ntrain: {epochs: 1, batch_size: 30}\neval: {batch_size: 30, grid_images: 4, samples: 30}\nseeds: [1]\n"
	for _, tc := range []struct {
		name string
		env  []string
	}{
		{"auto", nil},
		{"user's Prescott", []string{"OPENBLAS_CORETYPE=Prescott"}},
		{"gonum", []string{"VAELAB_BLAS=gonum"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "blas.yaml"), []byte(spec), 0o644)
			if r := vaelab(t, dir, tc.env, "run", "blas.yaml", "--report", "report.html"); r.code != 0 {
				t.Fatalf("run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			doctor := vaelab(t, dir, tc.env, "doctor")
			m := regexp.MustCompile(`(?m)^blas +(.+)$`).FindStringSubmatch(doctor.stdout)
			if doctor.code != 0 || m == nil {
				t.Fatalf("doctor prints no blas line: exit %d\n%s%s", doctor.code, doctor.stdout, doctor.stderr)
			}
			blas := m[1]
			core := regexp.MustCompile(`core (\S+)`).FindStringSubmatch(blas)
			switch {
			case tc.name == "gonum":
				if !strings.HasPrefix(blas, "gonum (pure Go)") {
					t.Fatalf("VAELAB_BLAS=gonum: doctor says %q", blas)
				}
			case strings.HasPrefix(blas, "gonum"):
				if os.Getenv("CI") == "true" {
					t.Fatalf("no OpenBLAS under CI: %q", blas)
				}
				t.Skipf("no OpenBLAS here: %s", blas)
			case core == nil:
				t.Fatalf("doctor's blas line names no core: %q", blas)
			case tc.name == "user's Prescott":
				if core[1] != "Prescott" || !strings.Contains(blas, "set by the user") {
					t.Fatalf("OPENBLAS_CORETYPE=Prescott: doctor says %q", blas)
				}
				if !strings.Contains(blas, "thread") {
					t.Fatalf("no thread count: %q", blas)
				}
				if regexp.MustCompile(`avx2|avx512`).MatchString(strings.ToLower(cpuFlags(t))) && !strings.Contains(doctor.stdout, "generic Prescott kernels") {
					t.Errorf("doctor does not warn about Prescott on this CPU:\n%s", doctor.stdout)
				}
			}
			// The library and its core, as doctor names them; the thread
			// count's rule differs between doctor (one run alone) and run.
			want, _, _ := strings.Cut(blas, "; float32 products")
			if core != nil {
				want = "core " + core[1]
			}
			ls := vaelab(t, dir, nil, "ls", "blas")
			id := regexp.MustCompile(`(?m)^([0-9a-f]{16})`).FindStringSubmatch(ls.stdout)
			if id == nil {
				t.Fatalf("ls: %s%s", ls.stdout, ls.stderr)
			}
			if show := vaelab(t, dir, nil, "show", id[1]); !regexp.MustCompile(`(?m)^BLAS +.*` + regexp.QuoteMeta(want)).MatchString(show.stdout) {
				t.Errorf("show does not record %q:\n%s", want, show.stdout)
			}
			page, _ := os.ReadFile(filepath.Join(dir, "report.html"))
			if !strings.Contains(string(page), want) {
				t.Errorf("the report header does not record %q", want)
			}
			bench := vaelab(t, dir, tc.env, "bench", "--settle", "0", "--python", "", "--mlp-steps", "1", "--conv-steps", "1", "--rounds", "1", "--sections", "train")
			if !regexp.MustCompile(`(?m)^training steps: .*vaelab BLAS: .*`+regexp.QuoteMeta(want)).MatchString(bench.stdout) || !strings.Contains(bench.stdout, "CPU: ") {
				t.Errorf("the bench header does not record %q and the CPU:\n%s%s", want, bench.stdout, bench.stderr)
			}
		})
	}
}

func cpuFlags(t *testing.T) string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip("no /proc/cpuinfo")
	}
	return string(b)
}
