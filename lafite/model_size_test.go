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
	// A case counts a configuration and builds its model.
	type sizeCase struct {
		floats int64
		build  func() (nn.Module, error)
	}
	cases := map[string]sizeCase{}
	gen := func(name string, mod func(*GeneratorConfig)) {
		c := DefaultGeneratorConfig(16, 12)
		c.ZDim, c.WDim, c.ChannelBase, c.ChannelMax, c.MappingLayers = 10, 6, 96, 24, 3
		mod(&c)
		cases["generator "+name] = sizeCase{c.floats(), func() (nn.Module, error) { return NewGenerator(c, tensor.NewRNG(1)) }}
	}
	disc := func(name string, mod func(*DiscriminatorConfig)) {
		c := DefaultDiscriminatorConfig(16, 12)
		c.ChannelBase, c.ChannelMax = 96, 24
		mod(&c)
		cases["discriminator "+name] = sizeCase{c.floats(), func() (nn.Module, error) { return NewDiscriminator(c, tensor.NewRNG(1)) }}
	}
	gen("structure 2", func(*GeneratorConfig) {})
	gen("structure 1 above", func(c *GeneratorConfig) { c.Change = 4 })
	gen("4x4", func(c *GeneratorConfig) { c.Resolution = 4 })
	gen("one mapping layer", func(c *GeneratorConfig) { c.MappingLayers, c.Channels = 1, 1 })
	gen("reference 8", func(c *GeneratorConfig) { *c = DefaultGeneratorConfig(8, 512) })
	disc("small", func(*DiscriminatorConfig) {})
	disc("8x8, 2 stds", func(c *DiscriminatorConfig) { c.Resolution, c.MbstdChans, c.Channels = 8, 2, 1 })
	disc("reference 8", func(c *DiscriminatorConfig) { *c = DefaultDiscriminatorConfig(8, 512) })
	for name, c := range cases {
		m, err := c.build()
		if err != nil {
			t.Fatal(name, err)
		}
		if want := keptFloats(m); c.floats != want {
			t.Errorf("%s: floats() = %d, the model keeps %d", name, c.floats, want)
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
