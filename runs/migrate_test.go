package runs

import (
	"context"
	"testing"
)

// Schema 4 accepts the early-stopping statuses, and still refuses others.
func TestSchema4AcceptsStoppedStatuses(t *testing.T) {
	st, _ := openTemp(t)
	ctx := context.Background()
	if _, err := st.db.ExecContext(ctx, "INSERT INTO runs (id, config, seed, status, created_at) VALUES ('a', '{}', 1, 'pending', 'now')"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{StatusPaused, StatusStopped} {
		if _, err := st.db.ExecContext(ctx, "UPDATE runs SET status=? WHERE id='a'", s); err != nil {
			t.Errorf("status %s: %v", s, err)
		}
	}
	if _, err := st.db.ExecContext(ctx, "UPDATE runs SET status='sleeping' WHERE id='a'"); err == nil {
		t.Error("an unknown status was accepted")
	}
	var check string
	if err := st.db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity check: %s %v", check, err)
	}
}
