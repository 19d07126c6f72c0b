package data

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
)

// PrintCatalogue prints what `vaelab data ls` shows: every dataset vaelab
// knows by file, whether it is in dataDir and its expected checksum, then the
// face descriptor's weights.
func PrintCatalogue(w io.Writer, dataDir string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "data directory: %s\n", dataDir)
	fmt.Fprintln(tw, "DATASET\tFILE\tPRESENT\tSHA256\tABOUT")
	fmt.Fprintln(tw, "synthetic\t(built in)\tyes\t-\tprocedural faces with 8 known factors, any size")
	for _, src := range Builtins() {
		short := src.SHA256[:min(len(src.SHA256), 12)]
		if src.SHA256 == "" {
			short = "md5 " + src.MD5[:min(len(src.MD5), 12)] // the checksum the authors publish
		}
		present, sum := "no", short+" (expected)"
		if _, err := os.Stat(filepath.Join(dataDir, src.File)); err == nil {
			present = "yes"
			sum = short + " (not checked; vaelab data verify " + src.Name + ")"
		} else if src.Folder != "" {
			if fi, err := os.Stat(filepath.Join(dataDir, src.Folder)); err == nil && fi.IsDir() {
				present = "yes (extracted folder " + src.Folder + ")"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", src.Name, src.File, present, sum, src.About)
	}
	present := "no"
	if _, err := os.Stat(filepath.Join(dataDir, DlibFaceDir, DlibWeightsFile)); err == nil {
		present = "yes"
	}
	fmt.Fprintf(tw, "%s\t%s/\t%s\t%s (expected)\tthe dlib face descriptor's weights (%s; vaelab data fetch dlib-face)\n",
		DlibFaceDir, DlibFaceDir, present, DlibWeightsSHA256[:12], DlibFacePackage)
	return tw.Flush()
}

// Verify checks a dataset file in dataDir against its published checksum
// (sha256, or the md5 its authors give) and says what matched.
func Verify(src Source, dataDir string) (string, error) {
	path := filepath.Join(dataDir, src.File)
	if src.MD5 != "" {
		sum, err := FileMD5(path)
		if err != nil {
			return "", fmt.Errorf("verify %s: %w", src.Name, err)
		}
		if sum != src.MD5 {
			return "", fmt.Errorf("verify %s: %s has md5 %s, not the official file's %s", src.Name, path, sum, src.MD5)
		}
		return fmt.Sprintf("%s: ok (md5 %s, the official file): %s", src.Name, sum, path), nil
	}
	sum, err := FileSHA256(path)
	if err != nil {
		return "", fmt.Errorf("verify %s: %w", src.Name, err)
	}
	if sum != src.SHA256 {
		return "", fmt.Errorf("verify %s: %s has sha256 %s, want %s", src.Name, path, sum, src.SHA256)
	}
	return fmt.Sprintf("%s: ok (sha256 %s): %s", src.Name, sum, path), nil
}
