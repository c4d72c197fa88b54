package lafite

import (
	"fmt"
	"math"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

// DiscriminatorConfig fixes the discriminator's shapes.
type DiscriminatorConfig struct {
	Resolution, Channels    int
	ChannelBase, ChannelMax int
	FDim                    int
	MbstdGroup, MbstdChans  int
	ConvClamp               float32
	UseNorm                 bool // L2-normalise f_s(x) before the projection
	// PerSampleProjection adds <f_s(x_n), h'_n> to sample n's logit. The
	// reference (and so the default, false) adds Σ_n <f_s(x_n), h'_n> — one
	// scalar for the whole batch — to every logit; see Logits.
	PerSampleProjection bool
}

// DefaultDiscriminatorConfig is the reference's configuration.
func DefaultDiscriminatorConfig(res, fDim int) DiscriminatorConfig {
	return DiscriminatorConfig{Resolution: res, Channels: 3, ChannelBase: 32768, ChannelMax: 512, FDim: fDim,
		MbstdGroup: 4, MbstdChans: 1, ConvClamp: 256}
}

func (c DiscriminatorConfig) channels(res int) int { return min(c.ChannelBase/res, c.ChannelMax) }

func (c DiscriminatorConfig) validate() error {
	r := c.Resolution
	if r < 8 || r&(r-1) != 0 || r > 1024 {
		return fmt.Errorf("resolution %d is not a power of two in [8, 1024]", r)
	}
	if c.FDim < 1 || c.Channels < 1 || c.channels(r) < 1 || c.MbstdChans < 0 {
		return fmt.Errorf("bad sizes in %+v", c)
	}
	if c.MbstdChans > 0 && (c.MbstdGroup < 1 || c.channels(4)%c.MbstdChans != 0) {
		return fmt.Errorf("minibatch-std group size %d must be >= 1 and its %d channels must divide the %d at 4x4",
			c.MbstdGroup, c.MbstdChans, c.channels(4))
	}
	for _, v := range []int{c.FDim, c.Channels, c.ChannelMax, c.MbstdChans} {
		if v > maxConfigSize {
			return fmt.Errorf("size %d over the limit %d in %+v", v, maxConfigSize, c)
		}
	}
	return nil
}

// DiscriminatorBlock is a 'resnet' block: conv0 3x3, conv1 3x3 down 2, plus
// a 1x1 down-2 skip, both branches scaled by √0.5. The first block also
// has fromrgb.
type DiscriminatorBlock struct {
	Res                int
	FromRGB            *nn.Conv2dLayer
	Conv0, Conv1, Skip *nn.Conv2dLayer
	ResampleFilter     *autograd.Var
}

// Discriminator is Lafite's discriminator: StyleGAN2's resnet discriminator
// whose epilogue also has the semantic head f_s projecting onto h'.
type Discriminator struct {
	Config         DiscriminatorConfig
	Blocks         []*DiscriminatorBlock
	Mbstd          *nn.MinibatchStd
	EpilogueConv   *nn.Conv2dLayer
	FC, Out, Fts   *nn.FullyConnected
	EpilogueFilter *autograd.Var
}

// NewDiscriminator initialises a discriminator as the reference does.
func NewDiscriminator(c DiscriminatorConfig, rng *tensor.RNG) (*Discriminator, error) {
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("lafite discriminator: %v", err)
	}
	filt := func() *tensor.Tensor { return tensor.SetupFilterTaps(1, 3, 3, 1) }
	d := &Discriminator{Config: c}
	r := c.Resolution
	for res := r; res > 4; res /= 2 {
		tmp, out := c.channels(res), c.channels(res/2)
		b := &DiscriminatorBlock{Res: res, ResampleFilter: nn.NewBuffer(filt())}
		if res == r {
			b.FromRGB = nn.NewConv2dLayer(c.Channels, tmp, 1, true, "lrelu", 1, 1, filt(), c.ConvClamp, rng)
		}
		b.Conv0 = nn.NewConv2dLayer(tmp, tmp, 3, true, "lrelu", 1, 1, filt(), c.ConvClamp, rng)
		b.Conv1 = nn.NewConv2dLayer(tmp, out, 3, true, "lrelu", 1, 2, filt(), c.ConvClamp, rng)
		b.Skip = nn.NewConv2dLayer(tmp, out, 1, false, "linear", 1, 2, filt(), -1, rng)
		d.Blocks = append(d.Blocks, b)
	}
	c4 := c.channels(4)
	if c.MbstdChans > 0 { // the reference's mbstd_num_channels = 0: no layer
		d.Mbstd = &nn.MinibatchStd{GroupSize: c.MbstdGroup, NumChannels: c.MbstdChans}
	}
	d.EpilogueConv = nn.NewConv2dLayer(c4+c.MbstdChans, c4, 3, true, "lrelu", 1, 1, filt(), c.ConvClamp, rng)
	d.FC = nn.NewFullyConnected(c4*16, c4, true, "lrelu", 1, 0, rng)
	d.Out = nn.NewFullyConnected(c4, 1, true, "linear", 1, 0, rng)
	d.Fts = nn.NewFullyConnected(c4, c.FDim, true, "linear", 1, 0, rng)
	return d, nil
}

