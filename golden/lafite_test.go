package golden

import (
	"fmt"
	"path/filepath"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/lafite"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/safetensors"
	"github.com/lafite-go/lafite/tensor"
)

func generatorFromCase(c *Case) (*lafite.Generator, error) {
	sk := func(k string) []string { return []string{"init", "synthesis_kwargs", k} }
	cfg := lafite.GeneratorConfig{
		ZDim: c.Int(512, "init", "z_dim"), WDim: c.Int(512, "init", "w_dim"), FDim: c.Int(512, sk("f_dim")...),
		Resolution: c.Int(0, "init", "img_resolution"), Channels: c.Int(3, "init", "img_channels"),
		ChannelBase: c.Int(32768, sk("channel_base")...), ChannelMax: c.Int(512, sk("channel_max")...),
		MappingLayers: c.Int(8, "init", "mapping_kwargs", "num_layers"), ConvClamp: float32(c.Float(-1, sk("conv_clamp")...)),
		Change: c.Int(256, sk("change")...),
	}
	if c.String("skip", sk("architecture")...) != "skip" {
		return nil, fmt.Errorf("only the skip generator architecture is built")
	}
	return lafite.NewGenerator(cfg, tensor.NewRNG(1))
}

func discriminatorFromCase(c *Case) (*lafite.Discriminator, error) {
	cfg := lafite.DiscriminatorConfig{
		Resolution: c.Int(0, "init", "img_resolution"), Channels: c.Int(3, "init", "img_channels"),
		ChannelBase: c.Int(32768, "init", "channel_base"), ChannelMax: c.Int(512, "init", "channel_max"),
		FDim:       c.Int(512, "init", "epilogue_kwargs", "f_dim"),
		MbstdGroup: c.Int(4, "init", "epilogue_kwargs", "mbstd_group_size"), MbstdChans: 1,
		ConvClamp: float32(c.Float(-1, "init", "conv_clamp")), UseNorm: c.Bool(false, "init", "use_norm"),
	}
	if c.String("resnet", "init", "architecture") != "resnet" {
		return nil, fmt.Errorf("only the resnet discriminator architecture is built")
	}
	return lafite.NewDiscriminator(cfg, tensor.NewRNG(1))
}

func noiseMode(c *Case) nn.NoiseMode {
	switch c.String("random", "forward", "noise_mode") {
	case "const":
		return nn.NoiseConst
	case "none":
		return nn.NoiseNone
	}
	return nn.NoiseRandom
}

func init() {
	register("lafite_generator", func(c *Case) (map[string]*tensor.Tensor, error) {
		g, err := generatorFromCase(c)
		if err != nil {
			return nil, err
		}
		return RunDifferentiable(c, DiffOptions{Module: g}, func(v map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			var styles []*autograd.Var
			img, ws := g.Forward(v["z"], v["fts"], nn.MappingOptions{Psi: float32(c.Float(1, "forward", "truncation_psi"))},
				lafite.SynthesisOptions{Noise: noiseMode(c), Fused: c.Bool(false, "forward", "fused_modconv"), Styles: &styles})
			out := map[string]*autograd.Var{"img": img, "ws": ws}
			for i, s := range styles {
				out[fmt.Sprintf("styles.%d", i)] = s
			}
			return out, nil
		})
	})
	register("lafite_generator_pl", func(c *Case) (map[string]*tensor.Tensor, error) {
		g, err := generatorFromCase(c)
		if err != nil {
			return nil, err
		}
		// The parameters live in the file named by params_from.
		pf, err := safetensors.ReadFile(filepath.Join(filepath.Dir(c.Path), c.File.Metadata["params_from"]))
		if err != nil {
			return nil, err
		}
		sd := map[string]*tensor.Tensor{}
		for _, name := range pf.Order {
			if len(name) > 6 && name[:6] == "param." {
				data, err := pf.Tensors[name].Float32()
				if err != nil {
					return nil, err
				}
				sd[name[6:]] = tensor.New(data, pf.Tensors[name].Shape...)
			}
		}
		if err := nn.LoadStateDict(g, sd, true); err != nil {
			return nil, err
		}
		plMean, err := c.T("in.pl_mean")
		if err != nil {
			return nil, err
		}
		noise, err := c.T("in.pl_noise")
		if err != nil {
			return nil, err
		}
		decay := float32(c.Float(0.01, "pl_decay"))
		return RunDifferentiable(c, DiffOptions{Module: g, Loss: "pl", NonDiff: []string{"pl_noise", "pl_mean"}}, func(v map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			img, ws := g.Forward(v["z"], v["fts"], nn.MappingOptions{Psi: 1}, lafite.SynthesisOptions{Noise: noiseMode(c)})
			pl := lafite.PathLengthPenaltyScaled(img, ws, plMean.Item(), decay, noise)
			return map[string]*autograd.Var{"pl": pl.Penalty, "pl_penalty": pl.PerSample, "pl_lengths": pl.Lengths,
				"pl_mean_new": pl.NewMean, "img": img, "ws": ws}, nil
		})
	})
	register("lafite_discriminator", func(c *Case) (map[string]*tensor.Tensor, error) {
		d, err := discriminatorFromCase(c)
		if err != nil {
			return nil, err
		}
		return RunDifferentiable(c, DiffOptions{Module: d}, func(v map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			logits, dFts := d.Logits(v["img"], v["fts"])
			return map[string]*autograd.Var{"logits": logits, "d_fts": dFts}, nil
		})
	})
	register("lafite_discriminator_r1", func(c *Case) (map[string]*tensor.Tensor, error) {
		d, err := discriminatorFromCase(c)
		if err != nil {
			return nil, err
		}
		return RunDifferentiable(c, DiffOptions{Module: d, Loss: "r1"}, func(v map[string]*autograd.Var) (map[string]*autograd.Var, error) {
			img := v["img"]
			logits, _ := d.Logits(img, v["fts"])
			g := autograd.Grad([]*autograd.Var{autograd.SumAll(logits)}, []*autograd.Var{img}, nil, true)[0]
			perSample := autograd.Sum(autograd.Square(g), []int{1, 2, 3}, false)
			return map[string]*autograd.Var{"r1": autograd.Mean(perSample, nil, false), "r1_penalty": perSample, "logits": logits}, nil
		})
	})
}
