package lafite

import (
	"fmt"
	"math/bits"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

// GeneratorConfig fixes the generator's shapes (the reference's
// constructor arguments, c_dim = 0).
type GeneratorConfig struct {
	ZDim, WDim, FDim int
	Resolution       int // power of two, 4..1024
	Channels         int // image channels (3)
	ChannelBase      int // channels at resolution r: min(ChannelBase/r, ChannelMax)
	ChannelMax       int
	MappingLayers    int
	ConvClamp        float32 // < 0: none
	// Change is the last resolution whose layers use structure 2 (text MLP
	// concatenated with w); layers above it use structure 1. 0 means 256.
	Change int
}

// DefaultGeneratorConfig is the reference's configuration for a resolution.
func DefaultGeneratorConfig(res, fDim int) GeneratorConfig {
	return GeneratorConfig{ZDim: 512, WDim: 512, FDim: fDim, Resolution: res, Channels: 3,
		ChannelBase: 32768, ChannelMax: 512, MappingLayers: 8, ConvClamp: 256}
}

func (c GeneratorConfig) channels(res int) int { return min(c.ChannelBase/res, c.ChannelMax) }

func (c GeneratorConfig) validate() error {
	r := c.Resolution
	if r < 4 || r&(r-1) != 0 || r > 1024 {
		return fmt.Errorf("resolution %d is not a power of two in [4, 1024]", r)
	}
	if c.ZDim < 1 || c.WDim < 1 || c.FDim < 1 || c.Channels < 1 || c.MappingLayers < 1 {
		return fmt.Errorf("non-positive size in %+v", c)
	}
	for _, v := range []int{c.ZDim, c.WDim, c.FDim, c.Channels, c.ChannelMax, c.MappingLayers} {
		if v > maxConfigSize {
			return fmt.Errorf("size %d over the limit %d in %+v", v, maxConfigSize, c)
		}
	}
	if c.channels(r) < 1 {
		return fmt.Errorf("channel_base %d gives no channels at resolution %d", c.ChannelBase, r)
	}
	return nil
}

// NumWS is the number of w vectors the synthesis network consumes:
// 2·log2(res) − 2.
func (c GeneratorConfig) NumWS() int { return 2*(bits.Len(uint(c.Resolution))-1) - 2 }

// StyledConv is a synthesis layer with its own text-conditioned styles.
type StyledConv struct {
	*nn.SynthesisLayer
	Text *TextStyles
}

// StyledRGB is a ToRGB layer with its own text-conditioned styles.
type StyledRGB struct {
	*nn.ToRGB
	Text *TextStyles
}

// SynthesisBlock is one resolution of the 'skip' synthesis network.
type SynthesisBlock struct {
	Res            int
	Const          *autograd.Var // [C,4,4] for the 4x4 block only
	Conv0, Conv1   *StyledConv   // Conv0 is nil at 4x4
	ToRGB          *StyledRGB
	ResampleFilter *autograd.Var
}

// Generator is Lafite's generator: a mapping network of z alone and a
// synthesis network whose every layer takes its style from (w, h').
type Generator struct {
	Config  GeneratorConfig
	Mapping *nn.MappingNetwork
	Blocks  []*SynthesisBlock
}

// NewGenerator initialises a generator as the reference does.
func NewGenerator(c GeneratorConfig, rng *tensor.RNG) (*Generator, error) {
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("lafite generator: %v", err)
	}
	g := &Generator{Config: c, Mapping: nn.NewMappingNetwork(c.ZDim, c.WDim, c.NumWS(), c.MappingLayers, 0.01, rng)}
	filt := func() *tensor.Tensor { return tensor.SetupFilterTaps(1, 3, 3, 1) }
	change := c.Change
	if change == 0 {
		change = 256
	}
	for res := 4; res <= c.Resolution; res *= 2 {
		out := c.channels(res)
		text := NewTextStyles
		if res > change {
			text = NewTextStylesAffine
		}
		b := &SynthesisBlock{Res: res, ResampleFilter: nn.NewBuffer(filt())}
		if res == 4 {
			b.Const = nn.NewParam(rng.Normal(out, 4, 4))
		} else {
			in := c.channels(res / 2)
			b.Conv0 = &StyledConv{nn.NewSynthesisLayer(in, out, c.WDim, res, 3, 2, true, filt(), c.ConvClamp, false, rng), text(c.FDim, c.WDim, in, rng)}
		}
		b.Conv1 = &StyledConv{nn.NewSynthesisLayer(out, out, c.WDim, res, 3, 1, true, filt(), c.ConvClamp, false, rng), text(c.FDim, c.WDim, out, rng)}
		b.ToRGB = &StyledRGB{nn.NewToRGB(out, c.Channels, c.WDim, 1, c.ConvClamp, false, rng), text(c.FDim, c.WDim, out, rng)}
		g.Blocks = append(g.Blocks, b)
	}
	return g, nil
}