// NamedParams uses the reference's names (b<res>.*, b4.conv/fc/out/fts).
func (d *Discriminator) NamedParams(prefix string, out []nn.Named) []nn.Named {
	for _, b := range d.Blocks {
		p := nn.Join(prefix, fmt.Sprintf("b%d", b.Res))
		out = append(out, nn.Named{Name: nn.Join(p, "resample_filter"), Var: b.ResampleFilter, Buffer: true})
		if b.FromRGB != nil {
			out = b.FromRGB.NamedParams(nn.Join(p, "fromrgb"), out)
		}
		out = b.Conv0.NamedParams(nn.Join(p, "conv0"), out)
		out = b.Conv1.NamedParams(nn.Join(p, "conv1"), out)
		out = b.Skip.NamedParams(nn.Join(p, "skip"), out)
	}
	p := nn.Join(prefix, "b4")
	out = d.EpilogueConv.NamedParams(nn.Join(p, "conv"), out)
	out = d.FC.NamedParams(nn.Join(p, "fc"), out)
	out = d.Out.NamedParams(nn.Join(p, "out"), out)
	return d.Fts.NamedParams(nn.Join(p, "fts"), out)
}

// Features runs the network up to the epilogue's FC: returns the realism
// score out(fc) [N,1] and the semantic features f_s(x) [N, FDim]
// (L2-normalised when UseNorm).
func (d *Discriminator) Features(img *autograd.Var) (score, dFts *autograd.Var) {
	c := d.Config
	s := img.Shape()
	if len(s) != 4 || s[1] != c.Channels || s[2] != c.Resolution || s[3] != c.Resolution {
		panic(fmt.Sprintf("lafite.Discriminator: images must be [N, %d, %d, %d], got %v", c.Channels, c.Resolution, c.Resolution, s))
	}
	sqrtHalf := float32(math.Sqrt(0.5))
	var x *autograd.Var
	for _, b := range d.Blocks {
		if b.FromRGB != nil {
			x = b.FromRGB.Forward(img, 1)
		}
		y := b.Skip.Forward(x, sqrtHalf)
		x = b.Conv0.Forward(x, 1)
		x = b.Conv1.Forward(x, sqrtHalf)
		x = autograd.Add(y, x)
	}
	if d.Mbstd != nil {
		x = d.Mbstd.Forward(x)
	}
	x = d.EpilogueConv.Forward(x, 1)
	x = d.FC.Forward(autograd.Flatten(x, 1, -1))
	dFts = d.Fts.Forward(x)
	if c.UseNorm {
		dFts = autograd.Div(dFts, autograd.Sqrt(autograd.Sum(autograd.Square(dFts), []int{1}, true)))
	}
	return d.Out.Forward(x), dFts
}

// Logits returns D(x, h') [N,1] = out(fc) + projection, and f_s(x). The
// projection is Σ_n <f_s(x_n), h'_n> added to every row (the reference's
// form: it couples the samples of a batch) unless PerSampleProjection, which
// adds <f_s(x_n), h'_n> to row n — the form the paper's equation describes.
func (d *Discriminator) Logits(img, fts *autograd.Var) (logits, dFts *autograd.Var) {
	score, dFts := d.Features(img)
	prod := autograd.Mul(dFts, fts)
	if d.Config.PerSampleProjection {
		return autograd.Add(score, autograd.Sum(prod, []int{1}, true)), dFts
	}
	return autograd.Add(score, autograd.SumAll(prod)), dFts
}
