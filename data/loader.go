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
	"github.com/vaelab/vaelab/internal/progress"
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
	// Progress, if set, hears how decoding image collections advances: a
	// redrawn bar when Terminal, else a line every few seconds.
	Progress io.Writer
	Terminal bool

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
	// Partition is each image's official partition (CelebA's
	// list_eval_partition.txt: 0 train, 1 validation, 2 test), when known.
	Partition []int
	Source    string
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
	if g, ok := kindOf(c).(generator); ok {
		return g.generate(l, c)
	}
	key := fmt.Sprintf("%s|%s|%s|%s|%+v", c.Name, c.path(l.DataDir), c.URL, c.SHA256, c.prep())
	set, err := l.memo.Get(key, func() (*decodedSet, error) { return l.decodeCached(ctx, c) })
	if err != nil {
		return nil, err
	}
	return splitSet(c, set)
}

func (l *Loader) progress(Config) progressFunc {
	if l.Progress == nil {
		return nil
	}
	return func(what string, n int) *progress.Meter { return progress.New(l.Progress, what, n, l.Terminal) }
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
	if err := c.CheckPartition(l.DataDir); err != nil {
		return nil, err
	}
	if l.CacheDir == "" {
		set, err := decodeSource(ctx, c, path, l.progress(c))
		if err != nil {
			return nil, err
		}
		l.countDecode()
		set.Images = toLevels(set.Images)
		return set, nil
	}
	fp, err := fingerprint(path)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", c.Name, err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n%s\n%+v\n%s\n%s", decoderVersion, c.Name, c.URL, c.SHA256, c.prep(), fp, jpegDecoderName())
	cacheFile := filepath.Join(l.CacheDir, c.Name+"-"+hex.EncodeToString(h.Sum(nil))[:24]+".vds")
	if set, ok := l.cached(c, cacheFile); ok {
		return set, nil
	}
	// One process builds a cache file; others wait for it, then map it.
	if err := os.MkdirAll(l.CacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("dataset %s: cache folder: %w", c.Name, err)
	}
	unlock, err := lockFile(cacheFile+".lock", func() {
		l.logf("dataset %s: another process is decoding it into %s; waiting for it", c.Name, cacheFile)
	})
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", c.Name, err)
	}
	defer unlock()
	if set, ok := l.cached(c, cacheFile); ok {
		return set, nil
	}
	uncached, err := decodeToCache(ctx, c, path, cacheFile, l.progress(c))
	if err != nil {
		return nil, err
	}
	l.countDecode()
	if uncached != nil {
		return uncached, nil
	}
	set, err := readCache(cacheFile)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: read back the decoded copy %s: %w", c.Name, cacheFile, err)
	}
	return set, nil
}

// cached returns the set in cacheFile when it is there and whole.
func (l *Loader) cached(c Config, cacheFile string) (*decodedSet, bool) {
	set, err := readCache(cacheFile)
	if err != nil {
		if !os.IsNotExist(err) {
			l.logf("dataset %s: ignoring unreadable cache file %s: %v", c.Name, cacheFile, err)
		}
		return nil, false
	}
	l.mu.Lock()
	l.hits++
	l.mu.Unlock()
	l.logf("dataset %s: decoded copy mapped from %s", c.Name, cacheFile)
	return set, true
}

func (l *Loader) countDecode() {
	l.mu.Lock()
	l.decodes++
	l.mu.Unlock()
}

// decodeToCache decodes a dataset into its cache file: image folders and
// zips stream their images into it, so the decoded set is never held in
// memory; other datasets are small and are decoded first. A set whose
// values are not all on 8-bit levels (an npy of floats) has no byte copy:
// it is returned, to be used as decoded.
func decodeToCache(ctx context.Context, c Config, path, cacheFile string, meter progressFunc) (*decodedSet, error) {
	if col, ok := kindOf(c).(collection); ok {
		_, err := decodeCollection(ctx, c, col, path, cacheFile, meter)
		return nil, err
	}
	set, err := decodeSource(ctx, c, path, meter)
	if err != nil {
		return nil, err
	}
	if set.Images = toLevels(set.Images); !set.Images.Leveled() {
		return set, nil
	}
	if err := writeCache(cacheFile, set); err != nil {
		return nil, fmt.Errorf("dataset %s: write the decoded copy %s: %w", c.Name, cacheFile, err)
	}
	return nil, nil
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
	} else if h, ok := kindOf(c).(hinter); ok {
		hint = h.missingHint() + ", or " + hint
	}
	return fmt.Errorf("%w: %s expected at %s; %s", ErrMissing, c.Name, path, hint)
}

// decodeSource decodes and preprocesses the dataset's files.
func decodeSource(ctx context.Context, c Config, path string, meter progressFunc) (*decodedSet, error) {
	switch k := kindOf(c).(type) {
	case collection:
		return decodeCollection(ctx, c, k, path, "", meter)
	case arrayFile:
		return decodeArray(c, k, path)
	}
	return nil, fmt.Errorf("dataset %s: has no files to decode", c.Name)
}

