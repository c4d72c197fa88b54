package lafite

import (
	"fmt"
	"math"
	"sort"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

// TrainConfig holds every training option; the defaults are the reference's.
type TrainConfig struct {
	G            GeneratorConfig
	D            DiscriminatorConfig
	Loss         LossConfig
	PseudoText   PseudoTextSource
	Batch        int
	GLR, DLR     float32
	Beta1, Beta2 float32
	Eps          float32
	GRegInterval int // path length every N steps (0: off)
	DRegInterval int // R1 every N steps (0: off)
	EMAKimg      float64
	EMARampup    float64
	Mirror       bool
	Seed         uint64
	// TrainablePerturbation switches on Lafite-NN's learned perturbation
	// with this target cosine (0: fixed perturbation).
	TrainablePerturbation float32
}

// DefaultTrainConfig is the reference's language-free configuration at a
// resolution and CLIP feature size.
func DefaultTrainConfig(res, fDim, batch int) TrainConfig {
	return TrainConfig{
		G: DefaultGeneratorConfig(res, fDim), D: DefaultDiscriminatorConfig(res, fDim),
		Loss: DefaultLossConfig(), PseudoText: DefaultPseudoText,
		Batch: batch, GLR: 0.0025, DLR: 0.0025, Beta1: 0, Beta2: 0.99, Eps: 1e-8,
		GRegInterval: 4, DRegInterval: 16, EMAKimg: float64(batch) * 10 / 32, EMARampup: 0.05,
		Mirror: false, Seed: 0,
	}
}

// Trainer owns the networks, optimizers and every piece of state a resumed
// run needs to continue bit for bit.
type Trainer struct {
	Cfg        TrainConfig
	G, GEma    *Generator
	D          *Discriminator
	Perturb    *TrainablePerturbation
	OptG, OptD *nn.Adam
	RNG        *tensor.RNG
	Step       int
	ImagesSeen int64
	PLMean     float32
	Data       Dataset
	CLIP       CLIPImageFeatures
	// Device is where the networks live (To moves them); batches are drawn
	// on the host and uploaded there at each step.
	Device tensor.Device
}

// genModule is the generator plus the learned perturbation: what G's
// optimizer updates.
type genModule struct {
	g *Generator
	p *TrainablePerturbation
}

func (m genModule) NamedParams(prefix string, out []nn.Named) []nn.Named {
	out = m.g.NamedParams(prefix, out)
	if m.p != nil {
		out = m.p.NamedParams(nn.Join(prefix, "perturb"), out)
	}
	return out
}

// validate refuses a configuration a step would fail on (a batch the
// minibatch-std groups do not divide) or that means nothing (a negative
// weight, a probability over 1, a learning rate of 0), before any network
// is built. NaN fails every range.
func (c TrainConfig) validate() error {
	if c.Batch < 1 {
		return fmt.Errorf("batch %d must be positive", c.Batch)
	}
	if g := min(c.D.MbstdGroup, c.Batch); c.D.MbstdChans > 0 && g >= 1 && c.Batch%g != 0 {
		return fmt.Errorf("batch %d is not a multiple of the minibatch-std group size %d", c.Batch, g)
	}
	type check struct {
		name           string
		v, lo, hi      float64
		loOpen, hiOpen bool // v > lo, v < hi rather than >=, <=
	}
	inf := math.Inf(1)
	for _, k := range []check{
		{"G learning rate", float64(c.GLR), 0, inf, true, false},
		{"D learning rate", float64(c.DLR), 0, inf, true, false},
		{"Adam beta1", float64(c.Beta1), 0, 1, false, true},
		{"Adam beta2", float64(c.Beta2), 0, 1, false, true},
		{"Adam epsilon", float64(c.Eps), 0, inf, true, false},
		{"R1 gamma", float64(c.Loss.R1Gamma), 0, inf, false, false},
		{"path-length weight", float64(c.Loss.PLWeight), 0, inf, false, false},
		{"path-length decay", float64(c.Loss.PLDecay), 0, 1, false, false},
		{"itd weight", float64(c.Loss.ITD), 0, inf, false, false},
		{"itc weight", float64(c.Loss.ITC), 0, inf, false, false},
		{"contrastive temperature", float64(c.Loss.Temp), 0, inf, true, false},
		{"contrastive direction mix (lam)", float64(c.Loss.Lam), 0, 1, false, false},
		{"style-mixing probability", float64(c.Loss.StyleMixProb), 0, 1, false, false},
		{"image perturbation a", float64(c.PseudoText.ImageA), 0, 1, false, false},
		{"caption perturbation a", float64(c.PseudoText.CaptionA), 0, 1, false, false},
		{"mixing probability", float64(c.PseudoText.MixingProb), 0, 1, false, false},
		{"EMA half-life (kimg)", c.EMAKimg, 0, inf, false, false},
		{"EMA ramp-up", c.EMARampup, 0, inf, false, false},
		{"learned perturbation's target cosine", float64(c.TrainablePerturbation), 0, 1, false, false},
	} {
		if k.v >= k.lo && k.v <= k.hi && !(k.loOpen && k.v == k.lo) && !(k.hiOpen && k.v == k.hi) {
			continue
		}
		if k.hi == inf {
			return fmt.Errorf("%s %v must be %s 0", k.name, k.v, map[bool]string{false: ">=", true: ">"}[k.loOpen])
		}
		lo, hi := map[bool]string{false: "[", true: "("}[k.loOpen], map[bool]string{false: "]", true: ")"}[k.hiOpen]
		return fmt.Errorf("%s %v must be in %s%v, %v%s", k.name, k.v, lo, k.lo, k.hi, hi)
	}
	if c.GRegInterval < 0 || c.DRegInterval < 0 || c.Loss.PLBatchShrink < 0 {
		return fmt.Errorf("regularization intervals (%d, %d) and path-length batch shrink %d must be >= 0",
			c.GRegInterval, c.DRegInterval, c.Loss.PLBatchShrink)
	}
	return nil
}

// NewTrainer initialises networks and optimizers from cfg.Seed.
func NewTrainer(cfg TrainConfig, data Dataset, clipFeats CLIPImageFeatures) (*Trainer, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("train: %v", err)
	}
	if data != nil && data.Len() == 0 {
		return nil, fmt.Errorf("train: the dataset is empty")
	}
	rng := tensor.NewRNG(cfg.Seed)
	g, err := NewGenerator(cfg.G, rng)
	if err != nil {
		return nil, err
	}
	gEma, _ := NewGenerator(cfg.G, rng)
	if err := nn.LoadStateDict(gEma, nn.StateDict(g), true); err != nil {
		return nil, err
	}
	d, err := NewDiscriminator(cfg.D, rng)
	if err != nil {
		return nil, err
	}
	t := &Trainer{Cfg: cfg, G: g, GEma: gEma, D: d, RNG: rng, Data: data, CLIP: clipFeats}
	if cfg.TrainablePerturbation > 0 {
		t.Perturb = NewTrainablePerturbation(cfg.G.FDim, 2*cfg.G.FDim, cfg.TrainablePerturbation, rng)
	}
	glr, gb1, gb2 := nn.LazyRegularization(cfg.GLR, cfg.Beta1, cfg.Beta2, cfg.GRegInterval)
	dlr, db1, db2 := nn.LazyRegularization(cfg.DLR, cfg.Beta1, cfg.Beta2, cfg.DRegInterval)
	t.OptG = nn.NewAdam(nn.Trainable(genModule{g, t.Perturb}), glr, gb1, gb2, cfg.Eps)
	t.OptD = nn.NewAdam(nn.Trainable(d), dlr, db1, db2, cfg.Eps)
	return t, nil
}

