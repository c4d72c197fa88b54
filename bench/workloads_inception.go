package bench

import (
	"github.com/lafite-go/lafite/lafite/metrics/inception"
	"github.com/lafite-go/lafite/tensor"
)

// inception_v3_b8: the FID's Inception-v3 (lafite/metrics/inception) at its
// real widths with random weights, 8 images already at 299x299, forward
// from host images to host features, as an evaluation runs it. Shrunk
// (the GPU tests on the emulator), it is the 1/16-width network on one
// image: the input size is the network's own.
func init() {
	f := inceptionSetup(8)
	Register(Workload{Name: "inception_v3_b8", Setup: onCPU(f), GPU: onGPU(f), Items: 8, ItemUnit: "images"})
}

func inceptionSetup(batch int) setupFunc {
	return func(e env) (func(), float64, float64) {
		div := 1
		if e.shrink > 1 {
			div, batch = 16, 1
		}
		net, err := inception.FromStateDict(inception.RandomStateDict(tensor.NewRNG(3), div))
		if err != nil {
			panic(err)
		}
		net.To(e.dev)
		x := tensor.NewRNG(4).Uniform(0, 1, batch, 3, inception.Size, inception.Size)
		f, logits, err := net.Run(x)
		if err != nil {
			panic(err)
		}
		mustShape("Inception features", f.Shape(), batch, net.Features)
		mustShape("Inception logits", logits.Shape(), batch, net.Classes)
		return func() {
			f, logits, _ := net.Run(x)
			f.Release()
			logits.Release()
		}, float64(batch) * net.FLOPs, 0
	}
}
