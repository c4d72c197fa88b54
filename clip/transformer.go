package clip

import (
	"fmt"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

// ResidualBlock is CLIP's pre-LN transformer block:
// x + attn(ln_1(x)), then x + c_proj(QuickGELU(c_fc(ln_2(x)))).
type ResidualBlock struct {
	Attn     *nn.MultiheadAttention
	LN1, LN2 *nn.LayerNorm
	FC, Proj *nn.Linear
}

// newResidualBlock initialises as PyTorch's defaults (nn.MultiheadAttention,
// nn.Linear); a nil rng gives zeros, the cheap start for loading weights.
func newResidualBlock(width, heads int, rng *tensor.RNG) *ResidualBlock {
	if rng == nil {
		return &ResidualBlock{
			Attn: &nn.MultiheadAttention{EmbedDim: width, NumHeads: heads,
				InProjWeight: zeros(3*width, width), InProjBias: zeros(3 * width),
				OutProj: &nn.Linear{Weight: zeros(width, width), Bias: zeros(width)}},
			LN1:  nn.NewLayerNorm(width),
			LN2:  nn.NewLayerNorm(width),
			FC:   &nn.Linear{Weight: zeros(4*width, width), Bias: zeros(4 * width)},
			Proj: &nn.Linear{Weight: zeros(width, 4*width), Bias: zeros(width)},
		}
	}
	return &ResidualBlock{
		Attn: nn.NewMultiheadAttention(width, heads, true, rng),
		LN1:  nn.NewLayerNorm(width),
		LN2:  nn.NewLayerNorm(width),
		FC:   nn.NewLinear(width, 4*width, true, rng),
		Proj: nn.NewLinear(4*width, width, true, rng),
	}
}

// zeros is a trainable all-zero parameter.
func zeros(shape ...int) *autograd.Var { return nn.NewParam(tensor.Zeros(shape...)) }

// normal is a trainable N(0, std²) parameter, or zeros for a nil rng.
func normal(rng *tensor.RNG, std float64, shape ...int) *autograd.Var {
	if rng == nil {
		return zeros(shape...)
	}
	return nn.NewParam(tensor.MulScalar(rng.Normal(shape...), float32(std)))
}

// NamedParams uses OpenAI's names: attn.*, ln_1.*, mlp.c_fc.*, mlp.c_proj.*, ln_2.*.
func (b *ResidualBlock) NamedParams(prefix string, out []nn.Named) []nn.Named {
	out = b.Attn.NamedParams(nn.Join(prefix, "attn"), out)
	out = b.LN1.NamedParams(nn.Join(prefix, "ln_1"), out)
	out = b.FC.NamedParams(nn.Join(prefix, "mlp.c_fc"), out)
	out = b.Proj.NamedParams(nn.Join(prefix, "mlp.c_proj"), out)
	return b.LN2.NamedParams(nn.Join(prefix, "ln_2"), out)
}

// Forward applies the block to x [L, N, width]. Under autograd.NoGrad the
// intermediates go back to the buffer pool as soon as they are used.
func (b *ResidualBlock) Forward(x *autograd.Var, mask *tensor.Tensor) *autograd.Var {
	h := b.LN1.Forward(x)
	a := b.Attn.Forward(h, mask)
	autograd.FreeNoGrad(h)
	x1 := autograd.Add(x, a)
	autograd.FreeNoGrad(a)
	h = b.LN2.Forward(x1)
	f := b.FC.Forward(h)
	autograd.FreeNoGrad(h)
	g := autograd.QuickGelu(f)
	autograd.FreeNoGrad(f)
	p := b.Proj.Forward(g)
	autograd.FreeNoGrad(g)
	y := autograd.Add(x1, p)
	autograd.FreeNoGrad(x1, p)
	return y
}

// Transformer is a stack of residual blocks ("resblocks.<i>").
type Transformer struct {
	Width, Heads int
	Blocks       []*ResidualBlock
}

func newTransformer(width, layers, heads int, rng *tensor.RNG) *Transformer {
	if heads < 1 || width%heads != 0 {
		panic(fmt.Sprintf("clip: width %d is not divisible into %d heads", width, heads))
	}
	t := &Transformer{Width: width, Heads: heads}
	for i := 0; i < layers; i++ {
		t.Blocks = append(t.Blocks, newResidualBlock(width, heads, rng))
	}
	return t
}

// NamedParams lists resblocks.<i>.*.
func (t *Transformer) NamedParams(prefix string, out []nn.Named) []nn.Named {
	for i, b := range t.Blocks {
		out = b.NamedParams(nn.Join(prefix, fmt.Sprintf("resblocks.%d", i)), out)
	}
	return out
}

// Forward applies every block to x [L, N, width]; under autograd.NoGrad
// each block's input but the first (the caller's) is freed once used.
func (t *Transformer) Forward(x *autograd.Var, mask *tensor.Tensor) *autograd.Var {
	for i, b := range t.Blocks {
		y := b.Forward(x, mask)
		if i > 0 {
			autograd.FreeNoGrad(x)
		}
		x = y
	}
	return x
}
