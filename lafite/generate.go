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
	if fts.Dim() != 2 {
		return nil, fmt.Errorf("generate: conditions must be [N, %d], got %v", g.Config.FDim, fts.Shape())
	}
	return GenerateFrom(g, tensor.NewRNG(seed).Normal(fts.Size(0), g.Config.ZDim), fts, psi)
}

// GenerateFrom is Generate from given latents z [N, ZDim] (on the host or
// where g lives): rows of z drawn once and rendered in several calls give
// the images of one call, so a large request can be rendered a batch at a
// time.
func GenerateFrom(g *Generator, z, fts *tensor.Tensor, psi float32) (*tensor.Tensor, error) {
	if fts.Dim() != 2 || fts.Size(1) != g.Config.FDim {
		return nil, fmt.Errorf("generate: conditions must be [N, %d], got %v (is the CLIP model the one the generator was trained with?)", g.Config.FDim, fts.Shape())
	}
	if z.Dim() != 2 || z.Size(0) != fts.Size(0) || z.Size(1) != g.Config.ZDim {
		return nil, fmt.Errorf("generate: latents must be [%d, %d], got %v", fts.Size(0), g.Config.ZDim, z.Shape())
	}
	dev := nn.DeviceOf(g)
	fts, z = fts.To(dev), z.To(dev)
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
