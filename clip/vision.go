package clip

import (
	"fmt"
	"math"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

// VisionTransformer is CLIP's ViT image tower: patch conv (no bias), class
// token, positional embedding, ln_pre, transformer, ln_post on the class
// token, projection.
type VisionTransformer struct {
	Resolution, Patch, Width, OutputDim int
	Conv1                               *autograd.Var // [width, 3, patch, patch]
	ClassEmbedding                      *autograd.Var // [width]
	PositionalEmbedding                 *autograd.Var // [grid²+1, width]
	LNPre, LNPost                       *nn.LayerNorm
	Transformer                         *Transformer
	Proj                                *autograd.Var // [width, output]
}

// NewVisionTransformer initialises a tower as OpenAI's code does.
func NewVisionTransformer(resolution, patch, width, layers, heads, outputDim int, rng *tensor.RNG) *VisionTransformer {
	if patch < 1 || resolution%patch != 0 {
		panic(fmt.Sprintf("clip: resolution %d is not a multiple of patch %d", resolution, patch))
	}
	grid := resolution / patch
	scale := float32(1 / math.Sqrt(float64(width)))
	return &VisionTransformer{
		Resolution: resolution, Patch: patch, Width: width, OutputDim: outputDim,
		Conv1:               nn.NewParam(tensor.MulScalar(rng.Normal(width, 3, patch, patch), 1/float32(math.Sqrt(float64(3*patch*patch))))),
		ClassEmbedding:      nn.NewParam(tensor.MulScalar(rng.Normal(width), scale)),
		PositionalEmbedding: nn.NewParam(tensor.MulScalar(rng.Normal(grid*grid+1, width), scale)),
		LNPre:               nn.NewLayerNorm(width),
		LNPost:              nn.NewLayerNorm(width),
		Transformer:         newTransformer(width, layers, heads, rng),
		Proj:                nn.NewParam(tensor.MulScalar(rng.Normal(width, outputDim), scale)),
	}
}

// NamedParams uses OpenAI's names (without the "visual." prefix).
func (v *VisionTransformer) NamedParams(prefix string, out []nn.Named) []nn.Named {
	out = append(out,
		nn.Named{Name: nn.Join(prefix, "class_embedding"), Var: v.ClassEmbedding},
		nn.Named{Name: nn.Join(prefix, "positional_embedding"), Var: v.PositionalEmbedding},
		nn.Named{Name: nn.Join(prefix, "proj"), Var: v.Proj},
		nn.Named{Name: nn.Join(prefix, "conv1.weight"), Var: v.Conv1})
	out = v.LNPre.NamedParams(nn.Join(prefix, "ln_pre"), out)
	out = v.Transformer.NamedParams(nn.Join(prefix, "transformer"), out)
	return v.LNPost.NamedParams(nn.Join(prefix, "ln_post"), out)
}

// Forward maps images [N, 3, res, res] (already normalised) to features
// [N, output] (not L2-normalised).
func (v *VisionTransformer) Forward(img *autograd.Var) *autograd.Var {
	s := img.Shape()
	if len(s) != 4 || s[1] != 3 || s[2] != v.Resolution || s[3] != v.Resolution {
		panic(fmt.Sprintf("clip: image batch must be [N, 3, %d, %d], got %v", v.Resolution, v.Resolution, s))
	}
	n := s[0]
	x := autograd.Conv2d(img, v.Conv1, nil, tensor.Conv2dParams{StrideH: v.Patch, StrideW: v.Patch})
	x = autograd.Permute(autograd.Reshape(x, n, v.Width, -1), 0, 2, 1) // [N, grid², width]
	cls := autograd.BroadcastTo(autograd.Reshape(v.ClassEmbedding, 1, 1, v.Width), n, 1, v.Width)
	x = autograd.Concat([]*autograd.Var{cls, x}, 1)
	x = autograd.Add(x, v.PositionalEmbedding)
	x = v.LNPre.Forward(x)
	x = autograd.Permute(x, 1, 0, 2) // [L, N, width]
	x = v.Transformer.Forward(x, nil)
	x = v.LNPost.Forward(autograd.Select(x, 0, 0)) // class token: [N, width]
	return autograd.Matmul(x, v.Proj)
}
