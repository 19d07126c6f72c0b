package runs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"path/filepath"

	"github.com/vaelab/vaelab/data"
	"github.com/vaelab/vaelab/evaluate"
	"github.com/vaelab/vaelab/internal/atomicfile"
	"github.com/vaelab/vaelab/internal/safefile"
	"github.com/vaelab/vaelab/record"
)

// evalSink is where an evaluation of a run goes: files in the run folder's
// eval-HASH folder, recorded as artifacts under the evaluation hash, and
// the evaluation with its summaries in the store.
type evalSink struct {
	st              *Store
	runID, evalHash string
	dir             string // "" when nothing may be written (vaelab sample)
	model           string // the final checkpoint's sha256
}

// newEvalSink makes the sink of run runID's evaluation evalHash, writing
// into dir.
func newEvalSink(ctx context.Context, st *Store, runID, evalHash, dir string) (*evalSink, error) {
	training, err := st.ArtifactsAt(ctx, runID, "")
	if err != nil {
		return nil, err
	}
	return &evalSink{st: st, runID: runID, evalHash: evalHash, dir: dir, model: training["checkpoint"].SHA256}, nil
}

func (s *evalSink) Model() string { return s.model }

// StoredFits reads the run's stored fits of a kind from any earlier
// evaluation; a file whose sha256 no longer matches its record is passed over.
func (s *evalSink) StoredFits(ctx context.Context, kind string) ([][]byte, error) {
	arts, err := s.st.ArtifactsOfKind(ctx, s.runID, kind)
	if err != nil {
		return nil, err
	}
	var files [][]byte
	for _, a := range arts {
		if b, err := safefile.Read(a.Path, safefile.RecordedLimit(a.Bytes, safefile.MaxFit)); err == nil && sha256Hex(b) == a.SHA256 {
			files = append(files, b)
		}
	}
	return files, nil
}

func (s *evalSink) Grid(ctx context.Context, kind string, im data.Images, cols int) error {
	return s.write(ctx, kind, kind+".png", func(w io.Writer) error { return data.WriteGridPNG(w, im, cols, 2) })
}

func (s *evalSink) File(ctx context.Context, kind, name string, b []byte) error {
	return s.write(ctx, kind, name, func(w io.Writer) error { _, err := io.Copy(w, bytes.NewReader(b)); return err })
}

func (s *evalSink) write(ctx context.Context, kind, name string, fill func(io.Writer) error) error {
	path := filepath.Join(s.dir, name)
	sum, size, err := atomicfile.Write(path, 0o644, fill)
	if err != nil {
		return err
	}
	return s.st.PutArtifact(ctx, Artifact{RunID: s.runID, EvalHash: s.evalHash, Kind: kind, Path: path, SHA256: sum, Bytes: size})
}

func (s *evalSink) Event(ctx context.Context, kind, msg string) {
	_ = s.st.AddEvent(ctx, "", s.runID, "info", kind, msg) // an event is a note; the evaluation does not hang on it
}

func (s *evalSink) Put(ctx context.Context, ev record.Evaluation, sums []record.Summary) error {
	return s.st.PutEvaluation(ctx, s.runID, ev, sums)
}

var _ evaluate.Sink = (*evalSink)(nil)

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
