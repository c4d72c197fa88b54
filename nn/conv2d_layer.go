package nn

import (
	"math"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

// Conv2dLayer is StyleGAN2's Conv2dLayer: equalized-learning-rate conv
// (weight used as weight/√(in·k²)) with optional FIR up/down-sampling,
// then bias, activation, gain and clamp in one bias_act.
type Conv2dLayer struct {
	Weight         *autograd.Var // [out, in, k, k]
	Bias           *autograd.Var // [out] or nil
	ResampleFilter *autograd.Var // buffer: the FIR filter
	Activation     string
	Up, Down       int
	ConvClamp      float32 // < 0: none
	weightGain     float32
}

// NewConv2dLayer initialises a layer as the reference does (bias zero).
func NewConv2dLayer(in, out, kernel int, bias bool, activation string, up, down int, filter *tensor.Tensor, convClamp float32, rng *tensor.RNG) *Conv2dLayer {
	l := &Conv2dLayer{
		Weight:         NewParam(rng.Normal(out, in, kernel, kernel)),
		ResampleFilter: NewBuffer(filter),
		Activation:     activation,
		Up:             max(up, 1),
		Down:           max(down, 1),
		ConvClamp:      convClamp,
		weightGain:     1 / float32(math.Sqrt(float64(in*kernel*kernel))),
	}
	if bias {
		l.Bias = NewParam(tensor.Zeros(out))
	}
	return l
}

// NamedParams lists "weight", "bias" and the "resample_filter" buffer.
func (l *Conv2dLayer) NamedParams(prefix string, out []Named) []Named {
	out = append(out, Named{Name: Join(prefix, "weight"), Var: l.Weight})
	if l.Bias != nil {
		out = append(out, Named{Name: Join(prefix, "bias"), Var: l.Bias})
	}
	return append(out, Named{Name: Join(prefix, "resample_filter"), Var: l.ResampleFilter, Buffer: true})
}

// Forward applies the layer; gain scales the activation gain and the clamp.
func (l *Conv2dLayer) Forward(x *autograd.Var, gain float32) *autograd.Var {
	w := autograd.MulScalar(l.Weight, l.weightGain)
	k := l.Weight.Size(2)
	p := k / 2
	x = Conv2dResample(x, w, Resample{Filter: l.ResampleFilter.Value, Up: l.Up, Down: l.Down,
		Pad: [4]int{p, p, p, p}, FlipWeight: l.Up == 1})
	ba := tensor.DefaultBiasAct(l.Activation)
	ba.Gain *= gain
	ba.Clamp = -1
	if l.ConvClamp >= 0 {
		ba.Clamp = l.ConvClamp * gain
	}
	return autograd.BiasAct(x, l.Bias, ba)
}
