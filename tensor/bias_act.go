package tensor

import (
	"fmt"
	"math"
	"sort"

	"github.com/lafite-go/lafite/kernels/cpu"
)

// BiasActParams configures BiasAct. Start from DefaultBiasAct(act), which
// fills the activation's default Alpha and Gain, Clamp −1 (none) and Dim 1,
// then override fields: a zero Gain is taken literally, so a hand-built
// literal that forgets Gain silences the layer.
type BiasActParams struct {
	Act   string  // linear, relu, lrelu, tanh, sigmoid, elu, selu, softplus, swish
	Alpha float32 // lrelu's negative slope (ignored by the others)
	Gain  float32 // applied after the activation, before the clamp
	Clamp float32 // clamp to [−Clamp, Clamp]; negative means no clamp
	Dim   int     // axis of x the bias runs along (1 for NCHW and [N, C])
}

type biasActSpec struct {
	kind        cpu.BiasActKind
	alpha, gain float32
}

// biasActSpecs holds each activation's default alpha and gain (the
// reference's activation_funcs table).
var biasActSpecs = map[string]biasActSpec{
	"linear":   {cpu.BiasActLinear, 0, 1},
	"relu":     {cpu.BiasActRelu, 0, math.Sqrt2},
	"lrelu":    {cpu.BiasActLrelu, 0.2, math.Sqrt2},
	"tanh":     {cpu.BiasActTanh, 0, 1},
	"sigmoid":  {cpu.BiasActSigmoid, 0, 1},
	"elu":      {cpu.BiasActElu, 0, 1},
	"selu":     {cpu.BiasActSelu, 0, 1},
	"softplus": {cpu.BiasActSoftplus, 0, 1},
	"swish":    {cpu.BiasActSwish, 0, math.Sqrt2},
}

func biasActSpecOf(op, act string) biasActSpec {
	s, ok := biasActSpecs[act]
	if !ok {
		names := make([]string, 0, len(biasActSpecs))
		for n := range biasActSpecs {
			names = append(names, n)
		}
		sort.Strings(names)
		panic(fmt.Sprintf("%s: unknown activation Act %q (want one of %v)", op, act, names))
	}
	return s
}

// DefaultBiasAct returns the parameters of act with its default alpha and
// gain (lrelu: 0.2, √2; relu and swish: gain √2; others gain 1), no clamp, and
// the bias along dim 1.
func DefaultBiasAct(act string) BiasActParams {
	s := biasActSpecOf("tensor.DefaultBiasAct", act)
	return BiasActParams{Act: act, Alpha: s.alpha, Gain: s.gain, Clamp: -1, Dim: 1}
}

// DefaultActGain is the gain DefaultBiasAct uses for act (def_gain in the
// reference, which layers multiply by their own gain).
func DefaultActGain(act string) float32 { return biasActSpecOf("tensor.DefaultActGain", act).gain }

// biasActConfig validates x, b and p and views x as [outer, channels, inner]
// (one channel when there is no bias).
func biasActConfig(op string, x, b *Tensor, p BiasActParams) cpu.BiasActConfig {
	s := biasActSpecOf(op, p.Act)
	c := cpu.BiasActConfig{Kind: s.kind, Alpha: p.Alpha, Gain: p.Gain, Clamp: p.Clamp, Outer: 1, Channels: 1, Inner: 1}
	if b == nil { // Dim only places the bias
		c.Inner = x.Numel()
		return c
	}
	if p.Dim < -x.Dim() || p.Dim >= x.Dim() {
		panic(fmt.Sprintf("%s: Dim %d out of range for x of shape %v", op, p.Dim, x.shape))
	}
	d := normDim(p.Dim, x.Dim())
	c.Outer, c.Channels, c.Inner = numel(x.shape[:d]), x.shape[d], numel(x.shape[d+1:])
	if b.Dim() != 1 || b.shape[0] != c.Channels {
		panic(fmt.Sprintf("%s: bias b has shape %v, want [%d] (x %v along Dim %d)", op, b.shape, c.Channels, x.shape, p.Dim))
	}
	return c
}

func biasData(b *Tensor) []float32 {
	if b == nil {
		return nil
	}
	return b.Contiguous().Data()
}

// BiasAct is StyleGAN2's fused y = clamp(act(x + b)·gain, −c, c), b broadcast
// along p.Dim; b may be nil. Kernel: cpu.BiasAct (kernels/cpu/bias_act_ref.go).
func BiasAct(x, b *Tensor, p BiasActParams) *Tensor {
	if dispatchCUDA("BiasAct", x, b) {
		return cudaBiasAct(x, b, p)
	}
	c := biasActConfig("tensor.BiasAct", x, b, p)
	out := Empty(x.shape...)
	cpu.BiasAct(out.storage.data, x.Contiguous().Data(), biasData(b), c)
	return out
}

// BiasActGrad is the gradient of BiasAct w.r.t. x for output gradient dy:
// dx = dy·act'(x + b)·gain where −c <= act(x + b)·gain <= c, else 0. The
// gradient w.r.t. b is dx summed over every axis but p.Dim. Kernel:
// cpu.BiasActGrad (kernels/cpu/bias_act_ref.go).
func BiasActGrad(dy, x, b *Tensor, p BiasActParams) *Tensor {
	if dispatchCUDA("BiasActGrad", dy, x, b) {
		return cudaBiasActGrad(dy, x, b, p)
	}
	c := biasActConfig("tensor.BiasActGrad", x, b, p)
	if !SameShape(dy.shape, x.shape) {
		panic(fmt.Sprintf("tensor.BiasActGrad: dy has shape %v, x has %v", dy.shape, x.shape))
	}
	out := Empty(x.shape...)
	cpu.BiasActGrad(out.storage.data, dy.Contiguous().Data(), x.Contiguous().Data(), biasData(b), c)
	return out
}
