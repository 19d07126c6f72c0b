package main

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestThreadsSetting: a bad threads setting, from a flag, the environment
// or the settings file, is a usage error that names it and says what to
// write; a good one reaches doctor's threads line (doctor then fails only
// for want of a database) and costs no measurement.
func TestThreadsSetting(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      []string
		file     string
		args     []string
		bad      bool
		contains string
	}{
		{"flag 0", nil, "", []string{"--threads", "0"}, true, `threads: "0" is neither auto nor a positive integer`},
		{"flag many", nil, "", []string{"--threads", "many"}, true, "to auto or to a number of threads"},
		{"env -1", []string{"VAELAB_THREADS=-1"}, "", nil, true, `threads: "-1"`},
		{"file 1.5", nil, "threads: 1.5\n", nil, true, `threads: "1.5"`},
		{"file 3", nil, "threads: 3\n", nil, false, "3 (set by the threads setting)"},
		{"env 2 over the file", []string{"VAELAB_THREADS=2"}, "threads: 3\n", nil, false, "2 (set by the threads setting)"},
		{"flag 1 over the env", []string{"VAELAB_THREADS=2"}, "", []string{"--threads", "1"}, false, "1 (set by the threads setting)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.file != "" {
				if err := os.WriteFile(filepath.Join(dir, ".vaelab.yaml"), []byte(tc.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r := vaelab(t, dir, tc.env, append([]string{"doctor"}, tc.args...)...)
			out := r.stderr
			if !tc.bad {
				out = threadsLine(t, r)
			}
			if (r.code == exitUsage) != tc.bad || !strings.Contains(out, tc.contains) {
				t.Fatalf("exit %d, want a usage error: %v, and %q:\n%s%s", r.code, tc.bad, tc.contains, r.stdout, r.stderr)
			}
			if _, err := os.Stat(filepath.Join(dir, "decoded-cache", "threads.json")); err == nil {
				t.Error("a number set by hand cost a measurement")
			}
		})
	}
}

// TestThreadsAuto: auto measures once, remembers it in the cache folder,
// and doctor says the rule and the capacity.
func TestThreadsAuto(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: auto has nothing to measure")
	}
	dir := t.TempDir()
	r := vaelab(t, dir, nil, "doctor")
	if line := threadsLine(t, r); !regexp.MustCompile(`^\d+ \(auto: \d+ usable cores / 1 worker; measured parallel capacity \d+\.\d\d of \d+ copies\)`).MatchString(line) {
		t.Errorf("doctor's threads line: %q", line)
	}
	if _, err := os.Stat(filepath.Join(dir, "decoded-cache", "threads.json")); err != nil {
		t.Errorf("the measurement is not remembered in the cache folder: %v", err)
	}
}

// TestThreadsReachProvenance: VAELAB_THREADS, as bench sets it for its
// children, is the thread count a run records and show prints.
func TestThreadsReachProvenance(t *testing.T) {
	dir := t.TempDir()
	spec := "name: threads\ndataset: {name: synthetic, size: 8, count: 40, test_fraction: 0.5}\nmodel: {hidden: [8], latent: 2}\ntrain: {epochs: 1, batch_size: 20}\neval: {batch_size: 20, grid_images: 4, samples: 20}\nseeds: [1]\n"
	if err := os.WriteFile(filepath.Join(dir, "threads.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := vaelab(t, dir, []string{"VAELAB_THREADS=2"}, "run", "threads.yaml"); r.code != 0 {
		t.Fatalf("run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	id := regexp.MustCompile(`(?m)^([0-9a-f]{16})`).FindStringSubmatch(vaelab(t, dir, nil, "ls", "threads").stdout)
	if id == nil {
		t.Fatal("ls lists no run")
	}
	show := vaelab(t, dir, nil, "show", id[1])
	blas := regexp.MustCompile(`(?m)^BLAS +(.*)$`).FindStringSubmatch(show.stdout)
	if blas == nil || len(regexp.MustCompile(`\b\d+ threads?\b`).FindAllString(blas[1], -1)) != 1 || !strings.Contains(blas[1], " 2 threads (set by") {
		t.Errorf("show does not record 2 threads, once:\n%s", show.stdout)
	}
}

// threadsLine is doctor's threads line after its columns.
func threadsLine(t *testing.T, r result) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^threads +(.+)$`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("doctor prints no threads line: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	return m[1]
}
