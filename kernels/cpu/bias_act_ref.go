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

// biasActSlope is the negative-side slope of a piecewise-linear activation.
func biasActSlope(c BiasActConfig) float32 {
	switch c.Kind {
	case BiasActLinear:
		return 1
	case BiasActRelu:
		return 0
	}
	return c.Alpha
}

// clampBounds returns [−c, c], or ±Inf for no clamp.
func clampBounds(clamp float32) (lo, hi float32) {
	if clamp < 0 {
		return float32(math.Inf(-1)), float32(math.Inf(1))
	}
	return -clamp, clamp
}

// BiasActRef computes y = clamp(act(x + b)·gain, −c, c) elementwise; b (one
// value per channel) may be nil. linear, relu and lrelu run in float32 with
// the reference's rounding steps (s = x + b, slope·s, ·gain), so they match
// it bit for bit; the smooth activations are evaluated in float64 on the
// float32 s and rounded once.
func BiasActRef(y, x, b []float32, c BiasActConfig) {
	alpha, gain := float64(c.Alpha), float64(c.Gain)
	inner := c.Inner
	slope := biasActSlope(c)
	lo, hi := clampBounds(c.Clamp)
	ParallelFor(c.Outer*c.Channels, inner*8, func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			var bias float32
			if b != nil {
				bias = b[r%c.Channels]
			}
			xs, ys := x[r*inner:(r+1)*inner], y[r*inner:(r+1)*inner]
			switch c.Kind {
			case BiasActLinear, BiasActRelu, BiasActLrelu:
				for i, v := range xs {
					s := v + bias
					if !(s > 0) { // NaN stays NaN through the multiply
						s *= slope
					}
					s *= c.Gain
					if s < lo {
						s = lo
					} else if s > hi {
						s = hi
					}
					ys[i] = s
				}
			default:
				for i, v := range xs {
					ys[i] = biasActOut(c.Kind, v+bias, alpha, gain, c.Clamp)
				}
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
	slope := biasActSlope(c)
	lo, hi := clampBounds(c.Clamp)
	ParallelFor(c.Outer*c.Channels, inner*8, func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			var bias float32
			if b != nil {
				bias = b[r%c.Channels]
			}
			xs, dys, dxs := x[r*inner:(r+1)*inner], dy[r*inner:(r+1)*inner], dx[r*inner:(r+1)*inner]
			switch c.Kind {
			case BiasActLinear, BiasActRelu, BiasActLrelu:
				for i, v := range xs {
					s := v + bias
					k := float32(1)
					if !(s > 0) {
						k = slope
					}
					if v := s * k * c.Gain; !(v >= lo && v <= hi) { // as the forward rounds it
						dxs[i] = 0
						continue
					}
					dxs[i] = dys[i] * c.Gain * k
				}
			default:
				for i, v := range xs {
					s := v + bias
					if c.Clamp >= 0 {
						if v := float32(BiasActValue(c.Kind, float64(s), alpha) * gain); !(v >= lo && v <= hi) {
							dxs[i] = 0
							continue
						}
					}
					dxs[i] = float32(float64(dys[i]) * BiasActDeriv(c.Kind, float64(s), alpha) * gain)
				}
			}
		}
	})
}

// Dispatch points for bias_act.
var (
	BiasAct     = BiasActRef
	BiasActGrad = BiasActGradRef
)
