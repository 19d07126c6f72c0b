package data

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/vaelab/vaelab/internal/atomicfile"
	"github.com/vaelab/vaelab/internal/memo"
)

// Loader loads datasets for many runs: each distinct dataset is decoded once
// per Loader, and, when CacheDir is set, once per machine: its preprocessed
// images are kept as a packed file keyed by the loader version, the
// preprocessing and the source files' fingerprint (path, size, modification
// time). A Loader is safe for concurrent use.
type Loader struct {
	DataDir  string
	CacheDir string       // "" disables the on-disk cache
	Client   *http.Client // for spec datasets with a url; nil means NewDownloadClient(DefaultDownloadWait)
	// Log, if set, hears of downloads and cache use.
	Log func(format string, args ...any)

	memo    memo.Map[*decodedSet]
	faces   memo.Map[*syntheticFaces] // drawn once per count, size and seed
	mu      sync.Mutex                // guards the counts
	decodes int
	hits    int
}

// decoderVersion names the decoding and preprocessing code; bump it when their
// output changes, so stale cache files are not used.
const decoderVersion = "decoders-v1"

// decodedSet is a dataset after decoding and preprocessing, before the split.
type decodedSet struct {
	Images Images
	Labels []int
	Source string
}

// Stats reports how many datasets this Loader decoded and how many it read
// from the on-disk cache.
func (l *Loader) Stats() (decoded, cacheHits int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.decodes, l.hits
}

// Load returns the dataset c describes, split into train and test.
func (l *Loader) Load(ctx context.Context, c Config) (*Dataset, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c.Name == "synthetic" {
		// Drawing thousands of faces takes about as long as a short run trains,
		// so every run of a sweep shares one draw.
		key := fmt.Sprintf("%d|%d|%d", c.Count, c.Size, c.Seed)
		faces, err := l.faces.Get(key, func() (*syntheticFaces, error) { return drawFaces(c) })
		if err != nil {
			return nil, err
		}
		return faces.split(c)
	}
	key := fmt.Sprintf("%s|%s|%s|%s|%+v", c.Name, c.path(l.DataDir), c.URL, c.SHA256, c.prep())
	set, err := l.memo.Get(key, func() (*decodedSet, error) { return l.decodeCached(ctx, c) })
	if err != nil {
		return nil, err
	}
	return splitSet(c, set)
}

func (l *Loader) logf(format string, args ...any) {
	if l.Log != nil {
		l.Log(format, args...)
	}
}

// decodeCached fetches the source if needed, then reads the decoded set from
// the cache or decodes it and stores it there.
func (l *Loader) decodeCached(ctx context.Context, c Config) (*decodedSet, error) {
	path := c.path(l.DataDir)
	if err := l.ensurePresent(ctx, c, path); err != nil {
		return nil, err
	}
	var cacheFile string
	if l.CacheDir != "" {
		fp, err := fingerprint(path)
		if err != nil {
			return nil, fmt.Errorf("dataset %s: %w", c.Name, err)
		}
		h := sha256.New()
		fmt.Fprintf(h, "%s\n%s\n%s\n%s\n%+v\n%s", decoderVersion, c.Name, c.URL, c.SHA256, c.prep(), fp)
		cacheFile = filepath.Join(l.CacheDir, c.Name+"-"+hex.EncodeToString(h.Sum(nil))[:24]+".vds")
		if set, err := readCache(cacheFile); err == nil {
			l.mu.Lock()
			l.hits++
			l.mu.Unlock()
			l.logf("dataset %s: decoded copy read from %s", c.Name, cacheFile)
			return set, nil
		} else if !os.IsNotExist(err) {
			l.logf("dataset %s: ignoring unreadable cache file %s: %v", c.Name, cacheFile, err)
		}
	}
	set, err := decodeSource(ctx, c, path)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.decodes++
	l.mu.Unlock()
	if cacheFile != "" {
		if err := writeCache(cacheFile, set); err != nil {
			l.logf("dataset %s: could not cache the decoded copy: %v", c.Name, err)
		}
	}
	return set, nil
}

