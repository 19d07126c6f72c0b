package data

// The LFW subset of the shared test data: 200 grey 25×25 crops as float64 in
// [0, 1]; rows 0..99 are faces, rows 100..199 non-face background.
const (
	LFWSubsetFile   = "lfw_subset/lfw_subset.npy"
	LFWSubsetSHA256 = "9560ec2f5edfac01973f63a8a99d00053fecd11e21877e18038fbe500f8e872c"
	lfwSubsetFaces  = 100
)
