package runs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/internal/safefile"
	"github.com/vaelab/vaelab/vae"
)

// CheckpointPath is where a run keeps its checkpoint: checkpoint.vck in its
// run directory.
func CheckpointPath(r RunInfo) string { return filepath.Join(r.Dir, checkpointFile) }

// LoadCheckpoint reads the checkpoint of a trained run, trusting it only
// when it is the file the store recorded for that run: its sha256 must be
// the recorded one and the run id inside it the run's own. A checkpoint
// copied from another run, replaced or edited is refused with a message that
// says which check failed.
func LoadCheckpoint(ctx context.Context, st *Store, r RunInfo) (*vae.Checkpoint, error) {
	path := CheckpointPath(r)
	arts, err := st.Artifacts(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	rec, ok := arts["checkpoint"]
	if !ok {
		return nil, fmt.Errorf("run %s has no recorded checkpoint (status %s); only runs that trained with checkpoints can be loaded", r.ID, r.Status)
	}
	// The recorded size bounds the read: a file replaced by a huge one is
	// refused before it is read.
	b, err := safefile.Read(path, safefile.RecordedLimit(rec.Bytes, safefile.MaxCheckpoint))
	if err != nil {
		return nil, fmt.Errorf("checkpoint of run %s: %w", r.ID, err)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != rec.SHA256 {
		return nil, fmt.Errorf("checkpoint %s: sha256 %s is not the %s recorded for run %s: the file was replaced or changed (vaelab doctor lists such files)", path, got[:12], rec.SHA256[:12], r.ID)
	}
	c, err := vae.ReadCheckpoint(bytes.NewReader(b))
	if err == nil {
		err = st.checkOwner(ctx, c, r.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return c, nil
}

// checkOwner accepts a checkpoint of run runID, also one written under an
// id the run had before (an alias), which it then names by the current id.
func (s *Store) checkOwner(ctx context.Context, c *vae.Checkpoint, runID string) error {
	owned, err := s.owns(ctx, c, runID)
	if err == nil && !owned {
		err = notOwner(c, runID)
	}
	return err
}

// notOwner says that checkpoint c is another run's than runID.
func notOwner(c *vae.Checkpoint, runID string) error {
	return fmt.Errorf("it belongs to run %s, not %s", c.Run, runID)
}

// owns reports whether checkpoint c is run runID's: written under its id or
// an alias of it, which it then names by the current id.
func (s *Store) owns(ctx context.Context, c *vae.Checkpoint, runID string) (bool, error) {
	if c.Run == runID {
		return true, nil
	}
	aliases, err := s.Aliases(ctx, runID)
	if err != nil || !slices.Contains(aliases, c.Run) {
		return false, err
	}
	c.Run = runID
	return true, nil
}

// LoadTrained rebuilds a trained run's model from its final checkpoint
// (LoadCheckpoint) and loads its dataset: what evaluation and vaelab sample
// start from.
func LoadTrained(ctx context.Context, st *Store, r RunInfo, cfg experiments.RunConfig, loader *data.Loader) (*vae.Model, *data.Dataset, error) {
	c, err := LoadCheckpoint(ctx, st, r)
	if err != nil {
		return nil, nil, err
	}
	ds, err := loader.Load(ctx, cfg.Dataset)
	if err != nil {
		return nil, nil, fmt.Errorf("load dataset: %w", err)
	}
	ds = ds.CapTest(cfg.Eval.WithDefaults().Samples)
	m, err := vae.LoadModel(cfg.Model, vae.ShapeOf(ds.Test), c)
	if err != nil {
		return nil, nil, err
	}
	return m, ds, nil
}