// To moves the networks, the learned perturbation and the optimizers'
// moments to dev. On a GPU each TrainStep then runs there, drawing its noise
// on the device, and reads its loss values in one copy at its end.
func (t *Trainer) To(dev tensor.Device) {
	for _, m := range []nn.Module{t.G, t.GEma, t.D} {
		nn.MoveTo(m, dev)
	}
	if t.Perturb != nil {
		nn.MoveTo(t.Perturb, dev)
	}
	t.OptG.To(dev)
	t.OptD.To(dev)
	t.Device = dev
}

// applyGrads steps the optimizer with the gradients d(loss·gain)/dp: the
// gain scales them inside the Adam step (the same rounding as multiplying
// them first, without a pass and a buffer per parameter). The phase's
// activations and gradients, allocated since mark, go back to the buffer
// pool (host only), except the loss parts in p, read at the step's end.
func applyGrads(opt *nn.Adam, loss *autograd.Var, gain float32, mark uint64, p *pending) {
	var grads []*autograd.Var
	if releaseActivations {
		keep := make([]*autograd.Var, len(p.vals))
		for i, v := range p.vals {
			keep[i] = autograd.Const(v)
		}
		grads = autograd.GradReleasing([]*autograd.Var{loss}, opt.Params, nil, mark, keep...)
	} else {
		grads = autograd.Grad([]*autograd.Var{loss}, opt.Params, nil, false)
	}
	for i, p := range opt.Params {
		p.Grad = grads[i].Value
	}
	opt.UpdateScaled(gain)
	opt.ZeroGrad()
	if releaseActivations {
		for _, g := range grads {
			if g.Value.PooledSince(mark) {
				g.Value.Release()
			}
		}
	}
}

// releaseActivations is off only in the test that checks releasing changes
// no loss.
var releaseActivations = true

// batch draws the next batch and its conditions.
func (t *Trainer) batch() (real, fts *tensor.Tensor, imgFts *tensor.Tensor, err error) {
	n := t.Cfg.Batch
	idx := make([]int, n)
	mirror := make([]bool, n)
	for i := range idx {
		idx[i] = t.RNG.Intn(t.Data.Len())
		mirror[i] = t.Cfg.Mirror && t.RNG.Float64() < 0.5
	}
	real, imgFts, txtFts, hasCap, err := t.Data.Batch(idx, mirror, t.RNG)
	if err != nil {
		return nil, nil, nil, err
	}
	fts, err = t.Cfg.PseudoText.Conditions(imgFts, txtFts, hasCap, t.RNG)
	return real, fts, imgFts, err
}

