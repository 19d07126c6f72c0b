package data

// The LFW subset of the shared test data: 200 grey 25×25 crops as float64 in
// [0, 1]; rows 0..99 are faces, rows 100..199 non-face background.
const (
	LFWSubsetFile   = "lfw_subset/lfw_subset.npy"
	LFWSubsetSHA256 = "9560ec2f5edfac01973f63a8a99d00053fecd11e21877e18038fbe500f8e872c"
	lfwSubsetFaces  = 100
)

// lfwSubsetSet is dataset.name lfw-subset: the faces of the shared test
// data's LFW subset, without identities.
type lfwSubsetSet struct{}

func (lfwSubsetSet) Doc() string {
	return "LFW subset: 100 faces, 25x25 grey, rows 0..99 of lfw_subset.npy (Labeled Faces in the Wild); no identity labels, random split"
}

// source has no download address: the subset comes with the shared test
// data only.
func (lfwSubsetSet) source() Source {
	return Source{File: LFWSubsetFile, SHA256: LFWSubsetSHA256, Size: 1_000_080,
		About: "LFW subset: 100 faces, 25x25 grey, rows 0..99 of lfw_subset.npy (Labeled Faces in the Wild)"}
}

func (k lfwSubsetSet) check(c Config) error { return checkFileSettings(c, k) }

func (lfwSubsetSet) splits() []string { return []string{"random", "block"} }

func (k lfwSubsetSet) path(_ Config, dataDir string) string { return builtinPath(k, dataDir) }

func (lfwSubsetSet) decode(_ Config, path string) (*decodedSet, error) {
	im, err := LoadNPY(path)
	if err == nil {
		im = im.First(lfwSubsetFaces)
	}
	return &decodedSet{Images: im, Source: "lfw_subset.npy rows 0..99 sha256=" + LFWSubsetSHA256}, err
}

func (lfwSubsetSet) trainCount(c Config) (int, error) { return trainShare(lfwSubsetFaces, c) }
