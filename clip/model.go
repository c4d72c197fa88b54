package clip

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

// Config fixes a CLIP model's shapes (OpenAI's build_model arguments).
type Config struct {
	EmbedDim                                   int
	ImageResolution, VisionLayers, VisionWidth int
	VisionPatch, VisionHeads                   int
	ContextLength, VocabSize                   int
	TextWidth, TextHeads, TextLayers           int
}

// ViTB32 is the released ViT-B/32 configuration.
var ViTB32 = Config{EmbedDim: 512, ImageResolution: 224, VisionLayers: 12, VisionWidth: 768, VisionPatch: 32, VisionHeads: 12,
	ContextLength: 77, VocabSize: 49408, TextWidth: 512, TextHeads: 8, TextLayers: 12}

// Model is OpenAI's CLIP: a ViT image tower and a causal text transformer
// projected into one embedding space.
type Model struct {
	Config              Config
	Visual              *VisionTransformer
	Transformer         *Transformer
	TokenEmbedding      *autograd.Var // [vocab, width]
	PositionalEmbedding *autograd.Var // [context, width]
	LNFinal             *nn.LayerNorm
	TextProjection      *autograd.Var // [width, embed]
	LogitScale          *autograd.Var // scalar, stored as a log
	mask                *tensor.Tensor
}

// New initialises a model with OpenAI's initialisation scheme.
func New(c Config, rng *tensor.RNG) *Model {
	if err := c.validate(); err != nil {
		panic("clip.New: " + err.Error())
	}
	m := &Model{
		Config:              c,
		Visual:              NewVisionTransformer(c.ImageResolution, c.VisionPatch, c.VisionWidth, c.VisionLayers, c.VisionHeads, c.EmbedDim, rng),
		Transformer:         newTransformer(c.TextWidth, c.TextLayers, c.TextHeads, rng),
		TokenEmbedding:      nn.NewParam(tensor.MulScalar(rng.Normal(c.VocabSize, c.TextWidth), 0.02)),
		PositionalEmbedding: nn.NewParam(tensor.MulScalar(rng.Normal(c.ContextLength, c.TextWidth), 0.01)),
		LNFinal:             nn.NewLayerNorm(c.TextWidth),
		TextProjection:      nn.NewParam(tensor.MulScalar(rng.Normal(c.TextWidth, c.EmbedDim), float32(1/math.Sqrt(float64(c.TextWidth))))),
		LogitScale:          nn.NewParam(tensor.Scalar(float32(math.Log(1 / 0.07)))),
	}
	m.mask = nn.CausalMask(c.ContextLength)
	return m
}

func (c Config) validate() error {
	switch {
	case c.EmbedDim < 1 || c.VisionWidth < 1 || c.TextWidth < 1 || c.ContextLength < 1 || c.VocabSize < 1:
		return fmt.Errorf("non-positive size in %+v", c)
	case c.VisionHeads < 1 || c.VisionWidth%c.VisionHeads != 0:
		return fmt.Errorf("vision width %d does not split into %d heads", c.VisionWidth, c.VisionHeads)
	case c.TextHeads < 1 || c.TextWidth%c.TextHeads != 0:
		return fmt.Errorf("text width %d does not split into %d heads", c.TextWidth, c.TextHeads)
	case c.VisionPatch < 1 || c.ImageResolution%c.VisionPatch != 0:
		return fmt.Errorf("resolution %d is not a multiple of patch %d", c.ImageResolution, c.VisionPatch)
	}
	return nil
}

// NamedParams uses OpenAI's state_dict names.
func (m *Model) NamedParams(prefix string, out []nn.Named) []nn.Named {
	out = append(out,
		nn.Named{Name: nn.Join(prefix, "positional_embedding"), Var: m.PositionalEmbedding},
		nn.Named{Name: nn.Join(prefix, "text_projection"), Var: m.TextProjection},
		nn.Named{Name: nn.Join(prefix, "logit_scale"), Var: m.LogitScale})
	out = m.Visual.NamedParams(nn.Join(prefix, "visual"), out)
	out = m.Transformer.NamedParams(nn.Join(prefix, "transformer"), out)
	out = append(out, nn.Named{Name: nn.Join(prefix, "token_embedding.weight"), Var: m.TokenEmbedding})
	return m.LNFinal.NamedParams(nn.Join(prefix, "ln_final"), out)
}

// EncodeImage maps normalised images [N,3,res,res] to features [N, embed]
// (not L2-normalised). Differentiable w.r.t. the image.
func (m *Model) EncodeImage(img *autograd.Var) *autograd.Var { return m.Visual.Forward(img) }

