package data

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
)

// Labeled Faces in the Wild (Huang et al. 2007) as its authors distribute
// it: lfw.tgz (or lfw-deepfunneled.tgz, the aligned copy), a gzipped tar of
// lfw/<Person_Name>/<Person_Name>_0001.jpg, 13,233 250×250 RGB photographs
// of 5,749 people. It is read as it is, never unpacked. The md5s are the
// ones the LFW site and torchvision use to recognise the official files.
const (
	LFWFile            = "lfw/lfw.tgz"
	LFWMD5             = "a17d05bd522c52d84eca14327a23d494"
	LFWDeepFunneledMD5 = "68331da3eb755a505a502b5aacb3c201"
	// lfwSide is the side of every LFW photograph.
	lfwSide = 250
)

// lfwSet is dataset.name lfw. Its defaults follow the CelebA protocol
// adapted to LFW's framing: the central 150×150 of the 250×250 photograph
// holds the face with a little hair and background (the face detector's box
// is about 110 px wide), kept in colour and resized to 64×64.
type lfwSet struct{}

func (lfwSet) Doc() string {
	return "Labeled Faces in the Wild, the whole archive as distributed (lfw.tgz or lfw-deepfunneled.tgz at dataset.path, default DATA_DIR/lfw/lfw.tgz), read without unpacking: 13,233 photographs of 5,749 people, 250x250 RGB; identity labels from the person folders; centre crop 150, RGB, 64x64 unless set; identity split"
}

// source has no download address: the LFW site publishes md5s only, and
// vaelab downloads nothing it cannot check by sha256. data verify checks
// the md5 of lfw.tgz.
func (lfwSet) source() Source {
	return Source{File: LFWFile, MD5: LFWMD5,
		About: "LFW: 13,233 photographs of 5,749 people, 250x250 RGB (Huang et al. 2007); put lfw.tgz in DATA_DIR/lfw, or give lfw-deepfunneled.tgz as dataset.path (md5 " + LFWDeepFunneledMD5 + ")"}
}

func (lfwSet) resolve(c Config) Config { return photoDefaults(c, 150) }

func (k lfwSet) check(c Config) error {
	if err := checkFileSettings(c, k); err != nil {
		return err
	}
	if c.Crop > lfwSide {
		return fmt.Errorf("dataset.crop: %d is larger than LFW's %dx%d photographs", c.Crop, lfwSide, lfwSide)
	}
	return nil
}

// pathRequired is false: without a path, LFW is lfw.tgz in the data
// directory.
func (lfwSet) pathRequired() bool { return false }

// Identity is the default: a random split would put photographs of the same
// person on both sides, and LFW is used to study faces of unseen people.
func (lfwSet) splits() []string { return []string{"identity", "random", "block"} }

func (k lfwSet) path(c Config, dataDir string) string {
	if c.Path != "" {
		return specPath(c, dataDir)
	}
	return builtinPath(k, dataDir)
}

func (lfwSet) missingHint() string {
	return "download lfw.tgz (or lfw-deepfunneled.tgz) from the LFW site into DATA_DIR/lfw, or give its path as dataset.path (the archive is read as it is, not unpacked)"
}

func (lfwSet) open(c Config, p string) (imageSource, error) { return openTarSource(p, c.SHA256) }

// meta labels each photograph by its person's folder.
func (lfwSet) meta(_ Config, names []string, p string) (labels, partition []int, source string, err error) {
	labels, people := folderLabels(names)
	if labels == nil {
		return nil, nil, "", fmt.Errorf("%s: images outside a person's folder", p)
	}
	return labels, nil, fmt.Sprintf("lfw %s (%d images, %d people)", filepath.Base(p), len(names), len(people)), nil
}

// tarSource is an LFW archive's JPEG files, read in one pass through the
// (gzipped) tar and held compressed in memory: a gzip stream cannot be read
// at random, and the decoders read images in parallel and in name order,
// not in archive order. The JPEG bytes are about the archive's size (173 MB
// for LFW), checked against MemoryLimit as they arrive.
type tarSource struct {
	path  string
	names []string // Person_Name/Person_Name_0001.jpg, in natural order
	files [][]byte
}

