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
// constructors do (the time does not depend on the weights' values). On the
// GPU the weights are moved there after initialisation; the batch-16
// generator, discriminator and whole-training-step workloads are GPU only.

func init() {
	model := func(name string, f setupFunc, items int, unit string, cpu bool) {
		w := Workload{Name: name, GPU: onGPU(f), Items: items, ItemUnit: unit}
		if cpu {
			w.Setup = onCPU(f)
		}
		Register(w)
	}
	model("clip_vitb32_b8", clipImageSetup(8), 8, "images", true)
	model("clip_text_b8", clipTextSetup(8), 8, "texts", true)
	model("lafite_g64_b4_fwdbwd", lafiteGSetup(64, 4), 4, "images", true)
	model("lafite_d64_b4_fwdbwd", lafiteDSetup(64, 4), 4, "images", true)
	model("lafite_g64_b16_fwdbwd", lafiteGSetup(64, 16), 16, "images", false)
	model("lafite_d64_b16_fwdbwd", lafiteDSetup(64, 16), 16, "images", false)
	Register(Workload{Name: "lafite_train_step_64_b16", GPU: onGPU(lafiteTrainStepSetup(64, 16)), Items: 16,
		ItemUnit: "images", Cycle: lafiteRegCycle})
}

// clipConfig is ViT-B/32, or for a shrunk env a tiny CLIP of the same form.
func clipConfig(e env) clip.Config {
	if e.shrink <= 1 {
		return clip.ViTB32
	}
	return clip.Config{EmbedDim: 16, ImageResolution: 32, VisionLayers: 1, VisionWidth: 32, VisionPatch: 16, VisionHeads: 2,
		ContextLength: 77, VocabSize: 1000, TextWidth: 32, TextHeads: 2, TextLayers: 1}
}

// transformerFlops counts the multiply-adds (×2) of a pre-LN transformer of
// the given width over tokens positions: QKV and output projections, the MLP
// (4× width), and the attention scores and their application.
func transformerFlops(layers, tokens, width int) float64 {
	t, d := float64(tokens), float64(width)
	return float64(layers) * (2*t*12*d*d + 4*t*t*d)
}

func clipImageSetup(batch int) setupFunc {
	return func(e env) (func(), float64, float64) {
		c := clipConfig(e)
		rng := tensor.NewRNG(1)
		v := clip.NewVisionTransformer(c.ImageResolution, c.VisionPatch, c.VisionWidth, c.VisionLayers, c.VisionHeads, c.EmbedDim, rng)
		nn.MoveTo(v, e.dev)
		nn.Freeze(v) // an encoder of frozen weights, as Lafite uses it
		img := autograd.Const(e.normal(rng, batch, 3, c.ImageResolution, c.ImageResolution))
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

func clipTextSetup(batch int) setupFunc {
	return func(e env) (func(), float64, float64) {
		c := clipConfig(e)
		rng := tensor.NewRNG(2)
		m := clip.New(c, rng)
		m.To(e.dev)
		nn.Freeze(m)
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
func lafiteGSetup(res, batch int) setupFunc {
	return func(e env) (func(), float64, float64) {
		rng := tensor.NewRNG(3)
		gc, _, batch := lafiteConfigs(e, res, batch)
		g, err := lafite.NewGenerator(gc, rng)
		if err != nil {
			panic("bench: " + err.Error())
		}
		nn.MoveTo(g, e.dev)
		z := autograd.Param(e.normal(rng, batch, g.Config.ZDim))
		fts := autograd.Param(e.normal(rng, batch, g.Config.FDim))
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
		mustShape("generated images", img.Shape(), batch, 3, gc.Resolution, gc.Resolution)
		return fwdbwd(params, f), 0, 0
	}
}

// lafiteDSetup times the discriminator's logits (with the text projection)
// and the backward of their sum to every parameter, the images and the text
// features.
func lafiteDSetup(res, batch int) setupFunc {
	return func(e env) (func(), float64, float64) {
		rng := tensor.NewRNG(5)
		_, dc, batch := lafiteConfigs(e, res, batch)
		d, err := lafite.NewDiscriminator(dc, rng)
		if err != nil {
			panic("bench: " + err.Error())
		}
		nn.MoveTo(d, e.dev)
		img := autograd.Param(e.normal(rng, batch, 3, dc.Resolution, dc.Resolution))
		fts := autograd.Param(e.normal(rng, batch, dc.FDim))
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

// lafiteConfigs are the reference's generator and discriminator at res with
// 512-d CLIP features, and the batch; for a shrunk env, a 16x16 network of
// 16 channels and at most 4 samples (what the GPU conformance suite uses).
func lafiteConfigs(e env, res, batch int) (lafite.GeneratorConfig, lafite.DiscriminatorConfig, int) {
	if e.shrink <= 1 {
		return lafite.DefaultGeneratorConfig(res, 512), lafite.DefaultDiscriminatorConfig(res, 512), batch
	}
	return lafite.GeneratorConfig{ZDim: 16, WDim: 16, FDim: 8, Resolution: 16, Channels: 3, ChannelBase: 256,
			ChannelMax: 16, MappingLayers: 2, ConvClamp: 256},
		lafite.DiscriminatorConfig{Resolution: 16, Channels: 3, ChannelBase: 256, ChannelMax: 16, FDim: 8,
			MbstdGroup: 4, MbstdChans: 1, ConvClamp: 256},
		min(batch, 4)
}

// lafiteRegCycle is the default training configuration's lazy R1 interval
// (path length runs every 4 steps within it).
const lafiteRegCycle = 16

// lafiteTrainStepSetup times whole Lafite training steps at res and batch
// (lafite.Trainer.TrainStep with the default language-free configuration:
// Gmain, Greg's path length every 4 steps, Dmain, Dreg's R1 every 16, the
// EMA update) on the device, without the CLIP image loss (ITC needs a CLIP
// image tower in the step: out of this workload). The data are random
// images with random unit CLIP features; each call is one step, so timed runs
// come in whole 16-step cycles (Workload.Cycle).
func lafiteTrainStepSetup(res, batch int) setupFunc {
	return func(e env) (func(), float64, float64) {
		gc, dc, batch := lafiteConfigs(e, res, batch)
		cfg := lafite.DefaultTrainConfig(gc.Resolution, gc.FDim, batch)
		cfg.G, cfg.D, cfg.Seed = gc, dc, 7
		if cfg.GRegInterval*4 != lafiteRegCycle || cfg.DRegInterval != lafiteRegCycle {
			panic("bench: the default lazy regularization intervals changed; update lafiteRegCycle")
		}
		rng := tensor.NewRNG(8)
		n := 4 * batch
		fts := rng.Normal(n, gc.FDim)
		fts = tensor.Div(fts, tensor.Sqrt(tensor.Sum(tensor.Square(fts), []int{1}, true)))
		data := &lafite.MemoryDataset{Images: tensor.Tanh(rng.Normal(n, 3, gc.Resolution, gc.Resolution)), ImageFts: fts}
		if err := data.Index(); err != nil {
			panic("bench: " + err.Error())
		}
		tr, err := lafite.NewTrainer(cfg, data, nil)
		if err != nil {
			panic("bench: " + err.Error())
		}
		tr.To(e.dev)
		return func() {
			if _, err := tr.TrainStep(); err != nil {
				panic("bench: " + err.Error())
			}
		}, 0, 0
	}
}
