package lafite

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/safetensors"
	"github.com/lafite-go/lafite/tensor"
)

func keptFloats(m nn.Module) int64 {
	var n int64
	for _, p := range nn.AllParams(m) {
		n += int64(p.Var.Value.Numel())
	}
	return n
}

// The size counts the loaders check files against are the models' own, for
// both text-style structures, a 4x4 generator, odd sizes and the
// reference's widths.
func TestModelFloatsAreTheModels(t *testing.T) {
	g := func(mod func(*GeneratorConfig)) GeneratorConfig {
		c := DefaultGeneratorConfig(16, 12)
		c.ZDim, c.WDim, c.ChannelBase, c.ChannelMax, c.MappingLayers = 10, 6, 96, 24, 3
		mod(&c)
		return c
	}
	gens := map[string]GeneratorConfig{
		"structure 2":       g(func(*GeneratorConfig) {}),
		"structure 1 above": g(func(c *GeneratorConfig) { c.Change = 4 }),
		"4x4":               g(func(c *GeneratorConfig) { c.Resolution = 4 }),
		"one mapping layer": g(func(c *GeneratorConfig) { c.MappingLayers, c.Channels = 1, 1 }),
		"reference 8":       DefaultGeneratorConfig(8, 512),
	}
	for name, c := range gens {
		m, err := NewGenerator(c, tensor.NewRNG(1))
		if err != nil {
			t.Fatal(name, err)
		}
		if got, want := c.floats(), keptFloats(m); got != want {
			t.Errorf("generator %s: floats() = %d, the model keeps %d", name, got, want)
		}
	}
	d := func(mod func(*DiscriminatorConfig)) DiscriminatorConfig {
		c := DefaultDiscriminatorConfig(16, 12)
		c.ChannelBase, c.ChannelMax = 96, 24
		mod(&c)
		return c
	}
	discs := map[string]DiscriminatorConfig{
		"small":       d(func(*DiscriminatorConfig) {}),
		"8x8, 2 stds": d(func(c *DiscriminatorConfig) { c.Resolution, c.MbstdChans, c.Channels = 8, 2, 1 }),
		"reference 8": DefaultDiscriminatorConfig(8, 512),
	}
	for name, c := range discs {
		m, err := NewDiscriminator(c, tensor.NewRNG(1))
		if err != nil {
			t.Fatal(name, err)
		}
		if got, want := c.floats(), keptFloats(m); got != want {
			t.Errorf("discriminator %s: floats() = %d, the model keeps %d", name, got, want)
		}
	}
}

// A file whose metadata configures a model larger than its tensors (here
// a generator of tens of terabytes) is refused before anything is
// allocated, as is a size over the limit; the error says why.
func TestLoadersRefuseConfigsTheFileCannotHold(t *testing.T) {
	cfg, data, clipFeats := tinySetup(t)
	dir := t.TempDir()
	tr, err := NewTrainer(cfg, data, clipFeats)
	if err != nil {
		t.Fatal(err)
	}
	ckpt, gen := filepath.Join(dir, "ckpt"), filepath.Join(dir, "gen")
	if err := tr.Save(ckpt); err != nil {
		t.Fatal(err)
	}
	if err := SaveGenerator(gen, tr.GEma, cfg); err != nil {
		t.Fatal(err)
	}
	// rewrite gives a copy of path's tensors a new configuration.
	copies := 0
	rewrite := func(path string, mod func(*TrainConfig)) string {
		f, err := safetensors.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		c := cfg
		mod(&c)
		js, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		meta := map[string]string{}
		for k, v := range f.Metadata {
			meta[k] = v
		}
		meta["config"] = string(js)
		var ts []*safetensors.Tensor
		for _, x := range f.Tensors {
			ts = append(ts, x)
		}
		copies++
		out := fmt.Sprintf("%s.%d", path, copies)
		if err := safetensors.WriteFile(out, ts, meta); err != nil {
			t.Fatal(err)
		}
		return out
	}
	huge := func(c *TrainConfig) { c.G.ChannelBase, c.G.ChannelMax = 1<<30, 1<<20 }
	hugeD := func(c *TrainConfig) { c.D.ChannelBase, c.D.ChannelMax = 1<<30, 1<<20 }
	over := func(c *TrainConfig) { c.G.WDim = maxConfigSize + 1 }
	loadG := func(p string) error { _, err := LoadGenerator(p); return err }
	loadC := func(p string) error { _, err := LoadCheckpoint(p, data, clipFeats); return err }
	for _, c := range []struct {
		name string
		load func(string) error
		path string
		want string
	}{
		{"generator, huge G", loadG, rewrite(gen, huge), "does not describe"},
		{"generator, size over the limit", loadG, rewrite(gen, over), "over the limit"},
		{"checkpoint, huge G", loadC, rewrite(ckpt, huge), "does not describe"},
		{"checkpoint, huge D", loadC, rewrite(ckpt, hugeD), "does not describe"},
		{"checkpoint, size over the limit", loadC, rewrite(ckpt, over), "over the limit"},
	} {
		err := c.load(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
			t.Errorf("%s: got %v, want an error naming the file and saying %q", c.name, err, c.want)
		}
	}
	// The unchanged configuration still loads.
	if err := loadG(rewrite(gen, func(*TrainConfig) {})); err != nil {
		t.Error(err)
	}
	if err := loadC(rewrite(ckpt, func(*TrainConfig) {})); err != nil {
		t.Error(err)
	}
}