// NamedParams uses the reference's state_dict names (synthesis.b<res>.*,
// mapping.*), in its registration order.
func (g *Generator) NamedParams(prefix string, out []nn.Named) []nn.Named {
	for _, b := range g.Blocks {
		p := nn.Join(prefix, fmt.Sprintf("synthesis.b%d", b.Res))
		if b.Const != nil {
			out = append(out, nn.Named{Name: nn.Join(p, "const"), Var: b.Const})
		}
		out = append(out, nn.Named{Name: nn.Join(p, "resample_filter"), Var: b.ResampleFilter, Buffer: true})
		if b.Conv0 != nil {
			out = b.Conv0.SynthesisLayer.NamedParams(nn.Join(p, "conv0"), out)
			out = b.Conv0.Text.NamedParams(nn.Join(p, "conv0"), out)
		}
		out = b.Conv1.SynthesisLayer.NamedParams(nn.Join(p, "conv1"), out)
		out = b.Conv1.Text.NamedParams(nn.Join(p, "conv1"), out)
		out = b.ToRGB.ToRGB.NamedParams(nn.Join(p, "torgb"), out)
		out = b.ToRGB.Text.NamedParams(nn.Join(p, "torgb"), out)
	}
	return g.Mapping.NamedParams(nn.Join(prefix, "mapping"), out)
}

// SynthesisOptions control a synthesis pass.
type SynthesisOptions struct {
	Noise nn.NoiseMode
	Fused bool        // fused (grouped) modulated conv: inference only
	RNG   *tensor.RNG // for NoiseRandom
	// Styles, when non-nil, receives every layer's styles in block order
	// (conv1, torgb, conv0, conv1, torgb, ...), torgb styles after their gain.
	Styles *[]*autograd.Var
}

// Synthesis renders images [N, C, res, res] from ws [N, NumWS, WDim] and text
// features fts [N, FDim].
func (g *Generator) Synthesis(ws, fts *autograd.Var, o SynthesisOptions) *autograd.Var {
	c := g.Config
	if ws.Dim() != 3 || ws.Size(1) != c.NumWS() || ws.Size(2) != c.WDim {
		panic(fmt.Sprintf("lafite.Synthesis: ws must be [N, %d, %d], got %v", c.NumWS(), c.WDim, ws.Shape()))
	}
	n := ws.Size(0)
	if fts.Dim() != 2 || fts.Size(0) != n || fts.Size(1) != c.FDim {
		panic(fmt.Sprintf("lafite.Synthesis: fts must be [%d, %d], got %v", n, c.FDim, fts.Shape()))
	}
	record := func(s *autograd.Var) {
		if o.Styles != nil {
			*o.Styles = append(*o.Styles, s)
		}
	}
	var x, img *autograd.Var
	idx := 0
	for _, b := range g.Blocks {
		w := func(i int) *autograd.Var { return autograd.Select(ws, 1, idx+i) }
		k := 0
		if b.Const != nil {
			cs := b.Const.Shape()
			x = autograd.BroadcastTo(autograd.Unsqueeze(b.Const, 0), n, cs[0], cs[1], cs[2])
		} else {
			s := b.Conv0.Text.Forward(w(k), fts)
			record(s)
			x = b.Conv0.ForwardStyles(x, s, o.Noise, o.Fused, 1, o.RNG)
			k++
		}
		s := b.Conv1.Text.Forward(w(k), fts)
		record(s)
		x = b.Conv1.ForwardStyles(x, s, o.Noise, o.Fused, 1, o.RNG)
		k++
		if img != nil {
			img = autograd.Upsample2d(img, b.ResampleFilter.Value, 2, nil, false, 1)
		}
		s = b.ToRGB.Text.Forward(w(k), fts)
		record(autograd.MulScalar(s, b.ToRGB.WeightGain))
		y := b.ToRGB.ForwardStyles(x, s, o.Fused)
		if img == nil {
			img = y
		} else {
			img = autograd.Add(img, y)
		}
		idx += k // torgb shares its w with the next block's first conv
	}
	return img
}

// Forward maps z [N, ZDim] and text features [N, FDim] to images.
func (g *Generator) Forward(z, fts *autograd.Var, m nn.MappingOptions, o SynthesisOptions) (img, ws *autograd.Var) {
	ws = g.Mapping.Forward(z, m)
	return g.Synthesis(ws, fts, o), ws
}
