package runs

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/vaelab/vaelab/internal/blaslib"
	"github.com/vaelab/vaelab/internal/safefile"
	"github.com/vaelab/vaelab/internal/threads"
)

// Finding is one problem the doctor found, and what a repair would do.
type Finding struct {
	Kind, RunID, Detail string
	// Repair says what Repair does about it; "" when it needs a person.
	Repair string
	// Waiting marks a run that needs its spec run again (interrupted), not
	// damage: doctor lists it with how to resume it and still passes.
	Waiting bool
}

// Check verifies the workspace: SQLite's integrity check; runs left "running"
// by a worker that is gone; artifacts whose file is missing or no longer
// matches its sha256; runs whose stored loss curve does not have one value per
// recorded step. It changes nothing.
func (s *Store) Check(ctx context.Context) ([]Finding, error) {
	var out []Finding
	rows, err := s.db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return nil, fmt.Errorf("integrity check: %w", err)
	}
	for rows.Next() {
		var msg string
		if err := rows.Scan(&msg); err != nil {
			rows.Close()
			return nil, err
		}
		if msg != "ok" {
			out = append(out, Finding{Kind: "integrity", Detail: msg})
		}
	}
	rows.Close()

	type runRow struct {
		id, status, owner string
		exps              string // the experiments it belongs to, comma-separated
		heartbeat         time.Time
		steps, losses     int
	}
	var rs []runRow
	rows, err = s.db.QueryContext(ctx, `SELECT r.id, r.status, r.owner, r.heartbeat_at, r.steps,
		(SELECT count(*) FROM metrics m WHERE m.run_id = r.id AND m.key = 'train/loss'),
		coalesce((SELECT group_concat(experiment, ', ') FROM experiment_runs er WHERE er.run_id = r.id), '') FROM runs r`)
	if err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	for rows.Next() {
		var r runRow
		var hb sql.NullString
		if err := rows.Scan(&r.id, &r.status, &r.owner, &hb, &r.steps, &r.losses, &r.exps); err != nil {
			rows.Close()
			return nil, err
		}
		r.heartbeat = parseTime(hb)
		rs = append(rs, r)
	}
	rows.Close()
	for _, r := range rs {
		if r.status == StatusRunning && !ownerAlive(r.owner, r.heartbeat, staleAfter) {
			out = append(out, Finding{Kind: "orphaned", RunID: r.id, Detail: "marked running, but its worker " + r.owner + " is gone; " + resumeAdvice(r.exps, r.steps),
				Repair: "mark it interrupted, so the next vaelab run resumes it"})
		}
		// Interrupted is a stop nobody has resumed yet (Ctrl-C, a kill, a
		// full disk): nothing will train it until its spec runs again.
		if r.status == StatusInterrupted {
			out = append(out, Finding{Kind: "stuck", RunID: r.id, Detail: "interrupted and not being trained; " + resumeAdvice(r.exps, r.steps), Waiting: true})
		}
		if r.status != StatusRunning && r.losses != r.steps {
			out = append(out, Finding{Kind: "curve", RunID: r.id, Detail: fmt.Sprintf("%d recorded steps but %d loss values", r.steps, r.losses)})
		}
	}

	rows, err = s.db.QueryContext(ctx, "SELECT run_id, kind, path, sha256, bytes FROM artifacts ORDER BY run_id, kind")
	if err != nil {
		return nil, fmt.Errorf("read artifacts: %w", err)
	}
	var arts []Artifact
	for rows.Next() {
		var a Artifact
		if err := rows.Scan(&a.RunID, &a.Kind, &a.Path, &a.SHA256, &a.Bytes); err != nil {
			rows.Close()
			return nil, err
		}
		a.Path = s.resolve(a.Path)
		arts = append(arts, a)
	}
	rows.Close()
	for _, a := range arts {
		if ctx.Err() != nil {
			break
		}
		if detail := checkArtifact(ctx, a); detail != "" {
			out = append(out, Finding{Kind: "artifact", RunID: a.RunID, Detail: detail})
		}
	}
	return out, ctx.Err()
}

