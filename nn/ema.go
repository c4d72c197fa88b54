package nn

import (
	"fmt"
	"math"

	"github.com/lafite-go/lafite/tensor"
)

// EMABeta is the per-step decay of an exponential moving average whose
// half-life is halfLifeImages images at batch images per step; with a ramp-up
// r > 0 the half-life is capped at r·imagesSeen, so early averages follow the
// fast-changing weights (StyleGAN2's G_ema schedule).
func EMABeta(batch int, halfLifeImages, rampup float64, imagesSeen float64) float32 {
	h := halfLifeImages
	if rampup > 0 {
		h = math.Min(h, imagesSeen*rampup)
	}
	if h <= 0 {
		return 0
	}
	return float32(math.Pow(0.5, float64(batch)/h))
}

// EMAUpdate moves every parameter of avg towards src: avg = src + β(avg − src);
// buffers are copied.
func EMAUpdate(avg, src Module, beta float32) error {
	a, s := AllParams(avg), AllParams(src)
	if len(a) != len(s) {
		return fmt.Errorf("ema: %d entries in the average, %d in the source", len(a), len(s))
	}
	for i := range a {
		if a[i].Name != s[i].Name || !tensor.SameShape(a[i].Var.Value.Shape(), s[i].Var.Value.Shape()) {
			return fmt.Errorf("ema: entry %d is %s%v in the average, %s%v in the source",
				i, a[i].Name, a[i].Var.Value.Shape(), s[i].Name, s[i].Var.Value.Shape())
		}
	}
	// All parameters in one call: a few launches on a GPU, not one each.
	var avgs, srcs []*tensor.Tensor
	for i := range a {
		if a[i].Buffer {
			a[i].Var.Value.CopyFrom(s[i].Var.Value)
			continue
		}
		avgs, srcs = append(avgs, a[i].Var.Value), append(srcs, s[i].Var.Value)
	}
	tensor.EMAUpdateAll(avgs, srcs, beta)
	return nil
}
