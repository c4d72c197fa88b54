package lafite

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
	"github.com/lafite-go/lafite/torchfile"
)

// stateOf is g's state dict as torchfile would hand back a reference file's.
func stateOf(g *Generator, prefix string) map[string]*torchfile.Tensor {
	ts := map[string]*torchfile.Tensor{}
	for _, p := range nn.AllParams(g) {
		v := p.Var.Value
		ts[prefix+p.Name] = &torchfile.Tensor{Name: prefix + p.Name, Shape: v.Shape(), Data: append([]float32(nil), v.Data()...), DType: "float32"}
	}
	return ts
}

// TestGeneratorFromTensors rebuilds generators from their own state dicts,
// with and without the G_ema. prefix, structure 2 throughout or structure 1
// above a Change resolution: the configuration read off the tensors must
// be the one they were made with, and the images the same.
func TestGeneratorFromTensors(t *testing.T) {
	configs := []GeneratorConfig{
		{ZDim: 8, WDim: 16, FDim: 12, Resolution: 16, Channels: 3, ChannelBase: 256, ChannelMax: 32, MappingLayers: 2, ConvClamp: 256},
		{ZDim: 16, WDim: 16, FDim: 8, Resolution: 8, Channels: 1, ChannelBase: 1 << 10, ChannelMax: 16, MappingLayers: 3, ConvClamp: 256},
		{ZDim: 8, WDim: 8, FDim: 12, Resolution: 16, Channels: 3, ChannelBase: 128, ChannelMax: 16, MappingLayers: 1, ConvClamp: 256, Change: 8},
	}
	for i, c := range configs {
		g, err := NewGenerator(c, tensor.NewRNG(uint64(i+1)))
		if err != nil {
			t.Fatal(err)
		}
		for _, prefix := range []string{"G_ema.", ""} {
			ts := stateOf(g, prefix)
			ts["D.b16.conv0.weight"] = &torchfile.Tensor{Shape: []int{1}, Data: []float32{1}} // another network: ignored
			back, err := GeneratorFromTensors(ts, 256)
			if err != nil {
				t.Fatalf("config %d %q: %v", i, prefix, err)
			}
			want := c
			if want.ChannelMax*want.Resolution <= want.ChannelBase {
				want.ChannelBase = want.ChannelMax * want.Resolution // same channels at every resolution
			}
			if back.Config != want {
				t.Errorf("config %d %q: read %+v, want %+v", i, prefix, back.Config, want)
			}
			rng := tensor.NewRNG(7)
			z, fts := autograd.Const(rng.Normal(2, c.ZDim)), autograd.Const(rng.Normal(2, c.FDim))
			o := SynthesisOptions{Noise: nn.NoiseConst}
			a, _ := g.Forward(z, fts, nn.MappingOptions{}, o)
			b, _ := back.Forward(z, fts, nn.MappingOptions{}, o)
			if !reflect.DeepEqual(a.Value.Data(), b.Value.Data()) {
				t.Errorf("config %d %q: the rebuilt generator draws other images", i, prefix)
			}
		}
	}
}

// TestGeneratorFromTensorsErrors: what does not fit is named.
func TestGeneratorFromTensorsErrors(t *testing.T) {
	c := GeneratorConfig{ZDim: 8, WDim: 16, FDim: 12, Resolution: 8, Channels: 3, ChannelBase: 256, ChannelMax: 32, MappingLayers: 2, ConvClamp: 256}
	g, err := NewGenerator(c, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	damage := map[string]struct {
		edit func(map[string]*torchfile.Tensor)
		want string
	}{
		"no generator": {func(ts map[string]*torchfile.Tensor) { delete(ts, "G_ema.mapping.fc0.weight") }, "no generator here"},
		"missing":      {func(ts map[string]*torchfile.Tensor) { delete(ts, "G_ema.synthesis.b8.conv0.pre_1.bias") }, "missing tensor G_ema.synthesis.b8.conv0.pre_1.bias"},
		"shape": {func(ts map[string]*torchfile.Tensor) {
			ts["G_ema.synthesis.b8.torgb.bias"] = &torchfile.Tensor{Shape: []int{4}, Data: make([]float32, 4)}
		}, "torgb.bias has shape [4], the model wants [3]"},
		"extra": {func(ts map[string]*torchfile.Tensor) {
			ts["G_ema.synthesis.b8.conv1.extra"] = &torchfile.Tensor{Shape: []int{1}, Data: []float32{1}}
		}, "1 tensors this generator has no place for, e.g. G_ema.synthesis.b8.conv1.extra"},
		"channels": {func(ts map[string]*torchfile.Tensor) {
			ts["G_ema.synthesis.b4.conv1.weight"] = &torchfile.Tensor{Shape: []int{8, 32, 3, 3}, Data: make([]float32, 8*32*9)}
		}, "do not follow min(base/r, max)"},
		"integers": {func(ts map[string]*torchfile.Tensor) {
			ts["G_ema.mapping.w_avg"] = &torchfile.Tensor{Shape: []int{16}, Int: make([]int64, 16), DType: "int64"}
		}, "mapping.w_avg is int64, not floating point"},
	}
	for name, d := range damage {
		ts := stateOf(g, "G_ema.")
		d.edit(ts)
		if _, err := GeneratorFromTensors(ts, 256); err == nil || !strings.Contains(err.Error(), d.want) {
			t.Errorf("%s: err = %v, want %q", name, err, d.want)
		}
	}
	// A network pickle whose G_ema is not Lafite's generator.
	_, err = LoadGenerator(filepath.Join("..", "torchfile", "testdata", "persistent_p4.pkl"))
	if err == nil || !strings.Contains(err.Error(), "persistent_p4.pkl") || !strings.Contains(err.Error(), "no synthesis blocks") {
		t.Errorf("a pickle of another network: err = %v", err)
	}
}
