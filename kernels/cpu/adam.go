package cpu

import "math"

// AdamCoefs are one Adam step's constants, worked out once per step so that
// every variant evaluates the same expression. The asm kernels read the
// struct by offset: keep the fields' order.
type AdamCoefs struct {
	GradScale float32 // the gradient is multiplied by it first
	InfTo     float32 // > 0: NaN gradients become 0, ±Inf become ±InfTo
	B1, B2    float32 // β1, β2
	C1, C2    float32 // 1 − β1 and 1 − β2, rounded to float32
	StepSize  float64 // lr / (1 − β1^t)
	SqrtBC2   float64 // √(1 − β2^t)
	Eps       float64
}

// NewAdamCoefs works out step t's constants (t from 1: the bias corrections
// are 1 − β^t) for learning rate lr, the gradient scaled by gradScale and,
// with infTo > 0, cleaned.
func NewAdamCoefs(lr, beta1, beta2, eps float32, t int, gradScale, infTo float32) AdamCoefs {
	bc1 := 1 - math.Pow(float64(beta1), float64(t))
	bc2 := 1 - math.Pow(float64(beta2), float64(t))
	return AdamCoefs{GradScale: gradScale, InfTo: infTo, B1: beta1, B2: beta2, C1: 1 - beta1, C2: 1 - beta2,
		StepSize: float64(lr) / bc1, SqrtBC2: math.Sqrt(bc2), Eps: float64(eps)}
}

// AdamUpdate applies one Adam step in place to w, the moments m and v, with
// gradient g (all of len(w)):
//
//	g' = GradScale·g (cleaned), m = β1·m + (1−β1)·g', v = β2·v + (1−β2)·g'·g',
//	w −= float32(StepSize·m / (√v / SqrtBC2 + Eps))
//
// with the moments in float32 and the step in float64, as AdamUpdateRef
// rounds them; every variant gives its bits.
var AdamUpdate = AdamUpdateRef

// AdamUpdateRef is AdamUpdate one element at a time.
func AdamUpdateRef(w, g, m, v []float32, c AdamCoefs) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for j := range w {
		gj := g[j] * c.GradScale
		if c.InfTo > 0 {
			switch {
			case gj != gj:
				gj = 0
			case gj > math.MaxFloat32:
				gj = c.InfTo
			case gj < -math.MaxFloat32:
				gj = -c.InfTo
			}
		}
		// The float32 conversions keep each product rounded on its own:
		// no fused multiply-add on any GOARCH, as in the vector kernels.
		m[j] = float32(c.B1*m[j]) + float32(c.C1*gj)
		v[j] = float32(c.B2*v[j]) + float32(float32(c.C2*gj)*gj)
		den := math.Sqrt(float64(v[j]))/c.SqrtBC2 + c.Eps
		w[j] -= float32(c.StepSize * float64(m[j]) / den)
	}
}

// EMAUpdate moves avg towards src in place: avg = src + β·(avg − src), the
// reference's lerp(src, avg, β), each operation rounded to float32.
var EMAUpdate = EMAUpdateRef

// EMAUpdateRef is EMAUpdate one element at a time.
func EMAUpdateRef(avg, src []float32, beta float32) {
	src = src[:len(avg)]
	for j := range avg {
		avg[j] = src[j] + float32(beta*float32(avg[j]-src[j])) // conversions: no fused multiply-add on any GOARCH
	}
}
