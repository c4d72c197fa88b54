package cpu

import "math"

// BiasActKind names the activation of the fused bias_act kernel (StyleGAN2's
// torch_utils.ops.bias_act).
type BiasActKind int

const (
	BiasActLinear BiasActKind = iota
	BiasActRelu
	BiasActLrelu // s > 0 ? s : alpha·s
	BiasActTanh
	BiasActSigmoid
	BiasActElu      // s > 0 ? s : e^s − 1 (alpha fixed at 1, as F.elu)
	BiasActSelu     // λ·(s > 0 ? s : α(e^s − 1)) with SELU's fixed λ, α
	BiasActSoftplus // log(1 + e^s), linear above 20 as torch
	BiasActSwish    // s·sigmoid(s)
)

// SELU's constants (Klambauer et al.), as torch.nn.functional.selu.
const (
	seluScale = 1.0507009873554804934193349852946
	seluAlpha = 1.6732632423543772848170429916717
)

// BiasActConfig describes a contiguous tensor viewed as [Outer, Channels,
// Inner] with the bias along Channels, and the activation's constants.
// Clamp < 0 means no clamp.
type BiasActConfig struct {
	Kind                   BiasActKind
	Alpha, Gain, Clamp     float32
	Outer, Channels, Inner int
}

// BiasActValue is act(s) in float64.
func BiasActValue(kind BiasActKind, s, alpha float64) float64 {
	switch kind {
	case BiasActLinear:
		return s
	case BiasActRelu:
		if s > 0 {
			return s
		}
		return 0
	case BiasActLrelu:
		if s > 0 {
			return s
		}
		return alpha * s
	case BiasActTanh:
		return math.Tanh(s)
	case BiasActSigmoid:
		return sigmoid64(s)
	case BiasActElu:
		if s > 0 {
			return s
		}
		return math.Expm1(s)
	case BiasActSelu:
		if s > 0 {
			return seluScale * s
		}
		return seluScale * seluAlpha * math.Expm1(s)
	case BiasActSoftplus:
		if s > 20 {
			return s
		}
		return math.Log1p(math.Exp(s))
	case BiasActSwish:
		return s * sigmoid64(s)
	}
	panic("cpu: unknown bias_act kind")
}

// BiasActDeriv is act'(s) as torch's autograd of the reference ops takes it:
// relu/lrelu branch on s > 0, elu/selu on s <= 0, softplus is 1 above 20.
func BiasActDeriv(kind BiasActKind, s, alpha float64) float64 {
	switch kind {
	case BiasActLinear:
		return 1
	case BiasActRelu:
		if s > 0 {
			return 1
		}
		return 0
	case BiasActLrelu:
		if s > 0 {
			return 1
		}
		return alpha
	case BiasActTanh:
		t := math.Tanh(s)
		return 1 - t*t
	case BiasActSigmoid:
		g := sigmoid64(s)
		return g * (1 - g)
	case BiasActElu:
		if s <= 0 {
			return math.Exp(s)
		}
		return 1
	case BiasActSelu:
		if s <= 0 {
			return seluScale * seluAlpha * math.Exp(s)
		}
		return seluScale
	case BiasActSoftplus:
		if s > 20 {
			return 1
		}
		return sigmoid64(s)
	case BiasActSwish:
		g := sigmoid64(s)
		return g + s*g*(1-g)
	}
	panic("cpu: unknown bias_act kind")
}

// biasActOut is clamp(act(s)·gain, −c, c) rounded to float32; NaN passes
// through as torch.clamp does (the CUDA kernel would map it to −c).
func biasActOut(kind BiasActKind, s float32, alpha, gain float64, clamp float32) float32 {
	v := float32(BiasActValue(kind, float64(s), alpha) * gain)
	if clamp >= 0 {
		if v < -clamp {
			v = -clamp
		} else if v > clamp {
			v = clamp
		}
	}
	return v
}

// BiasActRef computes y = clamp(act(x + b)·gain, −c, c) elementwise; b (one
// value per channel) may be nil. s = x + b is rounded to float32 first, as the
// reference adds in float32.
func BiasActRef(y, x, b []float32, c BiasActConfig) {
	alpha, gain := float64(c.Alpha), float64(c.Gain)
	inner := c.Inner
	ParallelFor(c.Outer*c.Channels, inner*8, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			var bias float32
			if b != nil {
				bias = b[r%c.Channels]
			}
			xs, ys := x[r*inner:(r+1)*inner], y[r*inner:(r+1)*inner]
			if c.Kind == BiasActLrelu && c.Clamp < 0 { // the hot case of StyleGAN2 gets a tight loop
				for i, v := range xs {
					s := v + bias
					if s > 0 {
						ys[i] = float32(float64(s) * gain)
					} else {
						ys[i] = float32(float64(s) * alpha * gain)
					}
				}
				continue
			}
			for i, v := range xs {
				ys[i] = biasActOut(c.Kind, v+bias, alpha, gain, c.Clamp)
			}
		}
	})
}

// BiasActGradRef computes dx = dy · act'(s) · gain · [−c <= act(s)·gain <= c]
// with s = x + b: the gradient of BiasActRef w.r.t. x (and, summed over
// everything but the channel axis, w.r.t. b). The clamp mask is inclusive and
// the relu/lrelu slope branches on s > 0, which is what autograd of the
// reference's plain torch ops computes (the golden files were made that way).
func BiasActGradRef(dx, dy, x, b []float32, c BiasActConfig) {
	alpha, gain := float64(c.Alpha), float64(c.Gain)
	inner := c.Inner
	ParallelFor(c.Outer*c.Channels, inner*8, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			var bias float32
			if b != nil {
				bias = b[r%c.Channels]
			}
			base := r * inner
			for i := 0; i < inner; i++ {
				s := x[base+i] + bias
				if c.Clamp >= 0 {
					v := float32(BiasActValue(c.Kind, float64(s), alpha) * gain)
					if !(v >= -c.Clamp && v <= c.Clamp) {
						dx[base+i] = 0
						continue
					}
				}
				dx[base+i] = float32(float64(dy[base+i]) * BiasActDeriv(c.Kind, float64(s), alpha) * gain)
			}
		}
	})
}

// Dispatch points for bias_act.
var (
	BiasAct     = BiasActRef
	BiasActGrad = BiasActGradRef
)
