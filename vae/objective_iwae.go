package vae

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// iwae trains on the importance-weighted bound of Burda et al. 2016:
// −log (1/k) Σ_s p(x, z_s)/q(z_s|x), z_s ~ q(z|x), averaged over the batch.
// The training graph decodes k draws per image (samples), so a step costs
// about k decoder passes; the ε of draw s of image i is row s·B + i, the
// layout of Model.IWAE's k passes, so the two agree on the same ε. With the
// prior's log ratio it works with every prior. Evaluation's test/loss is the
// negative ELBO (one draw); the IWAE bound itself is test/iwae (eval.iwae_k).
type iwae struct{}

// DefaultIWAEK is objective.k when a spec leaves it out: the smaller of the
// two settings Burda et al. 2016 trained with (5 and 50), cheap enough for a
// first run (a step decodes k draws per image). The run id hashes the value
// in effect, so leaving k out and writing k: 5 are the same run.
const DefaultIWAEK = 5

func (iwae) settings() []Setting {
	return []Setting{
		pinned(IntSetting("k", DefaultIWAEK, "importance samples per image in training (a step decodes k draws per image)", func(k int) error {
			if k < 1 || k > 1000 {
				return fmt.Errorf("%d importance samples must be between 1 and 1000 (Burda et al. used 5 and 50; left out, it is 5)", k)
			}
			return nil
		})),
	}
}

func (iwae) samples(c ObjectiveConfig) int { return c.Int("k") }

func (iwae) Scalars() []string                      { return nil }
func (iwae) LossText() string                       { return "−log (1/k) Σ p(x, z_s)/q(z_s|x) (negative IWAE bound)" }
func (iwae) at(ObjectiveConfig, int, int) []float64 { return nil }
func (iwae) final(ObjectiveConfig) []float64        { return nil }

func (iwae) loss(o *objective, c ObjectiveConfig, _ []*G.Node, _ func() *G.Node) (*G.Node, error) {
	k, n := c.Int("k"), o.images
	logw := G.Must(G.Add(o.logpx, o.m.prior.logRatio(o)))                        // row s·B + i
	perImage := G.Must(G.Transpose(G.Must(G.Reshape(logw, tensor.Shape{k, n})))) // B × k
	bound := G.Must(G.Sub(logSumExpRows(perImage), o.scalar(math.Log(float64(k)))))
	return G.Must(G.Neg(G.Must(G.Mean(bound)))), nil
}

func (iwae) evalLoss(_ ObjectiveConfig, _ []float64, recon, kl float64) float64 { return recon + kl }