// ensurePresent downloads a spec dataset with a url when its file is missing;
// built-in datasets are fetched explicitly (vaelab data fetch).
func (l *Loader) ensurePresent(ctx context.Context, c Config, path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if c.URL != "" {
		if err := c.CheckPath(l.DataDir); err != nil {
			return err
		}
		client := l.Client
		if client == nil {
			client = NewDownloadClient(DefaultDownloadWait)
		}
		l.logf("dataset %s: downloading %s", c.Name, c.URL)
		return Fetch(ctx, client, Source{Name: c.Name, File: c.Path, URL: c.URL, SHA256: c.SHA256}, path, nil)
	}
	hint := "set data_dir (flag --data-dir or VAELAB_DATA_DIR) to the folder that holds it"
	if src, ok := Builtin(c.Name); ok && src.URL != "" {
		hint = "`vaelab data fetch " + c.Name + "` downloads it, or " + hint
	}
	return fmt.Errorf("%w: %s expected at %s; %s", ErrMissing, c.Name, path, hint)
}

// decodeSource decodes and preprocesses the dataset's files.
func decodeSource(ctx context.Context, c Config, path string) (*decodedSet, error) {
	if want := expectedSHA256(c); want != "" {
		got, err := FileSHA256(path)
		if err != nil {
			return nil, fmt.Errorf("dataset %s: %w", c.Name, err)
		}
		if got != want {
			return nil, fmt.Errorf("dataset %s: %s has sha256 %s, want %s: the file is not the expected one", c.Name, path, got, want)
		}
	}
	var set decodedSet
	var err error
	switch c.Name {
	case "frey":
		set.Images, _, err = LoadFrey(path)
		set.Source = "frey_rawface.mat sha256=" + FreySHA256
	case "olivetti":
		set.Images, set.Labels, _, err = LoadOlivetti(path)
		set.Source = "olivettifaces.mat sha256=" + OlivettiSHA256
	case "lfw-subset":
		set.Images, err = LoadNPY(path)
		if err == nil {
			set.Images = set.Images.First(lfwSubsetFaces)
		}
		set.Source = "lfw_subset.npy rows 0..99 sha256=" + LFWSubsetSHA256
	case "npy":
		set.Images, err = LoadNPY(path)
		set.Source = "npy " + c.Path
	case "folder":
		var f *Folder
		if f, err = LoadFolder(ctx, path, c.prep()); err == nil {
			set.Images, set.Labels = f.Images, f.Labels
			set.Source = fmt.Sprintf("folder %s (%d images, %d labels)", c.Path, f.Images.N, len(f.LabelNames))
		}
		if err != nil {
			return nil, fmt.Errorf("dataset %s: %w", c.Name, err)
		}
		return &set, nil // the folder loader preprocesses as it decodes
	}
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", c.Name, err)
	}
	if set.Images, err = c.prep().prepareAll(set.Images); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", c.Name, err)
	}
	return &set, nil
}

func expectedSHA256(c Config) string {
	if c.SHA256 != "" {
		return c.SHA256
	}
	if src, ok := Builtin(c.Name); ok {
		return src.SHA256
	}
	return ""
}

// splitSet divides a decoded set into train and test as c asks.
func splitSet(c Config, set *decodedSet) (*Dataset, error) {
	n := set.Images.N
	var train, test []int
	switch c.split() {
	case "block", "random":
		nTest, err := testCount(n, c.TestFraction)
		if err != nil {
			return nil, fmt.Errorf("dataset.test_fraction: %w", err)
		}
		if c.split() == "block" {
			train, test = BlockSplit(n, nTest)
		} else {
			train, test = RandomSplit(n, nTest, c.Seed)
		}
	case "identity":
		if set.Labels == nil {
			return nil, fmt.Errorf("dataset.split: %s has no identity labels (images must sit in one folder per person); use random", c.Name)
		}
		var err error
		if train, test, err = IdentitySplit(set.Labels, c.TestFraction, c.Seed); err != nil {
			return nil, fmt.Errorf("dataset.test_fraction: %w", err)
		}
	}
	ds := &Dataset{Name: c.Name, Train: set.Images.Subset(train), Test: set.Images.Subset(test),
		Source: fmt.Sprintf("%s, %s split, %d train / %d test", set.Source, c.split(), len(train), len(test))}
	if set.Labels != nil {
		ds.TrainLabels, ds.TestLabels = pick(set.Labels, train), pick(set.Labels, test)
	}
	return ds, nil
}

