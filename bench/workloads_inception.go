package bench

import (
	"github.com/lafite-go/lafite/lafite/metrics/inception"
	"github.com/lafite-go/lafite/tensor"
)

// inception_v3_b8: the FID's Inception-v3 (lafite/metrics/inception) at its
// real widths with random weights, 8 images already at 299x299, forward.
// It runs on the host wherever the generator runs, so it is a CPU
// workload only.
func init() {
	Register(Workload{Name: "inception_v3_b8", Setup: inceptionSetup(8), Items: 8, ItemUnit: "images"})
}

func inceptionSetup(batch int) func() (func(), float64, float64) {
	return func() (func(), float64, float64) {
		net, err := inception.FromStateDict(inception.RandomStateDict(tensor.NewRNG(3)))
		if err != nil {
			panic(err)
		}
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
