package runs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/evaluate"
	"github.com/vaelab/vaelab/experiments"
	"github.com/vaelab/vaelab/internal/atomicfile"
	"github.com/vaelab/vaelab/internal/safefile"
	"github.com/vaelab/vaelab/vae"
)

// FitSamplers fits a trained run's eval.samplers, restoring those whose fit
// is stored among the run's artifacts under the same key (sampler settings,
// seed, final checkpoint) from any earlier evaluation. A stored file whose
// sha256 no longer matches its record is passed over.
func FitSamplers(ctx context.Context, st *Store, runID string, cfg experiments.RunConfig, m *vae.Model, train data.Images) ([]evaluate.FittedSampler, error) {
	training, err := st.ArtifactsAt(ctx, runID, "")
	if err != nil {
		return nil, err
	}
	model := training["checkpoint"].SHA256
	var readErr error
	stored := func(name string) [][]byte {
		arts, err := st.ArtifactsOfKind(ctx, runID, evaluate.FitKind(name))
		if err != nil {
			readErr = err
			return nil
		}
		var files [][]byte
		for _, a := range arts {
			if b, err := safefile.Read(a.Path, safefile.RecordedLimit(a.Bytes, safefile.MaxFit)); err == nil && sha256Hex(b) == a.SHA256 {
				files = append(files, b)
			}
		}
		return files
	}
	fits, err := evaluate.FitSamplers(ctx, m, train, cfg, model, stored)
	if readErr != nil {
		return nil, readErr
	}
	return fits, err
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// writeFits stores each fitted sampler's fit (the prior has none to keep) in
// dir as fit-NAME.json, recorded under the run's evaluation hash.
func (sc *Scheduler) writeFits(ctx context.Context, r experiments.Run, dir string, fits []evaluate.FittedSampler) error {
	for _, f := range fits {
		if f.Name == "prior" {
			continue
		}
		path := filepath.Join(dir, "fit-"+f.Name+".json")
		sum, size, err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
			_, err := io.Copy(w, bytes.NewReader(f.File))
			return err
		})
		if err != nil {
			return fmt.Errorf("store the %s sampler's fit: %w", f.Name, err)
		}
		a := Artifact{RunID: r.ID, EvalHash: r.Config.EvalHash(), Kind: evaluate.FitKind(f.Name), Path: path, SHA256: sum, Bytes: size}
		if err := sc.Store.PutArtifact(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// DrawImages decodes n draws of a fitted sampler into images shaped like like.
func DrawImages(ctx context.Context, m *vae.Model, s vae.Sampler, n int, like data.Images, rng *rand.Rand) (data.Images, error) {
	z, err := s.Draw(ctx, rng, n)
	if err != nil {
		return data.Images{}, err
	}
	return m.Decode(ctx, z, like)
}
