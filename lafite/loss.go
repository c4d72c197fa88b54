package lafite

import (
	"math"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

// LossConfig holds Lafite's loss weights (REFERENCE.md §6).
type LossConfig struct {
	ITD, ITC         float32 // weights of the discriminator- and CLIP-side contrastive terms
	Temp, Lam        float32 // contrastive temperature τ and direction mix
	PlainContrastive bool    // paper's softmax(S/τ) instead of the reference's exp-sharpened form
	R1Gamma          float32
	PLWeight         float32
	PLDecay          float32
	PLBatchShrink    int
	StyleMixProb     float32
}

// DefaultLossConfig is the language-free setting (itd = itc = 10, τ = 0.5).
func DefaultLossConfig() LossConfig {
	return LossConfig{ITD: 10, ITC: 10, Temp: 0.5, Lam: 0, R1Gamma: 10, PLWeight: 2, PLDecay: 0.01, PLBatchShrink: 2, StyleMixProb: 0.9}
}

// CLIPImageFeatures maps generated images in [-1, 1] to L2-normalised CLIP
// image features, differentiably (random crop, resize, normalise, encode).
type CLIPImageFeatures func(img *autograd.Var, rng *tensor.RNG) *autograd.Var

// contrast is mean(contra_loss(A, B)): larger when row i of A is closer to
// row i of B than to the other rows.
func (c LossConfig) contrast(a, b *autograd.Var) *autograd.Var {
	return autograd.Mean(autograd.ContraLoss(a, b, c.Temp, c.Lam, c.PlainContrastive), nil, false)
}

// mapWithMixing runs the mapping network (updating w_avg when training) and,
// with probability StyleMixProb, replaces the ws from a random cutoff on with
// those of a second latent (StyleGAN2's style mixing regularization). As in
// the reference, the second latent is mapped on every call and, without
// mixing, the cutoff is the end: a step then does the same work whatever
// the draw, and on a GPU allocates the same buffers, so that after the
// first step the caching allocator never needs a new block.
func (c LossConfig) mapWithMixing(g *Generator, z *autograd.Var, train bool, rng *tensor.RNG) *autograd.Var {
	ws := g.Mapping.Forward(z, nn.MappingOptions{Psi: 1, UpdateWAvg: train})
	numWS := ws.Size(1)
	if c.StyleMixProb <= 0 || numWS < 2 {
		return ws
	}
	cutoff := 1 + rng.Intn(numWS-1)
	if rng.Float64() >= float64(c.StyleMixProb) {
		cutoff = numWS
	}
	ws2 := g.Mapping.Forward(autograd.Const(rng.NormalOn(z.Value.Device(), z.Shape()...)), nn.MappingOptions{Psi: 1})
	return autograd.Concat([]*autograd.Var{autograd.Narrow(ws, 1, 0, cutoff), autograd.Narrow(ws2, 1, cutoff, numWS-cutoff)}, 1)
}

// Parts are scalar loss components for logging.
type Parts map[string]float64

// pending holds loss components where they were computed, so that a
// training step on a GPU reads them all in one copy at its end rather than
// waiting for the GPU after every term.
type pending struct {
	names []string
	vals  []*tensor.Tensor
}

func (p *pending) add(name string, v *autograd.Var) {
	p.names = append(p.names, name)
	p.vals = append(p.vals, v.Value)
}

// read returns the values in the order added: on the host each is read in
// place, on a GPU they are stacked and downloaded in one copy.
func (p *pending) read() []float32 {
	if len(p.vals) == 0 {
		return nil
	}
	if p.vals[0].Device() == tensor.CPU {
		out := make([]float32, len(p.vals))
		for i, v := range p.vals {
			out[i] = v.Item()
		}
		return out
	}
	return tensor.Stack(p.vals, 0).ToSlice()
}

// readInto adds every value to parts.
func (p *pending) readInto(parts Parts) {
	for i, v := range p.read() {
		parts[p.names[i]] = float64(v)
	}
}

// GeneratorLoss is Gmain: softplus(−D(G(z,h'),h')) − itc·c(CLIP(G), h') −
// itd·c(f_s(G), h'), averaged over the batch.
func GeneratorLoss(c LossConfig, g *Generator, d *Discriminator, clipFeats CLIPImageFeatures, z, fts *autograd.Var, rng *tensor.RNG) (*autograd.Var, Parts) {
	var p pending
	loss := generatorLoss(c, g, d, clipFeats, z, fts, rng, &p)
	parts := Parts{}
	p.readInto(parts)
	return loss, parts
}

// generatorLoss is GeneratorLoss leaving its parts in p.
func generatorLoss(c LossConfig, g *Generator, d *Discriminator, clipFeats CLIPImageFeatures, z, fts *autograd.Var, rng *tensor.RNG, p *pending) *autograd.Var {
	ws := c.mapWithMixing(g, z, true, rng)
	img := g.Synthesis(ws, fts, SynthesisOptions{Noise: nn.NoiseRandom, RNG: rng})
	logits, dFts := d.Logits(img, fts)
	adv := autograd.Mean(autograd.Softplus(autograd.Neg(logits)), nil, false)
	loss := adv
	p.add("G/adv", adv)
	if c.ITC != 0 && clipFeats != nil {
		cc := c.contrast(clipFeats(img, rng), fts)
		loss = autograd.Sub(loss, autograd.MulScalar(cc, c.ITC))
		p.add("G/clip_contrast", cc)
	}
	if c.ITD != 0 {
		dc := c.contrast(dFts, fts)
		loss = autograd.Sub(loss, autograd.MulScalar(dc, c.ITD))
		p.add("G/d_contrast", dc)
	}
	p.add("G/loss", loss)
	return loss
}

// PathLength is Greg's path-length penalty on the first N/PLBatchShrink
// samples, already multiplied by PLWeight, and the updated running mean.
func PathLength(c LossConfig, g *Generator, z, fts *autograd.Var, plMean float32, rng *tensor.RNG) (*autograd.Var, float32) {
	pen, newMean := pathLength(c, g, z, fts, plMean, rng)
	return pen, newMean.Item()
}

// pathLength is PathLength with the new mean left where it was computed.
func pathLength(c LossConfig, g *Generator, z, fts *autograd.Var, plMean float32, rng *tensor.RNG) (pen, newMean *autograd.Var) {
	n := max(z.Size(0)/max(c.PLBatchShrink, 1), 1)
	z, fts = autograd.Narrow(z, 0, 0, n), autograd.Narrow(fts, 0, 0, n)
	ws := c.mapWithMixing(g, z, true, rng)
	img := g.Synthesis(ws, fts, SynthesisOptions{Noise: nn.NoiseRandom, RNG: rng})
	h, w := img.Size(2), img.Size(3)
	noise := tensor.MulScalar(rng.NormalOn(img.Value.Device(), img.Shape()...), float32(1/math.Sqrt(float64(h*w))))
	pl := PathLengthPenaltyScaled(img, ws, plMean, c.PLDecay, noise)
	return autograd.MulScalar(pl.Penalty, c.PLWeight), pl.NewMean
}

// PathLengthTerms are the pieces of the path-length penalty.
type PathLengthTerms struct {
	Penalty   *autograd.Var // mean_n (len_n − m')²
	PerSample *autograd.Var // (len_n − m')²
	Lengths   *autograd.Var // len_n = √(mean_ws Σ_wdim g²)
	NewMean   *autograd.Var // m' = m + decay·(mean(len) − m), not detached
}

// PathLengthPenaltyScaled computes the penalty for images rendered from ws:
// g = ∂Σ(img·noise)/∂ws (noise already divided by √(HW)), the lengths, the
// lerped running mean m' — used in the penalty WITHOUT detaching, as the
// reference does — and mean((len − m')²). Double backward runs through it.
func PathLengthPenaltyScaled(img, ws *autograd.Var, plMean, decay float32, noise *tensor.Tensor) PathLengthTerms {
	gws := autograd.Grad([]*autograd.Var{autograd.SumAll(autograd.Mul(img, autograd.Const(noise)))}, []*autograd.Var{ws}, nil, true)[0]
	lengths := autograd.Sqrt(autograd.Mean(autograd.Sum(autograd.Square(gws), []int{2}, false), []int{1}, false))
	m := autograd.AddScalar(autograd.MulScalar(autograd.AddScalar(autograd.Mean(lengths, nil, false), -plMean), decay), plMean)
	per := autograd.Square(autograd.Sub(lengths, m))
	return PathLengthTerms{Penalty: autograd.Mean(per, nil, false), PerSample: per, Lengths: lengths, NewMean: m}
}

// DiscriminatorLoss is Dmain: softplus(D(G(z,h'),h')) + softplus(−D(x,h')) −
// itd·c(f_s(x), h'), averaged over the batch; the fakes are rendered
// without recording the generator.
func DiscriminatorLoss(c LossConfig, g *Generator, d *Discriminator, real, z, fts *autograd.Var, rng *tensor.RNG) (*autograd.Var, Parts) {
	var p pending
	loss := discriminatorLoss(c, g, d, real, z, fts, rng, &p)
	parts := Parts{}
	p.readInto(parts)
	return loss, parts
}

// discriminatorLoss is DiscriminatorLoss leaving its parts in p.
func discriminatorLoss(c LossConfig, g *Generator, d *Discriminator, real, z, fts *autograd.Var, rng *tensor.RNG, p *pending) *autograd.Var {
	var fake *autograd.Var
	autograd.NoGrad(func() {
		// Nothing records the fakes' synthesis: its activations go back to
		// the host pool as soon as the images are made.
		scope := tensor.OpenHostScope()
		defer func() {
			var keep *tensor.Tensor // none when a panic is on its way up
			if fake != nil {
				keep = fake.Value
			}
			scope.Close(keep)
		}()
		ws := c.mapWithMixing(g, z, false, rng)
		fake = g.Synthesis(ws, fts, SynthesisOptions{Noise: nn.NoiseRandom, RNG: rng})
	})
	fakeLogits, _ := d.Logits(fake.Detach(), fts)
	realLogits, realFts := d.Logits(real, fts)
	lf := autograd.Mean(autograd.Softplus(fakeLogits), nil, false)
	lr := autograd.Mean(autograd.Softplus(autograd.Neg(realLogits)), nil, false)
	loss := autograd.Add(lf, lr)
	p.add("D/fake", lf)
	p.add("D/real", lr)
	if c.ITD != 0 {
		dc := c.contrast(realFts, fts)
		loss = autograd.Sub(loss, autograd.MulScalar(dc, c.ITD))
		p.add("D/contrast", dc)
	}
	p.add("D/loss", loss)
	return loss
}

// R1Penalty is Dreg's unweighted penalty: mean_n Σ_pixels (∂Σ D(x,h')/∂x)².
// Multiply by γ/2 (and the lazy interval) for the loss.
func R1Penalty(d *Discriminator, real, fts *autograd.Var) *autograd.Var {
	x := autograd.Param(real.Value)
	logits, _ := d.Logits(x, fts)
	g := autograd.Grad([]*autograd.Var{autograd.SumAll(logits)}, []*autograd.Var{x}, nil, true)[0]
	return autograd.Mean(autograd.Sum(autograd.Square(g), []int{1, 2, 3}, false), nil, false)
}
