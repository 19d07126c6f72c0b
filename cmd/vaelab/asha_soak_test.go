package main

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vaelab/vaelab/internal/testenv"
)

// TestASHATwoRunnerKillSoak is the two-runner kill soak for asynchronous
// successive halving (issue 28, defect 2): in each round two `vaelab run`
// processes share a fresh workspace and are SIGKILLed at random moments
// (each restarted a few times), then one more run finishes the search.
// After it no run may be left interrupted, running, paused or pending, every
// survivor (done) must have its evaluation, every run's curve one value per
// step, and doctor must find the store clean. VAELAB_SOAK_SECONDS sets the
// soak's length (default 60; at least 3 rounds).
func TestASHATwoRunnerKillSoak(t *testing.T) {
	testenv.Full(t, "two-runner SIGKILL soak of decisions: async")
	soak := 60 * time.Second
	if s := os.Getenv("VAELAB_SOAK_SECONDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("VAELAB_SOAK_SECONDS=%q", s)
		}
		soak = time.Duration(n) * time.Second
	}
	spec := strings.Replace(strings.Replace(searchSpec, "ETA", "3", 1), "eta: 3}", "eta: 3, decisions: async}", 1)
	env := []string{"VAELAB_CACHE_DIR=" + filepath.Join(t.TempDir(), "cache")}
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill moments drawn with seed %d", seed)
	deadline := time.Now().Add(soak)
	kills := 0
	for round := 0; round < 3 || time.Now().Before(deadline); round++ {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(spec), 0o644)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for w := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(seed, uint64(2*round+w)))
				for range 1 + rng.IntN(3) {
					cmd := exec.Command(binary, "run", "s.yaml", "--workers", "1")
					cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
					if err := cmd.Start(); err != nil {
						t.Error(err)
						return
					}
					exited := make(chan error, 1)
					go func() { exited <- cmd.Wait() }()
					select {
					case <-exited:
					case <-time.After(300*time.Millisecond + time.Duration(rng.Float64()*float64(3*time.Second))):
						cmd.Process.Signal(syscall.SIGKILL)
						<-exited
						mu.Lock()
						kills++
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		db := filepath.Join(dir, "vaelab.db")
		killed := countRows(t, db, "SELECT count(*) FROM runs WHERE status IN ('interrupted','running')")
		if r := vaelab(t, dir, env, "run", "s.yaml", "--workers", "2"); r.code != 0 {
			t.Fatalf("round %d: the run after the kills: exit %d\n%s%s", round, r.code, r.stdout, r.stderr)
		}
		left := countRows(t, db, "SELECT count(*) FROM runs WHERE status NOT IN ('done','stopped')")
		done := countRows(t, db, "SELECT count(*) FROM runs WHERE status='done'")
		unevaluated := countRows(t, db, "SELECT count(*) FROM runs r WHERE status='done' AND NOT EXISTS (SELECT 1 FROM evaluations e WHERE e.run_id=r.id)")
		ragged := countRows(t, db, "SELECT count(*) FROM runs r WHERE steps != (SELECT count(*) FROM metrics m WHERE m.run_id=r.id AND m.key='train/loss')")
		t.Logf("round %d: %d runs interrupted or running after the kills; after the rerun %d done, %d left unfinished", round, killed, done, left)
		if left != 0 || done == 0 || unevaluated != 0 || ragged != 0 {
			t.Fatalf("round %d: %d runs neither done nor stopped, %d done (%d without an evaluation), %d with missing or extra steps", round, left, done, unevaluated, ragged)
		}
		if r := vaelab(t, dir, env, "doctor"); r.code != 0 {
			t.Fatalf("round %d: doctor: exit %d\n%s%s", round, r.code, r.stdout, r.stderr)
		}
	}
	t.Logf("%d SIGKILLs", kills)
}
