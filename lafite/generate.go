package lafite

import (
	"fmt"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

// Generate renders one image per row of the conditions fts [N, FDim] (L2-
// normalised CLIP features: text at inference), with latents drawn from
// seed and truncation ψ (1: none). It records no graph and uses the fused
// modulated convolution and the constant noise inputs. It runs where g
// lives (fts is moved there) and returns the images there; the latents are
// drawn on the host, so a seed gives the same images on every device.
func Generate(g *Generator, fts *tensor.Tensor, seed uint64, psi float32) (*tensor.Tensor, error) {
	if fts.Dim() != 2 || fts.Size(1) != g.Config.FDim {
		return nil, fmt.Errorf("generate: conditions must be [N, %d], got %v (is the CLIP model the one the generator was trained with?)", g.Config.FDim, fts.Shape())
	}
	dev := nn.DeviceOf(g)
	fts = fts.To(dev)
	z := tensor.NewRNG(seed).Normal(fts.Size(0), g.Config.ZDim).To(dev)
	var img *autograd.Var
	autograd.NoGrad(func() {
		img, _ = g.Forward(autograd.Const(z), autograd.Const(fts), nn.MappingOptions{Psi: psi},
			SynthesisOptions{Noise: nn.NoiseConst, Fused: true})
	})
	return img.Value, nil
}

// MixConditions blends a text and an image feature (the paper's multi-modal
// conditions): normalise(w·text + (1−w)·image), rows broadcast.
func MixConditions(text, image *tensor.Tensor, w float32) *tensor.Tensor {
	return l2Normalize(tensor.Add(tensor.MulScalar(text, w), tensor.MulScalar(image, 1-w)))
}