// openTarSource reads the archive at p (gzipped or plain tar). Only LFW's
// layout is accepted: [top/]Person/image.jpg, one top folder for all. A
// member that is not a regular file (a link, a device), a name that is not
// a plain relative path (absolute, with "..", or empty parts), an image
// named twice or one declared larger than the one-image limit is refused,
// naming it. With sha256 set, the whole file must have that sha256.
func openTarSource(p, sha string) (*tarSource, error) {
	f, _, err := openRegular(p, -1) // a FIFO or a device is refused, not read
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	raw := bufio.NewReaderSize(io.TeeReader(f, h), 1<<20)
	var r io.Reader = raw
	if magic, _ := raw.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		gz, err := gzip.NewReader(raw)
		if err != nil {
			return nil, fmt.Errorf("tar %s: %w", p, err)
		}
		r = gz
	}
	type member struct {
		name string
		b    []byte
	}
	var members []member
	seen := map[string]bool{}
	top := "" // the archive's top folder, "" before the first image
	var held int64
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		// An insecure name (absolute, with ..) comes with its header when
		// GODEBUG asks archive/tar to flag it: it is judged below like any
		// other name.
		if err != nil && !(errors.Is(err, tar.ErrInsecurePath) && hdr != nil) {
			return nil, fmt.Errorf("tar %s: %w", p, err)
		}
		name := strings.TrimPrefix(hdr.Name, "./")
		if hdr.Typeflag == tar.TypeDir || !isImageFile(name) {
			continue // folders, and files such as README or pairs.txt
		}
		if !fs.ValidPath(name) || strings.Contains(name, `\`) {
			return nil, fmt.Errorf("tar %s: member %q is not a plain relative path (absolute, with .. or empty parts); refused", p, hdr.Name)
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("tar %s: member %s is not a regular file (type %q: a link or a device); refused", p, name, hdr.Typeflag)
		}
		parts := strings.Split(name, "/")
		memberTop := ""
		switch len(parts) {
		case 2:
		case 3:
			memberTop = parts[0]
		default:
			return nil, fmt.Errorf("tar %s: member %s is not in LFW's layout (lfw/Person_Name/Person_Name_0001.jpg)", p, name)
		}
		if len(members) == 0 {
			top = memberTop
		} else if memberTop != top {
			return nil, fmt.Errorf("tar %s: member %s is not under %q like the first image; one archive holds one copy of LFW", p, name, top+"/")
		}
		rel := strings.Join(parts[len(parts)-2:], "/")
		if seen[rel] {
			return nil, fmt.Errorf("tar %s: %s appears twice", p, name)
		}
		seen[rel] = true
		if hdr.Size < 0 || hdr.Size > maxImageFileBytes {
			return nil, fmt.Errorf("tar %s: member %s declares %s, more than the %s limit for one image", p, name, byteSize(hdr.Size), byteSize(maxImageFileBytes))
		}
		// Each image costs at least a header's worth, so an archive of
		// countless empty members is refused too.
		held += hdr.Size + 512
		if err := CheckFits(held, fmt.Sprintf("tar %s: its JPEG files", p), "use a smaller archive"); err != nil {
			return nil, err
		}
		b, err := readAllLimited(tr, make([]byte, 0, hdr.Size), maxImageFileBytes)
		if err != nil {
			return nil, fmt.Errorf("tar %s: member %s: %w", p, name, err)
		}
		members = append(members, member{rel, b})
	}
	// Read to the end: the gzip trailer's CRC checks the whole stream, and
	// the sha256 covers the whole file.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, fmt.Errorf("tar %s: %w", p, err)
	}
	if _, err := io.Copy(io.Discard, raw); err != nil {
		return nil, fmt.Errorf("tar %s: %w", p, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); sha != "" && got != sha {
		return nil, fmt.Errorf("tar %s: sha256 %s, want %s (dataset.sha256): the file is not the expected one", p, got, sha)
	}
	if len(members) == 0 {
		return nil, fmt.Errorf("tar %s: no .jpg images in LFW's layout (lfw/Person_Name/Person_Name_0001.jpg)", p)
	}
	sort.Slice(members, func(i, j int) bool { return naturalLess(members[i].name, members[j].name) })
	src := &tarSource{path: p}
	for _, m := range members {
		src.names = append(src.names, m.name)
		src.files = append(src.files, m.b)
	}
	return src, nil
}

func (t *tarSource) Len() int                   { return len(t.names) }
func (t *tarSource) Name(i int) string          { return t.names[i] }
func (t *tarSource) Read(i int) ([]byte, error) { return t.files[i], nil }
func (t *tarSource) Describe() string           { return "tar " + t.path }
func (t *tarSource) Close() error               { t.files = nil; return nil }
