package main

import (
	"fmt"
	"image"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/clip"
	"github.com/lafite-go/lafite/lafite"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

// clipBackend is a frozen CLIP model and its tokenizer, adapted to what the
// Lafite commands need: precomputed features and the differentiable image
// path of the generator's contrastive loss.
type clipBackend struct {
	model *clip.Model
	tok   clip.Tokenizer
}

func openCLIP(modelPath, vocabPath string) (*clipBackend, error) {
	if modelPath == "" {
		return nil, fmt.Errorf("--clip is required (a CLIP checkpoint: OpenAI .pt, or .safetensors)")
	}
	m, tok, err := clip.LoadBundle(modelPath, vocabPath)
	if err != nil {
		return nil, err
	}
	b := &clipBackend{model: m, tok: tok}
	for _, p := range nn.Trainable(b.model) { // frozen: gradients flow through, never into
		p.SetRequiresGrad(false)
	}
	return b, nil
}

func (b *clipBackend) featureDim() int { return b.model.Config.EmbedDim }

// EncodeImages implements lafite.FeatureEncoder.
func (b *clipBackend) EncodeImages(imgs []*image.RGBA) (*tensor.Tensor, error) {
	res := b.model.Config.ImageResolution
	batch := make([]*tensor.Tensor, len(imgs))
	for i, im := range imgs {
		batch[i] = clip.Preprocess(clip.ImageTensor(im), res)
	}
	var f *autograd.Var
	autograd.NoGrad(func() { f = clip.Normalize(b.model.EncodeImage(autograd.Const(tensor.Stack(batch, 0)))) })
	return f.Value, nil
}

// EncodeTexts implements lafite.FeatureEncoder.
func (b *clipBackend) EncodeTexts(texts []string) (*tensor.Tensor, error) {
	if b.tok == nil {
		return nil, fmt.Errorf("no tokenizer: pass --vocab (bpe_simple_vocab_16e6.txt.gz for OpenAI models)")
	}
	ids, err := b.tok.Tokenize(texts, b.model.Config.ContextLength)
	if err != nil {
		return nil, err
	}
	var f *autograd.Var
	autograd.NoGrad(func() {
		var e *autograd.Var
		e, err = b.model.EncodeText(ids)
		if err == nil {
			f = clip.Normalize(e)
		}
	})
	if err != nil {
		return nil, err
	}
	return f.Value, nil
}

// imageFeatures is the generator-side path: Lafite's random crop and resize,
// then the frozen image tower, differentiable w.r.t. the image.
func (b *clipBackend) imageFeatures() lafite.CLIPImageFeatures {
	res := b.model.Config.ImageResolution
	return func(img *autograd.Var, rng *tensor.RNG) *autograd.Var {
		return clip.Normalize(b.model.EncodeImage(clip.TrainTransform(img, res, rng)))
	}
}
