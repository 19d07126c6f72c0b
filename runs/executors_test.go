package runs

import (
	"context"
	"strings"
	"testing"
)

func TestExecutorTable(t *testing.T) {
	spec, _ := parseSpec(t, tinySpec)
	async, _ := parseSpec(t, ashaSpec)
	for _, tc := range []struct {
		name string
		spec bool // the async spec instead
		want string
	}{
		{"local", false, ""},
		{"worker", false, ""},
		{"slurm", false, ""},
		{"slurm", true, "decisions: async"},
		{"local", true, ""},
		{"kubernetes", false, "want local, slurm, worker"},
	} {
		s := spec
		if tc.spec {
			s = async
		}
		err := CheckExecutor(tc.name, s)
		if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckExecutor(%s, async %v) = %v; want %q", tc.name, tc.spec, err, tc.want)
		}
	}
}

// The worker executor trains nothing: every run stays pending, counted as
// deferred, for `vaelab worker` processes.
func TestDeferredLeavesRunsPending(t *testing.T) {
	ctx := context.Background()
	st, dir := openTemp(t)
	sc := newScheduler(st, dir)
	spec, rs := parseSpec(t, tinySpec)
	var log strings.Builder
	ex, err := NewExecutor(ctx, "worker", sc, spec, ExecutorOptions{Log: &log, DB: "w.db"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := sc.Prepare(ctx, spec, rs)
	if err != nil {
		t.Fatal(err)
	}
	res := ex.Execute(ctx, p)
	if res.Deferred != 1 || res.Done != 0 || !strings.Contains(log.String(), "vaelab worker --db w.db --experiment tiny") {
		t.Errorf("result %+v, log %q", res, log.String())
	}
	for id, r := range statuses(t, st, "tiny") {
		if r.Status != StatusPending {
			t.Errorf("run %s is %s, want pending", id, r.Status)
		}
	}
}