// checkArtifact says what is wrong with an artifact's file, "" when it is
// the recorded one. Only a regular file of the recorded size is hashed: a
// FIFO, a device (/dev/zero) or a file of another size is named at once,
// without reading it, and hashing stops when ctx is cancelled.
func checkArtifact(ctx context.Context, a Artifact) string {
	f, size, err := safefile.Open(a.Path, safefile.NoLimit)
	switch {
	case os.IsNotExist(err):
		return fmt.Sprintf("%s file %s is missing", a.Kind, a.Path)
	case err != nil:
		return fmt.Sprintf("%s file %s is unreadable: %v", a.Kind, a.Path, err)
	}
	defer f.Close()
	if size != a.Bytes {
		return fmt.Sprintf("%s file %s changed since it was written (%d bytes, recorded %d)", a.Kind, a.Path, size, a.Bytes)
	}
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, f}); err != nil {
		return fmt.Sprintf("%s file %s is unreadable: %v", a.Kind, a.Path, err)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != a.SHA256 {
		return fmt.Sprintf("%s file %s changed since it was written (sha256 %s, recorded %s)", a.Kind, a.Path, sum[:12], a.SHA256[:12])
	}
	return ""
}

// ctxReader stops a long read once ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// resumeAdvice says how to resume a run of the experiments exps.
func resumeAdvice(exps string, steps int) string {
	from := "from scratch (no step recorded)"
	if steps > 0 {
		from = fmt.Sprintf("from its last checkpoint (%d steps recorded)", steps)
	}
	if exps == "" {
		return "no experiment lists it, so no spec will resume it (vaelab rm RUN deletes it)"
	}
	return fmt.Sprintf("run the spec of experiment %s again (vaelab run SPEC) to resume it %s", exps, from)
}

// Repair applies the repairs Check proposes (today: orphaned runs become
// interrupted) and returns how many it made. Nothing else is touched.
func (s *Store) Repair(ctx context.Context, findings []Finding) (int, error) {
	n := 0
	for _, f := range findings {
		if f.Kind != "orphaned" {
			continue
		}
		var owner string
		if err := s.db.QueryRowContext(ctx, "SELECT owner FROM runs WHERE id = ?", f.RunID).Scan(&owner); err != nil {
			return n, err
		}
		if err := s.MarkInterrupted(ctx, f.RunID, owner, "found orphaned by vaelab doctor"); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// DoctorWorkspace is vaelab doctor: the BLAS and threads this machine trains
// with (PrintBLAS), then Doctor on the database at db, opened for writing
// only to repair.
func DoctorWorkspace(ctx context.Context, db string, repair bool, b blaslib.Info, t threads.Decision, w io.Writer) error {
	PrintBLAS(w, b, t)
	// What the OpenBLAS core in use costs (a forced one, say), measured.
	fmt.Fprintf(w, "%-9s %-16s %s\n", "core", "", blaslib.CoreCost())
	return WithStore(ctx, db, repair, func(ctx context.Context, st *Store) error { return Doctor(ctx, st, w, repair) })
}

// Doctor checks the store, prints each finding and,
// with repair, applies the safe repairs. Its error counts the problems left;
// runs merely waiting to be resumed are listed but pass.
func Doctor(ctx context.Context, st *Store, w io.Writer, repair bool) error {
	findings, err := st.Check(ctx)
	if err != nil {
		return err
	}
	problems := PrintFindings(w, findings, repair)
	if repair {
		n, err := st.Repair(ctx, findings)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "repaired %d of %d findings\n", n, len(findings))
		if n == len(findings) {
			return nil
		}
	}
	if problems > 0 {
		return fmt.Errorf("%d problems found in %s", problems, st.Path())
	}
	waiting := ""
	if n := len(findings); n > 0 {
		waiting = fmt.Sprintf("; %s waiting to be resumed, listed above", Plural(n, "run"))
	}
	fmt.Fprintf(w, "%s: ok (integrity check passed, no orphaned runs, every file matches its sha256%s)\n", st.Path(), waiting)
	return nil
}

// PrintBLAS prints, in doctor's columns, the BLAS this machine trains with,
// the threads of a run trained alone (t, when decided) and why, and, when
// the BLAS runs slower than the CPU allows, what to do about it.
func PrintBLAS(w io.Writer, b blaslib.Info, t threads.Decision) {
	fmt.Fprintf(w, "%-9s %-16s %s\n", "blas", "", b)
	if t.N > 0 {
		fmt.Fprintf(w, "%-9s %-16s %s\n", "threads", "", threadsLine(t))
	}
	if level, advice := b.Advice(); advice != "" {
		fmt.Fprintf(w, "%-9s %-16s %s\n", level, "", advice)
	}
}

// threadsLine is t with what it applies to and, for a number set by the
// user, how to see what threads pay here.
func threadsLine(t threads.Decision) string {
	if t.Setting == threads.Auto {
		return t.String() + " for a run trained alone; run and evaluate divide the cores among --workers"
	}
	return t.String() + " per run; --threads auto measures what threads pay here"
}