// TrainStep runs one iteration: Gmain, Greg (every GRegInterval), Dmain,
// Dreg (every DRegInterval), then the EMA update.
//
// On a GPU (To) the step makes no host round trip before its end: the batch
// is uploaded, noise is drawn on the device, and the loss values and the
// path-length mean are read in one download after the EMA update. Its
// temporaries are freed when it returns.
func (t *Trainer) TrainStep() (Parts, error) {
	c := t.Cfg
	real, ftsT, imgFts, err := t.batch()
	if err != nil {
		return nil, err
	}
	dev := t.Device
	if dev != tensor.CPU {
		scope := tensor.OpenScope()
		defer scope.Close()
		host := real
		real, ftsT, imgFts = real.To(dev), ftsT.To(dev), imgFts.To(dev)
		// The images' host copy goes back to the pool for the next batch:
		// a fresh buffer every step was most of the cost of stacking it.
		if host != real && host.Device() == tensor.CPU {
			host.Release()
		}
	}
	n := c.Batch
	fts := autograd.Const(ftsT)
	var p pending

	// Gmain.
	mark := tensor.BufferMark()
	gFts := fts
	var perturbPen *autograd.Var
	if t.Perturb != nil {
		gFts, perturbPen = t.Perturb.Forward(autograd.Const(imgFts), t.RNG)
	}
	z := autograd.Const(t.RNG.NormalOn(dev, n, c.G.ZDim))
	lossG := generatorLoss(c.Loss, t.G, t.D, t.CLIP, z, gFts, t.RNG, &p)
	if perturbPen != nil {
		lossG = autograd.Add(lossG, perturbPen)
		p.add("G/perturb_align", perturbPen)
	}
	applyGrads(t.OptG, lossG, 1, mark, &p)

	// Greg.
	var plMean *autograd.Var
	if c.GRegInterval > 0 && t.Step%c.GRegInterval == 0 && c.Loss.PLWeight != 0 {
		mark := tensor.BufferMark()
		zp := autograd.Const(t.RNG.NormalOn(dev, n, c.G.ZDim))
		pen, newMean := pathLength(c.Loss, t.G, zp, fts, t.PLMean, t.RNG)
		p.add("G/pl", pen)
		p.add(plMeanPart, newMean)
		applyGrads(t.OptG, pen, float32(c.GRegInterval), mark, &p)
		plMean = newMean
	}

	// Dmain.
	mark = tensor.BufferMark()
	zd := autograd.Const(t.RNG.NormalOn(dev, n, c.G.ZDim))
	lossD := discriminatorLoss(c.Loss, t.G, t.D, autograd.Const(real), zd, fts, t.RNG, &p)
	applyGrads(t.OptD, lossD, 1, mark, &p)

	// Dreg.
	if c.DRegInterval > 0 && t.Step%c.DRegInterval == 0 && c.Loss.R1Gamma != 0 {
		mark := tensor.BufferMark()
		r1 := R1Penalty(t.D, autograd.Const(real), fts)
		p.add("D/r1", r1)
		applyGrads(t.OptD, autograd.MulScalar(r1, c.Loss.R1Gamma/2), float32(c.DRegInterval), mark, &p)
	}

	t.ImagesSeen += int64(n)
	beta := nn.EMABeta(n, c.EMAKimg*1000, c.EMARampup, float64(t.ImagesSeen))
	if err := nn.EMAUpdate(t.GEma, t.G, beta); err != nil {
		return nil, err
	}

	// The one read of the step: every loss value, and the new path-length
	// mean (the next Greg's input, added with Greg's parts), together.
	parts := Parts{}
	p.readInto(parts)
	if plMean != nil {
		t.PLMean = float32(parts[plMeanPart]) // exact: a float32 widened and narrowed
		delete(parts, plMeanPart)
	}
	t.Step++
	if err := checkFinite(parts, t.Step); err != nil {
		return parts, err
	}
	return parts, nil
}

// DivergedError reports a step whose losses came out NaN or infinite. The
// step's updates are applied by then (the losses are read once, at the
// step's end), so the trainer's weights can no longer be trusted: continue
// from the last checkpoint written before it, if at all.
type DivergedError struct {
	Step  int     // the step that diverged (Trainer.Step after it)
	Loss  string  // the first non-finite term, by name
	Value float64 // its value
}

func (e *DivergedError) Error() string {
	return fmt.Sprintf("training diverged at step %d: %s is %v", e.Step, e.Loss, e.Value)
}

// checkFinite returns a DivergedError naming the first (by name) of parts
// that is NaN or infinite.
func checkFinite(parts Parts, step int) error {
	names := make([]string, 0, len(parts))
	for k := range parts {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if v := parts[k]; math.IsNaN(v) || math.IsInf(v, 0) {
			return &DivergedError{Step: step, Loss: k, Value: v}
		}
	}
	return nil
}

// plMeanPart carries the path-length mean through the step's one read.
const plMeanPart = "\x00pl_mean"
