package data

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/vaelab/vaelab/internal/atomicfile"
	"github.com/vaelab/vaelab/internal/fault"
)

// What the `vaelab data` commands do with a dataset named on the command
// line; the CLI parses their flags and calls these.

// LookupBuiltin is Builtin for a name the user typed: an unknown name is the
// user's error, and it lists the names vaelab knows.
func LookupBuiltin(name string) (Source, error) {
	src, ok := Builtin(name)
	if !ok {
		var names []string
		for _, b := range Builtins() {
			names = append(names, b.Name)
		}
		return src, fault.User(fmt.Errorf("unknown dataset %q (known: %v)", name, names))
	}
	return src, nil
}

// VerifyBuiltin is `vaelab data verify`: Verify for the built-in dataset
// called name, saying what matched on w.
func VerifyBuiltin(w io.Writer, name, dataDir string) error {
	src, err := LookupBuiltin(name)
	if err != nil {
		return err
	}
	msg, err := Verify(src, dataDir)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, msg)
	return nil
}

// FetchRequest is what `vaelab data fetch` was asked for.
type FetchRequest struct {
	Name, DataDir string
	Mirror        string // download from this address instead (the expected sha256 stays the built-in one)
	Tarball       string // dlib-face: install from this package tarball instead of running npm pack
	// Check refuses a destination before anything is written there (the
	// CLI's guard of the workspace's own files); nil accepts any.
	Check    func(dst string) error
	Progress Progress
	Log      io.Writer // what was done, one line
}

// FetchNamed downloads the built-in dataset r.Name into r.DataDir, checking
// its sha256 (a file already there with the right sum is kept), or, for
// DlibFaceDir, installs the face descriptor's weights (InstallDlibFace).
func FetchNamed(ctx context.Context, r FetchRequest) error {
	check := r.Check
	if check == nil {
		check = func(string) error { return nil }
	}
	if r.Name == DlibFaceDir {
		if err := check(filepath.Join(r.DataDir, DlibFaceDir)); err != nil {
			return err
		}
		dst, err := InstallDlibFace(ctx, r.DataDir, r.Tarball)
		if err != nil {
			return err
		}
		fmt.Fprintf(r.Log, "dlib-face: installed and verified (%s, %s): %s\n", DlibWeightsFile, DlibManifestFile, dst)
		return nil
	}
	src, err := LookupBuiltin(r.Name)
	if err != nil {
		return err
	}
	if r.Mirror != "" {
		src.URL = r.Mirror
	}
	dst := filepath.Join(r.DataDir, src.File)
	if err := check(dst); err != nil {
		return err
	}
	if sum, err := FileSHA256(dst); err == nil && sum == src.SHA256 {
		fmt.Fprintf(r.Log, "%s is already present and verified: %s\n", src.Name, dst)
		return nil
	}
	if err := Fetch(ctx, NewDownloadClient(DefaultDownloadWait), src, dst, r.Progress); err != nil {
		return err
	}
	fmt.Fprintf(r.Log, "%s: downloaded and verified (sha256 %s): %s\n", src.Name, src.SHA256, dst)
	return nil
}

// ShowGrid is `vaelab data show`: it loads the dataset called name (a
// built-in file or a generated one, with a 10% test split) through l and
// writes a PNG grid of its first n training images to out.
func ShowGrid(ctx context.Context, l *Loader, name string, n int, out string, log io.Writer) error {
	if !Generated(name) {
		if _, err := LookupBuiltin(name); err != nil {
			return err
		}
	}
	ds, err := l.Load(ctx, Config{Name: name, TestFraction: 0.1, Seed: 1}.Resolved())
	if err != nil {
		return err
	}
	im := ds.Train.First(n)
	if _, _, err := atomicfile.WriteTarget(out, func(w io.Writer) error { return WriteGridPNG(w, im, 8, 2) }); err != nil {
		return err
	}
	fmt.Fprintf(log, "%s: %d train and %d test images of %dx%dx%d (%s); grid of %d: %s\n",
		name, ds.Train.N, ds.Test.N, ds.Train.Height, ds.Train.Width, ds.Train.Channels, ds.Source, im.N, out)
	return nil
}

// DefaultDir is where datasets are downloaded when no data directory is
// set: $XDG_CACHE_HOME/vaelab, else ~/.cache/vaelab, else ./vaelab-data.
func DefaultDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "vaelab")
	}
	return filepath.Join(".", "vaelab-data")
}
