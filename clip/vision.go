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

// NewVisionTransformer initialises a tower as OpenAI's code does: class and
// positional embeddings and proj N(0, 1/width), the patch conv and the
// blocks with PyTorch's defaults. A nil rng gives zero weights (for loading).
func NewVisionTransformer(resolution, patch, width, layers, heads, outputDim int, rng *tensor.RNG) *VisionTransformer {
	if patch < 1 || resolution%patch != 0 {
		panic(fmt.Sprintf("clip.NewVisionTransformer: resolution %d is not a multiple of patch %d", resolution, patch))
	}
	grid := resolution / patch
	scale := 1 / math.Sqrt(float64(width))
	conv := zeros(width, 3, patch, patch)
	if rng != nil { // nn.Conv2d's kaiming-uniform(a=√5): U(±1/√fan_in)
		bound := float32(1 / math.Sqrt(float64(3*patch*patch)))
		conv = nn.NewParam(rng.Uniform(-bound, bound, width, 3, patch, patch))
	}
	return &VisionTransformer{
		Resolution: resolution, Patch: patch, Width: width, OutputDim: outputDim,
		Conv1:               conv,
		ClassEmbedding:      normal(rng, scale, width),
		PositionalEmbedding: normal(rng, scale, grid*grid+1, width),
		LNPre:               nn.NewLayerNorm(width),
		LNPost:              nn.NewLayerNorm(width),
		Transformer:         newTransformer(width, layers, heads, rng),
		Proj:                normal(rng, scale, width, outputDim),
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