func pick(v []int, idx []int) []int {
	out := make([]int, len(idx))
	for i, j := range idx {
		out[i] = v[j]
	}
	return out
}

// IdentitySplit holds out whole identities: a share fraction of the distinct
// labels, drawn from seed, goes to the test set, so test people are unseen.
func IdentitySplit(labels []int, fraction float64, seed uint64) (train, test []int, err error) {
	var ids []int
	seen := map[int]bool{}
	for _, l := range labels {
		if !seen[l] {
			seen[l] = true
			ids = append(ids, l)
		}
	}
	sort.Ints(ids)
	k, err := testCount(len(ids), fraction)
	if err != nil {
		return nil, nil, fmt.Errorf("%d identities: %w", len(ids), err)
	}
	perm := rand.New(rand.NewPCG(seed, 0x1de5)).Perm(len(ids))
	held := map[int]bool{}
	for _, p := range perm[:k] {
		held[ids[p]] = true
	}
	for i, l := range labels {
		if held[l] {
			test = append(test, i)
		} else {
			train = append(train, i)
		}
	}
	return train, test, nil
}

// fingerprint summarises a file or folder by paths, sizes and modification
// times: cheap to compute for 200k images, and changed by any edit.
func fingerprint(path string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(path, p)
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", rel, info.Size(), info.ModTime().UnixNano())
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

// The cache file: magic, a JSON header, then one byte per pixel (the images are
// on 8-bit levels after preprocessing), then the sha256 of everything before it.
const cacheMagic = "VAELAB-DECODED-1\n"

type cacheHeader struct {
	N, Height, Width, Channels int
	Labels                     []int
	Source                     string
}

func writeCache(path string, set *decodedSet) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	_, _, err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
		h := sha256.New()
		bw := bufio.NewWriter(io.MultiWriter(w, h))
		hdr, _ := json.Marshal(cacheHeader{set.Images.N, set.Images.Height, set.Images.Width, set.Images.Channels, set.Labels, set.Source})
		bw.WriteString(cacheMagic)
		binary.Write(bw, binary.LittleEndian, uint32(len(hdr)))
		bw.Write(hdr)
		for _, v := range set.Images.Pix {
			bw.WriteByte(byte(float64(v)*255 + 0.5))
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		_, err := w.Write(h.Sum(nil))
		return err
	})
	return err
}

func readCache(path string) (*decodedSet, error) {
	b, err := ReadRegular(path, 0)
	if err != nil {
		return nil, err
	}
	if len(b) < len(cacheMagic)+4+32 || string(b[:len(cacheMagic)]) != cacheMagic {
		return nil, fmt.Errorf("not a decoded-dataset file")
	}
	body, sum := b[:len(b)-32], b[len(b)-32:]
	if got := sha256.Sum256(body); string(got[:]) != string(sum) {
		return nil, fmt.Errorf("checksum mismatch")
	}
	off := len(cacheMagic)
	n := int(binary.LittleEndian.Uint32(b[off:]))
	off += 4
	if off+n > len(body) {
		return nil, fmt.Errorf("header runs past the end")
	}
	var hdr cacheHeader
	if err := json.Unmarshal(body[off:off+n], &hdr); err != nil {
		return nil, err
	}
	pix := body[off+n:]
	im := Images{N: hdr.N, Height: hdr.Height, Width: hdr.Width, Channels: hdr.Channels, Pix: bytesToUnit(pix)}
	if err := im.Validate(); err != nil {
		return nil, err
	}
	return &decodedSet{Images: im, Labels: hdr.Labels, Source: hdr.Source}, nil
}