// decodeArray decodes a dataset held in one small file, checking the
// file's sha256 first when one is expected.
func decodeArray(c Config, af arrayFile, path string) (*decodedSet, error) {
	if want := expectedSHA256(c); want != "" {
		got, err := FileSHA256(path)
		if err != nil {
			return nil, fmt.Errorf("dataset %s: %w", c.Name, err)
		}
		if got != want {
			return nil, fmt.Errorf("dataset %s: %s has sha256 %s, want %s: the file is not the expected one", c.Name, path, got, want)
		}
	}
	set, err := af.decode(c, path)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", c.Name, err)
	}
	if set.Images, err = c.prep().prepareAll(set.Images); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", c.Name, err)
	}
	return set, nil
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
	case "official":
		if set.Partition == nil {
			return nil, fmt.Errorf("dataset.split: official needs CelebA's %s beside the images; put it there, or use split: random", partitionFile)
		}
		for i, p := range set.Partition {
			switch p {
			case 0:
				train = append(train, i)
			case 2:
				test = append(test, i)
			}
		}
		if len(train) == 0 || len(test) == 0 {
			return nil, fmt.Errorf("dataset.split: %s gives %d training and %d test images", partitionFile, len(train), len(test))
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
	ds := &Dataset{Name: c.Name, Train: set.Images.View(train), Test: set.Images.View(test),
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
// times: cheap to compute for 200k images, and changed by any edit. Symlinks
// are followed (walkFiles): the sizes and times are those of the files the
// loader reads, so a file changed behind a link changes the fingerprint.
func fingerprint(path string) (string, error) {
	h := sha256.New()
	err := walkFiles(path, func(rel string, info fs.FileInfo) error {
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", rel, info.Size(), info.ModTime().UnixNano())
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

// The cache file: magic, a JSON header, then one byte per pixel (the images are
// on 8-bit levels after preprocessing), then the sha256 of everything before it.
// It is read by memory-mapping: the pixels are never copied.
const cacheMagic = "VAELAB-DECODED-1\n"

type cacheHeader struct {
	N, Height, Width, Channels int
	Labels                     []int
	Partition                  []int `json:",omitempty"`
	Source                     string
}

// writeCache writes a decoded set's cache file atomically: a reader never
// sees a partial file, and an interrupted write leaves none.
func writeCache(path string, set *decodedSet) error {
	im := toLevels(set.Images)
	if !im.Leveled() {
		return fmt.Errorf("the images are not on 8-bit levels")
	}
	hdr := cacheHeader{im.N, im.Height, im.Width, im.Channels, set.Labels, set.Partition, set.Source}
	return writeCacheStream(path, hdr, func(w io.Writer) error {
		for i := range im.N {
			if _, err := w.Write(im.levelsOf(i)); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeCacheStream writes a cache file whose pixels pixels writes, image
// after image, hdr.N of them.
func writeCacheStream(path string, hdr cacheHeader, pixels func(w io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	_, _, err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
		h := sha256.New()
		bw := bufio.NewWriterSize(io.MultiWriter(w, h), 1<<20)
		b, _ := json.Marshal(hdr)
		bw.WriteString(cacheMagic)
		binary.Write(bw, binary.LittleEndian, uint32(len(b)))
		bw.Write(b)
		if err := pixels(bw); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		_, err := w.Write(h.Sum(nil))
		return err
	})
	return err
}

// checkCacheSum checks a cache file's trailing sha256 by reading it, not
// through the mapping: the pages land in the page cache, shared, and only
// those the runs then touch count in the process's resident memory.
func checkCacheSum(path string) error {
	f, size, err := openRegular(path, -1)
	if err != nil {
		return err
	}
	defer f.Close()
	if size < int64(len(cacheMagic)+4+32) {
		return fmt.Errorf("not a decoded-dataset file")
	}
	h := sha256.New()
	if _, err := io.CopyBuffer(h, io.LimitReader(f, size-32), make([]byte, 1<<20)); err != nil {
		return err
	}
	sum := make([]byte, 32)
	if _, err := io.ReadFull(f, sum); err != nil {
		return err
	}
	if string(h.Sum(nil)) != string(sum) {
		return fmt.Errorf("checksum mismatch")
	}
	return nil
}

// readCache maps a cache file and checks it whole (its sha256) before use.
// The mapping is shared with the file: cache files are only ever replaced
// by rename, never rewritten in place, so mapped pixels do not change.
func readCache(path string) (*decodedSet, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	if err := checkCacheSum(path); err != nil {
		return nil, err
	}
	b, err := mapFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < len(cacheMagic)+4+32 || string(b[:len(cacheMagic)]) != cacheMagic {
		return nil, fmt.Errorf("not a decoded-dataset file")
	}
	body := b[:len(b)-32]
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
	im, err := FromLevels(body[off+n:], hdr.N, hdr.Height, hdr.Width, hdr.Channels)
	if err != nil {
		return nil, err
	}
	if hdr.Labels != nil && len(hdr.Labels) != hdr.N || hdr.Partition != nil && len(hdr.Partition) != hdr.N {
		return nil, fmt.Errorf("labels or partition do not match the %d images", hdr.N)
	}
	return &decodedSet{Images: im, Labels: hdr.Labels, Partition: hdr.Partition, Source: hdr.Source}, nil
}
