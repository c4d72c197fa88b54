package nn

import (
	"math"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

// NoiseMode says where a synthesis layer's per-pixel noise comes from.
type NoiseMode int

const (
	NoiseRandom NoiseMode = iota // fresh N(0,1) per sample (training)
	NoiseConst                   // the layer's fixed noise_const buffer (repeatable output)
	NoiseNone
)

// SynthesisLayer is one modulated 3x3 convolution of the StyleGAN2 synthesis
// network: styles from an affine map of w, modulated conv (optionally up=2),
// scaled noise, then bias + lrelu (gain √2, clamp). Lafite replaces the
// affine map with a text-conditioned one and calls ForwardStyles directly.
type SynthesisLayer struct {
	Affine         *FullyConnected // w -> styles (bias init 1)
	Weight         *autograd.Var   // [out, in, k, k], raw N(0,1): demodulation cancels any gain
	Bias           *autograd.Var
	NoiseConst     *autograd.Var // buffer [res, res]
	NoiseStrength  *autograd.Var // scalar, starts at 0
	ResampleFilter *autograd.Var // buffer
	Up             int
	Resolution     int
	ConvClamp      float32
	UseNoise       bool
}

// NewSynthesisLayer initialises a layer as the reference does. affine may be
// nil when the caller supplies styles itself.
func NewSynthesisLayer(in, out, wDim, resolution, kernel, up int, useNoise bool, filter *tensor.Tensor, convClamp float32, withAffine bool, rng *tensor.RNG) *SynthesisLayer {
	l := &SynthesisLayer{
		Weight:         NewParam(rng.Normal(out, in, kernel, kernel)),
		Bias:           NewParam(tensor.Zeros(out)),
		ResampleFilter: NewBuffer(filter),
		Up:             max(up, 1),
		Resolution:     resolution,
		ConvClamp:      convClamp,
		UseNoise:       useNoise,
	}
	if withAffine {
		l.Affine = NewFullyConnected(wDim, in, true, "linear", 1, 1, rng)
	}
	if useNoise {
		l.NoiseConst = NewBuffer(rng.Normal(resolution, resolution))
		l.NoiseStrength = NewParam(tensor.Zeros())
	}
	return l
}

// NamedParams uses the reference's names: affine.*, weight, noise_strength,
// bias, resample_filter, noise_const (order as registered there).
func (l *SynthesisLayer) NamedParams(prefix string, out []Named) []Named {
	if l.Affine != nil {
		out = l.Affine.NamedParams(Join(prefix, "affine"), out)
	}
	out = append(out, Named{Name: Join(prefix, "weight"), Var: l.Weight})
	if l.UseNoise {
		out = append(out, Named{Name: Join(prefix, "noise_strength"), Var: l.NoiseStrength})
	}
	out = append(out, Named{Name: Join(prefix, "bias"), Var: l.Bias},
		Named{Name: Join(prefix, "resample_filter"), Var: l.ResampleFilter, Buffer: true})
	if l.UseNoise {
		out = append(out, Named{Name: Join(prefix, "noise_const"), Var: l.NoiseConst, Buffer: true})
	}
	return out
}

// Forward computes styles = affine(w) and applies the layer.
func (l *SynthesisLayer) Forward(x, w *autograd.Var, mode NoiseMode, fused bool, gain float32, rng *tensor.RNG) *autograd.Var {
	return l.ForwardStyles(x, l.Affine.Forward(w), mode, fused, gain, rng)
}

// ForwardStyles applies the layer with precomputed styles [N, in].
func (l *SynthesisLayer) ForwardStyles(x, styles *autograd.Var, mode NoiseMode, fused bool, gain float32, rng *tensor.RNG) *autograd.Var {
	// noise·strength is added by modulatedConv2d: first thing on the host, in
	// the convolution's epilogue on the GPU.
	var noise, strength *autograd.Var
	if l.UseNoise {
		switch mode {
		case NoiseRandom:
			// Drawn where x lives: on a GPU the noise never crosses the bus
			// (the same numbers as on the host for the same RNG state).
			noise, strength = autograd.Const(rng.NormalOn(x.Value.Device(), x.Size(0), 1, l.Resolution, l.Resolution)), l.NoiseStrength
		case NoiseConst:
			noise, strength = l.NoiseConst, l.NoiseStrength
		}
	}
	p := l.Weight.Size(2) / 2
	x = modulatedConv2d(x, l.Weight, styles, noise, strength, Resample{Filter: l.ResampleFilter.Value, Up: l.Up,
		Pad: [4]int{p, p, p, p}, FlipWeight: l.Up == 1}, true, fused)
	ba := tensor.DefaultBiasAct("lrelu")
	ba.Gain *= gain
	ba.Clamp = -1
	if l.ConvClamp >= 0 {
		ba.Clamp = l.ConvClamp * gain
	}
	return autograd.BiasAct(x, l.Bias, ba)
}

// ToRGB is StyleGAN2's ToRGBLayer: a 1x1 modulated conv without
// demodulation, styles scaled by 1/√(in·k²), then bias (linear, clamp).
type ToRGB struct {
	Affine     *FullyConnected
	Weight     *autograd.Var
	Bias       *autograd.Var
	ConvClamp  float32
	WeightGain float32
}

// NewToRGB initialises a layer as the reference does.
func NewToRGB(in, out, wDim, kernel int, convClamp float32, withAffine bool, rng *tensor.RNG) *ToRGB {
	t := &ToRGB{
		Weight:     NewParam(rng.Normal(out, in, kernel, kernel)),
		Bias:       NewParam(tensor.Zeros(out)),
		ConvClamp:  convClamp,
		WeightGain: 1 / float32(math.Sqrt(float64(in*kernel*kernel))),
	}
	if withAffine {
		t.Affine = NewFullyConnected(wDim, in, true, "linear", 1, 1, rng)
	}
	return t
}

// NamedParams lists affine.*, weight, bias.
func (t *ToRGB) NamedParams(prefix string, out []Named) []Named {
	if t.Affine != nil {
		out = t.Affine.NamedParams(Join(prefix, "affine"), out)
	}
	return append(out, Named{Name: Join(prefix, "weight"), Var: t.Weight}, Named{Name: Join(prefix, "bias"), Var: t.Bias})
}

// Forward computes styles = affine(w) and applies the layer.
func (t *ToRGB) Forward(x, w *autograd.Var, fused bool) *autograd.Var {
	return t.ForwardStyles(x, t.Affine.Forward(w), fused)
}

// ForwardStyles applies the layer to raw styles (before the weight gain).
func (t *ToRGB) ForwardStyles(x, styles *autograd.Var, fused bool) *autograd.Var {
	styles = autograd.MulScalar(styles, t.WeightGain)
	x = ModulatedConv2d(x, t.Weight, styles, nil, Resample{FlipWeight: true}, false, fused)
	ba := tensor.DefaultBiasAct("linear")
	ba.Clamp = -1
	if t.ConvClamp >= 0 {
		ba.Clamp = t.ConvClamp
	}
	return autograd.BiasAct(x, t.Bias, ba)
}

// MinibatchStd appends the standard deviation across groups of samples as
// extra feature maps (StyleGAN2's MinibatchStdLayer).
type MinibatchStd struct {
	GroupSize, NumChannels int
}

// NamedParams: the layer has none.
func (m *MinibatchStd) NamedParams(prefix string, out []Named) []Named { return out }

// Forward applies the layer to x [N,C,H,W].
func (m *MinibatchStd) Forward(x *autograd.Var) *autograd.Var {
	return autograd.MinibatchStd(x, m.GroupSize, m.NumChannels)
}
