package bench

import (
	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/clip"
	"github.com/lafite-go/lafite/lafite"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

// The model workloads: the CLIP towers for inference and Lafite's generator
// and discriminator for training steps, randomly initialised as their
// constructors do (the time does not depend on the weights' values).

func init() {
	Register(Workload{Name: "clip_vitb32_b8", Setup: clipImageSetup(8), Items: 8, ItemUnit: "images"})
	Register(Workload{Name: "clip_text_b8", Setup: clipTextSetup(8), Items: 8, ItemUnit: "texts"})
	Register(Workload{Name: "lafite_g64_b4_fwdbwd", Setup: lafiteGSetup(64, 4), Items: 4, ItemUnit: "images"})
	Register(Workload{Name: "lafite_d64_b4_fwdbwd", Setup: lafiteDSetup(64, 4), Items: 4, ItemUnit: "images"})
}

// transformerFlops counts the multiply-adds (×2) of a pre-LN transformer of
// the given width over tokens positions: QKV and output projections, the MLP
// (4× width), and the attention scores and their application.
func transformerFlops(layers, tokens, width int) float64 {
	t, d := float64(tokens), float64(width)
	return float64(layers) * (2*t*12*d*d + 4*t*t*d)
}

func clipImageSetup(batch int) func() (func(), float64, float64) {
	return func() (func(), float64, float64) {
		c := clip.ViTB32
		rng := tensor.NewRNG(1)
		v := clip.NewVisionTransformer(c.ImageResolution, c.VisionPatch, c.VisionWidth, c.VisionLayers, c.VisionHeads, c.EmbedDim, rng)
		img := autograd.Const(rng.Normal(batch, 3, c.ImageResolution, c.ImageResolution))
		forward := func() *autograd.Var {
			var y *autograd.Var
			autograd.NoGrad(func() { y = v.Forward(img) })
			return y
		}
		mustShape("CLIP image features", forward().Shape(), batch, c.EmbedDim)
		grid := c.ImageResolution / c.VisionPatch
		patches := float64(grid * grid)
		flops := float64(batch) * (2*patches*float64(3*c.VisionPatch*c.VisionPatch*c.VisionWidth) +
			transformerFlops(c.VisionLayers, grid*grid+1, c.VisionWidth))
		return func() { forward().Value.Release() }, flops, 0
	}
}

func clipTextSetup(batch int) func() (func(), float64, float64) {
	return func() (func(), float64, float64) {
		c := clip.ViTB32
		rng := tensor.NewRNG(2)
		m := clip.New(c, rng)
		// Token rows as the tokenizer makes them: SOT, words, EOT (the
		// largest id, which marks the pooled position), zero padding.
		tokens := make([][]int, batch)
		for i := range tokens {
			row := make([]int, c.ContextLength)
			row[0] = c.VocabSize - 2
			n := 5 + 7*i
			for j := 1; j <= n; j++ {
				row[j] = (i*131 + j*977) % (c.VocabSize - 2)
			}
			row[n+1] = c.VocabSize - 1
			tokens[i] = row
		}
		forward := func() *autograd.Var {
			var y *autograd.Var
			var err error
			autograd.NoGrad(func() { y, err = m.EncodeText(tokens) })
			if err != nil {
				panic("bench: " + err.Error())
			}
			return y
		}
		mustShape("CLIP text features", forward().Shape(), batch, c.EmbedDim)
		flops := float64(batch) * transformerFlops(c.TextLayers, c.ContextLength, c.TextWidth)
		return func() { forward().Value.Release() }, flops, 0
	}
}

// lafiteGSetup times one generator forward (mapping, synthesis with random
// noise, as in training) and the backward of the images' sum to every
// parameter, z and the text features.
func lafiteGSetup(res, batch int) func() (func(), float64, float64) {
	return func() (func(), float64, float64) {
		rng := tensor.NewRNG(3)
		g, err := lafite.NewGenerator(lafite.DefaultGeneratorConfig(res, 512), rng)
		if err != nil {
			panic("bench: " + err.Error())
		}
		z := autograd.Param(rng.Normal(batch, g.Config.ZDim))
		fts := autograd.Param(rng.Normal(batch, g.Config.FDim))
		params := []*autograd.Var{z, fts}
		for _, p := range g.NamedParams("", nil) {
			if !p.Buffer {
				params = append(params, p.Var)
			}
		}
		noise := tensor.NewRNG(4)
		f := func() *autograd.Var {
			img, _ := g.Forward(z, fts, nn.MappingOptions{}, lafite.SynthesisOptions{Noise: nn.NoiseRandom, RNG: noise})
			return img
		}
		var img *autograd.Var
		autograd.NoGrad(func() { img = f() })
		mustShape("generated images", img.Shape(), batch, 3, res, res)
		return fwdbwd(params, f), 0, 0
	}
}

// lafiteDSetup times the discriminator's logits (with the text projection)
// and the backward of their sum to every parameter, the images and the text
// features.
func lafiteDSetup(res, batch int) func() (func(), float64, float64) {
	return func() (func(), float64, float64) {
		rng := tensor.NewRNG(5)
		d, err := lafite.NewDiscriminator(lafite.DefaultDiscriminatorConfig(res, 512), rng)
		if err != nil {
			panic("bench: " + err.Error())
		}
		img := autograd.Param(rng.Normal(batch, 3, res, res))
		fts := autograd.Param(rng.Normal(batch, 512))
		params := []*autograd.Var{img, fts}
		for _, p := range d.NamedParams("", nil) {
			if !p.Buffer {
				params = append(params, p.Var)
			}
		}
		f := func() *autograd.Var {
			logits, _ := d.Logits(img, fts)
			return logits
		}
		var logits *autograd.Var
		autograd.NoGrad(func() { logits = f() })
		mustShape("logits", logits.Shape(), batch, 1)
		return fwdbwd(params, f), 0, 0
	}
}
