package clip

import (
	"testing"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

// BenchmarkCLIPViTB32B8 encodes a batch of 8 images with a ViT-B/32-shaped
// image tower (random weights), inference only: the workload the bench
// registry calls clip_vitb32_b8.
func BenchmarkCLIPViTB32B8(b *testing.B) {
	c := ViTB32
	rng := tensor.NewRNG(1)
	v := NewVisionTransformer(c.ImageResolution, c.VisionPatch, c.VisionWidth, c.VisionLayers, c.VisionHeads, c.EmbedDim, rng)
	img := autograd.Const(rng.Normal(8, 3, c.ImageResolution, c.ImageResolution))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		autograd.NoGrad(func() {
			if f := v.Forward(img); f.Size(0) != 8 || f.Size(1) != c.EmbedDim {
				b.Fatalf("features of shape %v", f.Shape())
			}
		})
	}
}