// EncodeText maps token rows (each of ContextLength ids, EOT = the largest id)
// to features [N, embed] (not L2-normalised).
func (m *Model) EncodeText(tokens [][]int) (*autograd.Var, error) {
	n, L := len(tokens), m.Config.ContextLength
	ids := make([]int, 0, n*L)
	eot := make([]int, n)
	for i, row := range tokens {
		if len(row) != L {
			return nil, fmt.Errorf("clip: token row %d has %d ids, the model's context is %d", i, len(row), L)
		}
		for j, id := range row {
			if id < 0 || id >= m.Config.VocabSize {
				return nil, fmt.Errorf("clip: token row %d holds id %d outside the vocabulary of %d", i, id, m.Config.VocabSize)
			}
			if id > row[eot[i]] {
				eot[i] = j
			}
		}
		ids = append(ids, row...)
	}
	x := autograd.Embedding(m.TokenEmbedding, ids, []int{n, L}) // [N, L, width]
	x = autograd.Add(x, m.PositionalEmbedding)
	x = autograd.Permute(x, 1, 0, 2)
	x = m.Transformer.Forward(x, m.mask)
	x = autograd.Permute(x, 1, 0, 2)
	x = m.LNFinal.Forward(x)
	// Row i's EOT position: flatten and pick index i*L + eot[i].
	flat := autograd.Reshape(x, n*L, m.Config.TextWidth)
	pick := make([]int, n)
	for i := range pick {
		pick[i] = i*L + eot[i]
	}
	return autograd.Matmul(autograd.IndexSelect(flat, 0, pick), m.TextProjection), nil
}

// Normalize divides each row by its L2 norm.
func Normalize(x *autograd.Var) *autograd.Var {
	return autograd.Div(x, autograd.Sqrt(autograd.Sum(autograd.Square(x), []int{1}, true)))
}

// Logits returns exp(logit_scale)·normalise(img)·normalise(txt)ᵀ, the
// logits per image; the logits per text are its transpose.
func (m *Model) Logits(imageFeatures, textFeatures *autograd.Var) *autograd.Var {
	sim := autograd.Matmul(Normalize(imageFeatures), autograd.Transpose(Normalize(textFeatures), 0, 1))
	return autograd.Mul(sim, autograd.Exp(m.LogitScale))
}

// ConfigFromStateDict infers the shapes from tensor shapes as OpenAI's
// build_model does (heads = width/64, at least 1).
func ConfigFromStateDict(sd map[string]*tensor.Tensor) (Config, error) {
	get := func(name string, dims int) ([]int, error) {
		t, ok := sd[name]
		if !ok {
			return nil, fmt.Errorf("missing tensor %s (not a CLIP ViT checkpoint?)", name)
		}
		if t.Dim() != dims {
			return nil, fmt.Errorf("tensor %s has shape %v, expected %d dims", name, t.Shape(), dims)
		}
		return t.Shape(), nil
	}
	var c Config
	conv, err := get("visual.conv1.weight", 4)
	if err != nil {
		return c, err
	}
	pos, err := get("visual.positional_embedding", 2)
	if err != nil {
		return c, err
	}
	tp, err := get("text_projection", 2)
	if err != nil {
		return c, err
	}
	tpos, err := get("positional_embedding", 2)
	if err != nil {
		return c, err
	}
	tok, err := get("token_embedding.weight", 2)
	if err != nil {
		return c, err
	}
	lnf, err := get("ln_final.weight", 1)
	if err != nil {
		return c, err
	}
	grid := int(math.Round(math.Sqrt(float64(pos[0] - 1))))
	if grid*grid+1 != pos[0] {
		return c, fmt.Errorf("visual.positional_embedding has %d rows, not a square grid plus one", pos[0])
	}
	c = Config{EmbedDim: tp[1], VisionWidth: conv[0], VisionPatch: conv[3], ImageResolution: conv[3] * grid,
		ContextLength: tpos[0], VocabSize: tok[0], TextWidth: lnf[0]}
	c.VisionHeads, c.TextHeads = max(c.VisionWidth/64, 1), max(c.TextWidth/64, 1)
	c.VisionLayers = countBlocks(sd, "visual.transformer.resblocks.")
	c.TextLayers = countBlocks(sd, "transformer.resblocks.")
	return c, c.validate()
}

func countBlocks(sd map[string]*tensor.Tensor, prefix string) int {
	seen := map[int]bool{}
	for k := range sd {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			if i, err := strconv.Atoi(strings.SplitN(rest, ".", 2)[0]); err == nil {
				seen[i] = true
			}
		}
	}
	return len(seen)
}

// FromStateDict builds a model from OpenAI-named tensors. Extra 0-d metadata
// entries of TorchScript archives (input_resolution, context_length,
// vocab_size) are ignored; anything else missing or unexpected is an error.
func FromStateDict(sd map[string]*tensor.Tensor) (*Model, error) {
	c, err := ConfigFromStateDict(sd)
	if err != nil {
		return nil, err
	}
	m := New(c, tensor.NewRNG(0))
	clean := map[string]*tensor.Tensor{}
	for k, v := range sd {
		switch k {
		case "input_resolution", "context_length", "vocab_size":
			continue
		}
		clean[k] = v
	}
	if err := nn.LoadStateDict(m, clean, true); err != nil {
		return nil, fmt.Errorf("clip: %v", err)
	}
	return m, nil
}
