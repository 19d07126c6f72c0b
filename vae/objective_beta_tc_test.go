package vae

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/vaelab/vaelab/internal/numtest"
	"github.com/vaelab/vaelab/vae/internal/ops"
)

// tcOf runs tcTerms on given codes and posteriors (B×L) of a dataset of n.
func tcOf(t *testing.T, z, mu, logvar, eps []float64, B, L, n int, estimator string) (mi, tc, dimKL float64) {
	t.Helper()
	m, err := NewModel(ModelConfig{Architecture: "mlp", Hidden: []int{2}, Latent: L, Activation: "tanh", Likelihood: "bernoulli"}, Shape{1, 2, 1}, tensor.Float64, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	o := &objective{netGraph: m.newNetGraph(), dataset: n}
	in := map[string]*G.Node{}
	for _, name := range []string{"z", "mu", "logvar", "eps"} {
		in[name] = o.input(name, B, L)
	}
	miN, tcN, dimN := o.tcTerms(in["z"], in["mu"], in["logvar"], in["eps"], estimator)
	for name, v := range map[string][]float64{"z": z, "mu": mu, "logvar": logvar, "eps": eps} {
		if err := o.let(in[name], nil, v); err != nil {
			t.Fatal(err)
		}
	}
	vm := G.NewTapeMachine(o.g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return scalarValue(miN), scalarValue(tcN), scalarValue(dimN)
}

// directTC computes the same estimates with a triple loop over i, j and
// dimensions, from the weights written out again.
func directTC(z, mu, logvar, eps []float64, B, L, n int, estimator string) (mi, tc, dimKL float64) {
	logNormal := func(x, m, lv float64) float64 { return -0.5 * ((x-m)*(x-m)/math.Exp(lv) + lv + math.Log(2*math.Pi)) }
	weight := func(i, j int) float64 {
		switch {
		case estimator == "mws":
			return 1 / float64(n*B)
		case i == j:
			return 1 / float64(n)
		}
		return float64(n-1) / float64(n) / float64(B-1)
	}
	for i := range B {
		joint, logqzx, logpz, prod := 0.0, 0.0, 0.0, 0.0
		marg := make([]float64, L)
		for j := range B {
			lj := 0.0
			for d := range L {
				ld := logNormal(z[i*L+d], mu[j*L+d], logvar[j*L+d])
				lj += ld
				marg[d] += weight(i, j) * math.Exp(ld)
			}
			joint += weight(i, j) * math.Exp(lj)
		}
		for d := range L {
			logqzx += -0.5 * (eps[i*L+d]*eps[i*L+d] + logvar[i*L+d] + math.Log(2*math.Pi))
			logpz += -0.5 * (z[i*L+d]*z[i*L+d] + math.Log(2*math.Pi))
			prod += math.Log(marg[d])
		}
		mi += logqzx - math.Log(joint)
		tc += math.Log(joint) - prod
		dimKL += prod - logpz
	}
	return mi / float64(B), tc / float64(B), dimKL / float64(B)
}

// randomPosteriors draws B posteriors N(μ_i, σ_i²) and a code from each.
func randomPosteriors(rng *rand.Rand, B, L int) (z, mu, logvar, eps []float64) {
	mu, logvar, eps = normals(rng, B*L), make([]float64, B*L), normals(rng, B*L)
	z = make([]float64, B*L)
	for i := range z {
		logvar[i] = -1 + rng.Float64()
		z[i] = mu[i] + math.Exp(logvar[i]/2)*eps[i]
	}
	return z, mu, logvar, eps
}

func TestTCTermsMatchDirectLoops(t *testing.T) {
	const B, L, n = 7, 3, 50
	z, mu, logvar, eps := randomPosteriors(rand.New(rand.NewPCG(3, 9)), B, L)
	checkGraphOnBatch(t, z, mu, logvar, eps, B, L, n)
}

// checkGraphOnBatch compares the graph's estimates on the first B
// posteriors with the direct loops', for both estimators.
func checkGraphOnBatch(t *testing.T, z, mu, logvar, eps []float64, B, L, n int) {
	t.Helper()
	z, mu, logvar, eps = z[:B*L], mu[:B*L], logvar[:B*L], eps[:B*L]
	for _, est := range []string{"mss", "mws"} {
		mi, tc, dk := tcOf(t, z, mu, logvar, eps, B, L, n, est)
		wmi, wtc, wdk := directTC(z, mu, logvar, eps, B, L, n, est)
		for _, c := range []struct {
			name      string
			got, want float64
		}{{"MI", mi, wmi}, {"TC", tc, wtc}, {"dimKL", dk, wdk}} {
			if math.Abs(c.got-c.want) > 1e-9*math.Max(1, math.Abs(c.want)) {
				t.Errorf("%s %s (batch of %d): graph %.12g, direct loops %.12g", est, c.name, B, c.got, c.want)
			}
		}
	}
}

// On Gaussian codes whose aggregate posterior is known, the MSS estimates
// agree with the closed forms within Monte-Carlo error (the
// statistics run on the direct loops, which TestTCTermsMatchDirectLoops and
// the first batch's check below tie to the graph within 1e-9): posteriors
// N(m_i, s²I) with means m_i ~ N(0, Σm) from a large dataset make the
// aggregate N(0, Σ), Σ = Σm + s²I, so TC = ½(Σ_d log Σ_dd − log det Σ),
// MI = ½ log det Σ − L log s and dimKL = Σ_d ½(Σ_dd − 1 − log Σ_dd).
func TestTCTermsMatchClosedFormsOnGaussianCodes(t *testing.T) {
	const B, L, n, s, reps, graphB = 1000, 3, 1_000_000, 0.8, 5, 250
	sm := mat.NewSymDense(L, []float64{1, 0.7, 0.3, 0.7, 1.2, 0.5, 0.3, 0.5, 0.8})
	var chol mat.Cholesky
	if !chol.Factorize(sm) {
		t.Fatal("Σm is not positive definite")
	}
	var lower mat.TriDense
	chol.LTo(&lower)
	sigma := mat.NewSymDense(L, nil)
	sigma.AddSym(sm, scaledIdentity(L, s*s))
	var cs mat.Cholesky
	cs.Factorize(sigma)
	logDet := cs.LogDet()
	wantTC, wantDK := -0.5*logDet, 0.0
	for d := range L {
		v := sigma.At(d, d)
		wantTC += 0.5 * math.Log(v)
		wantDK += 0.5 * (v - 1 - math.Log(v))
	}
	wantMI := 0.5*logDet - L*math.Log(s)

	rng := rand.New(rand.NewPCG(12, 5))
	var got [3][]float64
	for range reps {
		mu, logvar, eps, z := make([]float64, B*L), make([]float64, B*L), normals(rng, B*L), make([]float64, B*L)
		for i := range B {
			g := mat.NewVecDense(L, normals(rng, L))
			g.MulVec(&lower, g)
			for d := range L {
				mu[i*L+d], logvar[i*L+d] = g.AtVec(d), 2*math.Log(s)
				z[i*L+d] = mu[i*L+d] + s*eps[i*L+d]
			}
		}
		if len(got[0]) == 0 {
			checkGraphOnBatch(t, z, mu, logvar, eps, graphB, L, n)
		}
		mi, tc, dk := directTC(z, mu, logvar, eps, B, L, n, "mss")
		got[0], got[1], got[2] = append(got[0], mi), append(got[1], tc), append(got[2], dk)
	}
	for k, c := range []struct {
		name string
		want float64
	}{{"MI", wantMI}, {"TC", wantTC}, {"dimKL", wantDK}} {
		m, v := numtest.MeanVar(got[k])
		se := math.Sqrt(v * reps / (reps - 1) / reps) // the sample standard deviation over √reps
		// 4 standard errors, and the log of a leave-one-out density
		// estimate's small downward bias (Jensen) of order 1/B.
		if math.Abs(m-c.want) > 4*se+0.01 {
			t.Errorf("%s: estimate %.4f ± %.4f (s.e., %d batches of %d), closed form %.4f", c.name, m, se, reps, B, c.want)
		}
		t.Logf("%s: estimate %.4f ± %.4f, closed form %.4f", c.name, m, se, c.want)
	}
}

func scaledIdentity(n int, v float64) *mat.DiagDense {
	d := make([]float64, n)
	for i := range d {
		d[i] = v
	}
	return mat.NewDiagDense(n, d)
}

// With α = β = γ = 1 the three terms add up to the one-draw Monte-Carlo KL,
// so the loss is recon + mean(log q(z|x) − log p(z)), whatever the estimator.
func TestBetaTCWithUnitWeightsIsTheMonteCarloELBO(t *testing.T) {
	const batch = 6
	cfg := ModelConfig{Architecture: "mlp", Hidden: []int{5}, Latent: 3, Activation: "tanh", Likelihood: "bernoulli"}
	rng := rand.New(rand.NewPCG(8, 3))
	m, err := NewModel(cfg, Shape{1, 6, 1}, tensor.Float64, rng)
	if err != nil {
		t.Fatal(err)
	}
	x, eps := testInputs(rng, batch, 6, cfg.Latent)
	for _, est := range []string{"mss", "mws"} {
		o, err := m.newObjective(batch, ObjectiveConfig{Type: "beta_tc", Set: Values{"beta": 1.0, "estimator": est}}, true, 40)
		if err != nil {
			t.Fatal(err)
		}
		ratio := m.prior.logRatio(o)
		ratioV := new(G.Value)
		G.Read(ratio, ratioV)
		loss := forward(t, o, x, eps)
		mcKL := 0.0
		for _, r := range ops.Values64(*ratioV) {
			mcKL -= r / batch
		}
		if want := scalarValue(o.recon) + mcKL; math.Abs(loss-want) > 1e-9*math.Abs(want) {
			t.Errorf("%s: loss %.12g, recon + Monte-Carlo KL %.12g", est, loss, want)
		}
		if len(o.estimates) != 3 || o.estimates[1].key != KeyTC {
			t.Errorf("%s: estimates %v, want MI, TC and dimKL recorded", est, o.estimates)
		}
	}
}

func TestBetaTCGradientsMatchFiniteDifferences(t *testing.T) {
	for _, c := range []ObjectiveConfig{
		{Type: "beta_tc", Set: Values{"beta": 6.0}},
		{Type: "beta_tc", Set: Values{"beta": 4.0, "alpha": 0.5, "gamma": 2.0, "estimator": "mws"}},
	} {
		checkModelGradients(t, ModelConfig{Architecture: "mlp", Hidden: []int{4}, Latent: 2, Activation: "tanh", Likelihood: "gaussian", Set: Values{"sigma": 0.5}}, Shape{1, 5, 1}, c)
	}
	checkModelGradients(t, convCase("transpose", "none", "relu", "bernoulli"), Shape{8, 8, 1}, ObjectiveConfig{Type: "beta_tc", Set: Values{"beta": 6.0}})
}

func TestBetaTCSettings(t *testing.T) {
	for _, tc := range []struct {
		c   ObjectiveConfig
		key string
	}{
		{ObjectiveConfig{Type: "beta_tc", Set: Values{"beta": -1.0}}, "objective.beta: -1"},
		{ObjectiveConfig{Type: "beta_tc", Set: Values{"beta": 6.0, "alpha": -1.0}}, "objective.alpha"},
		{ObjectiveConfig{Type: "beta_tc", Set: Values{"beta": 6.0, "estimator": "mcmc"}}, "objective.estimator: \"mcmc\""},
		{ObjectiveConfig{Type: "beta_tc", Set: Values{"beta": 6.0, "lambda": 3.0}}, "objective.lambda: the beta_tc objective does not take it (it belongs to mmd)"},
		{ObjectiveConfig{Set: Values{"beta": 1.0, "alpha": 1.0}}, "objective.alpha: the elbo objective does not take it (it belongs to beta_tc)"},
	} {
		if err := tc.c.Validate(); err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%+v: error %v, want one naming %q", tc.c, err, tc.key)
		}
	}
}
