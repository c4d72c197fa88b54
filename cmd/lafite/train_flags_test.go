package main

import (
	"math"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/lafite"
)

// TestTrainFlagDefaultsAreTheReferences: without flags, `lafite train` trains
// with the reference's language-free settings (docs/REFERENCE.md §5-7).
func TestTrainFlagDefaultsAreTheReferences(t *testing.T) {
	o, err := parseTrainFlags([]string{"--data", "d.safetensors"})
	if err != nil {
		t.Fatal(err)
	}
	c := o.cfg
	for _, f := range []struct {
		name      string
		got, want float64
	}{
		{"batch", float64(o.batch), 16}, {"res (the dataset's)", float64(o.res), 0},
		{"glr", float64(c.GLR), 0.0025}, {"dlr", float64(c.DLR), 0.0025},
		{"beta1", float64(c.Beta1), 0}, {"beta2", float64(c.Beta2), 0.99}, {"eps", float64(c.Eps), 1e-8},
		{"gamma", float64(c.Loss.R1Gamma), 10}, {"itd", float64(c.Loss.ITD), 10}, {"itc", float64(c.Loss.ITC), 10},
		{"temp", float64(c.Loss.Temp), 0.5}, {"lam", float64(c.Loss.Lam), 0},
		{"mixing-prob", float64(c.PseudoText.MixingProb), 1}, {"ratio", o.ratio, 1},
		{"perturb-a", float64(c.PseudoText.ImageA), 0.75}, {"caption perturbation", float64(c.PseudoText.CaptionA), 0.1},
		{"pl-weight", float64(c.Loss.PLWeight), 2}, {"style-mixing", float64(c.Loss.StyleMixProb), 0.9},
		{"ema (batch*10/32 kimg)", c.EMAKimg, 16 * 10.0 / 32}, {"ema-rampup", c.EMARampup, 0.05},
		{"R1 interval", float64(c.DRegInterval), 16}, {"path-length interval", float64(c.GRegInterval), 4},
		{"seed", float64(c.Seed), 0}, {"trainable-perturb", float64(c.TrainablePerturbation), 0},
		{"z-dim", float64(c.G.ZDim), 512}, {"w-dim", float64(c.G.WDim), 512}, {"map-layers", float64(c.G.MappingLayers), 8},
		{"channel-base", float64(c.G.ChannelBase), 32768}, {"channel-max", float64(c.G.ChannelMax), 512},
		{"mbstd-group", float64(c.D.MbstdGroup), 4},
	} {
		if math.Abs(f.got-f.want) > 1e-6*math.Abs(f.want) { // float32 fields
			t.Errorf("--%s defaults to %v, want %v", f.name, f.got, f.want)
		}
	}
	if !c.Mirror || c.Loss.PlainContrastive {
		t.Errorf("mirror %v, plain contrastive %v; want x-flips and the reference's exp-sharpened form", c.Mirror, c.Loss.PlainContrastive)
	}
}

// TestTrainFlagsReachTheConfig sets every training flag to a non-default
// value and finds each in the configuration.
func TestTrainFlagsReachTheConfig(t *testing.T) {
	o, err := parseTrainFlags(strings.Fields("--data d --batch 8 --res 32 --kimg 3 --glr 0.001 --dlr 0.002 --gamma 1 " +
		"--itd 5 --itc 7 --temp 0.3 --lam 0.25 --plain-contrastive --mixing-prob 0.5 --ratio 0.4 --pl-weight 0 " +
		"--style-mixing 0.1 --ema 20 --ema-rampup 0 --mirror=false --seed 7 --trainable-perturb 0.3 --xi 1 " +
		"--z-dim 64 --w-dim 32 --map-layers 2 --channel-base 1024 --channel-max 64 --mbstd-group 2"))
	if err != nil {
		t.Fatal(err)
	}
	c := o.cfg
	for _, f := range []struct {
		name      string
		got, want float64
	}{
		{"batch", float64(o.batch), 8}, {"res", float64(o.res), 32}, {"kimg", o.kimg, 3},
		{"glr", float64(c.GLR), 0.001}, {"dlr", float64(c.DLR), 0.002}, {"gamma", float64(c.Loss.R1Gamma), 1},
		{"itd", float64(c.Loss.ITD), 5}, {"itc", float64(c.Loss.ITC), 7}, {"temp", float64(c.Loss.Temp), 0.3},
		{"lam", float64(c.Loss.Lam), 0.25}, {"mixing-prob", float64(c.PseudoText.MixingProb), 0.5}, {"ratio", o.ratio, 0.4},
		{"pl-weight", float64(c.Loss.PLWeight), 0}, {"style-mixing", float64(c.Loss.StyleMixProb), 0.1},
		{"ema", c.EMAKimg, 20}, {"ema-rampup", c.EMARampup, 0}, {"seed", float64(c.Seed), 7},
		{"trainable-perturb", float64(c.TrainablePerturbation), 0.3},
		{"xi (a = ξ/(1+ξ))", float64(c.PseudoText.ImageA), float64(lafite.XiToA(1))},
		{"z-dim", float64(c.G.ZDim), 64}, {"w-dim", float64(c.G.WDim), 32}, {"map-layers", float64(c.G.MappingLayers), 2},
		{"channel-base (G)", float64(c.G.ChannelBase), 1024}, {"channel-base (D)", float64(c.D.ChannelBase), 1024},
		{"channel-max (D)", float64(c.D.ChannelMax), 64}, {"mbstd-group", float64(c.D.MbstdGroup), 2},
	} {
		if math.Abs(f.got-f.want) > 1e-6*math.Abs(f.want) {
			t.Errorf("--%s gave %v, want %v", f.name, f.got, f.want)
		}
	}
	if c.Mirror || !c.Loss.PlainContrastive {
		t.Errorf("--mirror=false gave %v, --plain-contrastive gave %v", c.Mirror, c.Loss.PlainContrastive)
	}
	for _, bad := range [][]string{{"--data", "d", "--batch", "0"}, {"--data", "d", "--res", "-8"}, {"--batch", "4"}} {
		if _, err := parseTrainFlags(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
