package data

import (
	"bufio"
	"fmt"
	"image"
	"os"
	"strconv"
	"strings"

	"github.com/vaelab/vaelab/internal/safefile"
)

// Bounds on what a dataset may make vaelab allocate: a file is read only when
// it is a regular file (never a FIFO, device or /dev/zero, which would block
// or fill memory), one image may have at most MaxImagePixels pixels (a small
// compressed PNG can declare 20000×20000), and a dataset's pixels must fit in
// MemoryLimit. Each refusal names the limit and what to change.
const (
	MaxImagePixels    = 1 << 26 // 8192×8192
	maxImageFileBytes = 1 << 30 // one image file; its pixels are capped separately
)

// MemoryLimit is what one process may spend on a dataset's pixels: three
// quarters of the machine's memory (MemTotal), or GOMEMLIMIT when that is
// lower. 0 when neither is known (no limit is applied).
func MemoryLimit() int64 {
	var limit int64
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if kb, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")), 10, 64)
				limit = n * 1024 / 4 * 3
			}
		}
		f.Close()
	}
	if s := os.Getenv("GOMEMLIMIT"); s != "" {
		if n, err := parseByteSize(s); err == nil && (limit == 0 || n < limit) {
			limit = n
		}
	}
	return limit
}

// parseByteSize reads GOMEMLIMIT's syntax: a number with an optional B, KiB,
// MiB, GiB or TiB suffix.
func parseByteSize(s string) (int64, error) {
	for i, unit := range []string{"TiB", "GiB", "MiB", "KiB", "B"} {
		if num, ok := strings.CutSuffix(s, unit); ok {
			n, err := strconv.ParseInt(num, 10, 64)
			return n << (10 * (4 - i)), err
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

// CheckFits refuses an allocation of n bytes for what when it exceeds MemoryLimit.
func CheckFits(n int64, what, change string) error {
	if limit := MemoryLimit(); limit > 0 && n > limit {
		return fmt.Errorf("%s needs %s, more than the %s vaelab allows a dataset on this machine (3/4 of its memory, or GOMEMLIMIT); %s",
			what, byteSize(n), byteSize(limit), change)
	}
	return nil
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}

// openRegular opens path for reading when it is a regular file of at most
// max bytes (0: MemoryLimit; negative: any size), so that a FIFO, a device
// or a huge file is refused at once instead of blocking or exhausting memory
// (see safefile.Open).
func openRegular(path string, max int64) (*os.File, int64, error) {
	if max == 0 {
		if max = MemoryLimit(); max == 0 {
			max = safefile.NoLimit
		}
	}
	return safefile.Open(path, max)
}

// ReadRegular reads a regular file of at most max bytes (0: MemoryLimit);
// anything else is refused before a byte is read.
func ReadRegular(path string, max int64) ([]byte, error) {
	if max == 0 {
		if max = MemoryLimit(); max == 0 {
			max = safefile.NoLimit
		}
	}
	return safefile.Read(path, max)
}

// ReadSpecFile reads a spec: a regular file of at most 1 MiB.
func ReadSpecFile(path string) ([]byte, error) { return ReadRegular(path, safefile.MaxSpec) }

// checkImageSize refuses an image whose declared size exceeds MaxImagePixels,
// before its pixels are allocated.
func checkImageSize(path string, cfg image.Config) error {
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return fmt.Errorf("decode image %s: empty image (%dx%d)", path, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return fmt.Errorf("decode image %s: %dx%d is more than the %d-pixel limit (8192x8192) for one image; resize it first",
			path, cfg.Width, cfg.Height, MaxImagePixels)
	}
	return nil
}
