package data

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/vaelab/vaelab/internal/safefile"
)

// The dlib face descriptor's weights, as the npm package
// @vladmandic/face-api 1.7.15 ships them (MIT; dlib's weights are public
// domain): two files of its model folder, installed into the data
// directory's DlibFaceDir by InstallDlibFace.
const (
	DlibFaceDir        = "dlib-face"
	DlibFacePackage    = "@vladmandic/face-api@1.7.15"
	DlibFaceTarballSHA = "0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031"
	DlibWeightsFile    = "face_recognition_model.bin"
	DlibManifestFile   = "face_recognition_model-weights_manifest.json"
	DlibWeightsSHA256  = "b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589"
	DlibManifestSHA256 = "cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b"
)

// dlibFaceFiles are the package members to install, with their sha256 and
// a bound on their size.
var dlibFaceFiles = []struct {
	member, name, sha string
	max               int64
}{
	{"package/model/" + DlibWeightsFile, DlibWeightsFile, DlibWeightsSHA256, 16 << 20},
	{"package/model/" + DlibManifestFile, DlibManifestFile, DlibManifestSHA256, 1 << 20},
}

// InstallDlibFace installs the descriptor's two model files into
// dataDir/dlib-face from the package tarball: tarball if given, else one
// `npm pack` fetches. The tarball's and both files' sha256 are checked; the
// files are written into a temporary folder renamed into place, so nothing
// is left half-written.
func InstallDlibFace(ctx context.Context, dataDir, tarball string) (string, error) {
	if tarball == "" {
		tmp, err := os.MkdirTemp("", "vaelab-npm-*")
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(tmp)
		if tarball, err = npmPack(ctx, tmp); err != nil {
			return "", err
		}
	}
	if sum, err := FileSHA256(tarball); err != nil {
		return "", fmt.Errorf("dlib-face: %w", err)
	} else if sum != DlibFaceTarballSHA {
		return "", fmt.Errorf("dlib-face: %s has sha256 %s, not %s's %s", tarball, sum, DlibFacePackage, DlibFaceTarballSHA)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", fmt.Errorf("dlib-face: %w", err)
	}
	staging, err := os.MkdirTemp(dataDir, "."+DlibFaceDir+"-*")
	if err != nil {
		return "", fmt.Errorf("dlib-face: %w", err)
	}
	defer os.RemoveAll(staging)
	if err := extractDlibFace(tarball, staging); err != nil {
		return "", err
	}
	if err := os.Chmod(staging, 0o755); err != nil {
		return "", fmt.Errorf("dlib-face: %w", err)
	}
	dst := filepath.Join(dataDir, DlibFaceDir)
	if err := os.RemoveAll(dst); err != nil {
		return "", fmt.Errorf("dlib-face: replace %s: %w", dst, err)
	}
	if err := os.Rename(staging, dst); err != nil {
		return "", fmt.Errorf("dlib-face: %w", err)
	}
	return dst, nil
}

func npmPack(ctx context.Context, dir string) (string, error) {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("dlib-face: npm is not installed (install Node.js and npm, or download %s's tarball and give it with --file)", DlibFacePackage)
	}
	cmd := exec.CommandContext(ctx, npm, "pack", DlibFacePackage, "--pack-destination", dir, "--silent")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("dlib-face: npm pack %s failed (no network to the npm registry?): %v\n%s", DlibFacePackage, err, out)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*.tgz"))
	if len(matches) != 1 {
		return "", fmt.Errorf("dlib-face: npm pack left %d tarballs in %s", len(matches), dir)
	}
	return matches[0], nil
}

// extractDlibFace copies the two members out of the tarball into dir,
// checking each one's size bound and sha256.
func extractDlibFace(tarball, dir string) error {
	f, _, err := safefile.Open(tarball, safefile.MaxPackage)
	if err != nil {
		return fmt.Errorf("dlib-face: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("dlib-face: %s: %w", tarball, err)
	}
	tr := tar.NewReader(gz)
	found := map[string]bool{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("dlib-face: %s: %w", tarball, err)
		}
		for _, want := range dlibFaceFiles {
			if h.Name != want.member {
				continue
			}
			if h.Size > want.max {
				return fmt.Errorf("dlib-face: %s: member %s declares %d bytes, more than the %d it can have", tarball, h.Name, h.Size, want.max)
			}
			b, err := io.ReadAll(io.LimitReader(tr, want.max+1))
			if err != nil {
				return fmt.Errorf("dlib-face: %s: member %s: %w", tarball, h.Name, err)
			}
			if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != want.sha {
				return fmt.Errorf("dlib-face: %s: member %s has sha256 %s, want %s", tarball, h.Name, hex.EncodeToString(sum[:]), want.sha)
			}
			if err := os.WriteFile(filepath.Join(dir, want.name), b, 0o644); err != nil {
				return fmt.Errorf("dlib-face: %w", err)
			}
			found[want.name] = true
		}
	}
	for _, want := range dlibFaceFiles {
		if !found[want.name] {
			return fmt.Errorf("dlib-face: %s has no member %s", tarball, want.member)
		}
	}
	return nil
}
