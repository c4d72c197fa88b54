package lafite

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
	"github.com/lafite-go/lafite/torchfile"
)

// ImportGenerator reads a generator saved by the reference code: a network
// pickle (.pkl, whose G_ema it takes) or a PyTorch state dict (.pt, with or
// without the "G_ema." prefix). The configuration is read off the tensors'
// names and shapes (see GeneratorFromTensors); convClamp, which the tensors
// do not record, is the reference's 256.
func ImportGenerator(path string) (*Generator, error) {
	ts, err := torchfile.Load(path)
	if err != nil {
		return nil, err
	}
	g, err := GeneratorFromTensors(ts, 256)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return g, nil
}

// GeneratorFromTensors builds the generator that a reference state dict
// describes, G_ema.* when present (a training pickle holds G, G_ema and D),
// else the unprefixed names:
//   - mapping: fc0..fc<L-1> give ZDim (fc0's inputs), WDim and L;
//   - synthesis.b<r>: the largest r is the resolution, conv1's output
//     channels at each r give ChannelMax and ChannelBase (min(base/r, max)),
//     torgb's outputs the image channels;
//   - the text branches: pre_0's inputs are FDim, and the last resolution
//     with pre_0 ("structure 2") is Change.
//
// Every tensor under mapping. and synthesis. must be one of the model's, of
// the same shape, and every parameter and buffer must be there.
func GeneratorFromTensors(ts map[string]*torchfile.Tensor, convClamp float32) (*Generator, error) {
	prefix := ""
	if _, ok := ts["G_ema.mapping.fc0.weight"]; ok {
		prefix = "G_ema."
	} else if _, ok := ts["mapping.fc0.weight"]; !ok {
		return nil, fmt.Errorf("no generator here: neither G_ema.mapping.fc0.weight nor mapping.fc0.weight (%d tensors, e.g. %s)", len(ts), someNames(ts, 3))
	}
	shape := func(name string) []int {
		if t, ok := ts[prefix+name]; ok {
			return t.Shape
		}
		return nil
	}
	c := GeneratorConfig{ConvClamp: convClamp}
	for shape(fmt.Sprintf("mapping.fc%d.weight", c.MappingLayers)) != nil {
		c.MappingLayers++
	}
	first, last := shape("mapping.fc0.weight"), shape(fmt.Sprintf("mapping.fc%d.weight", c.MappingLayers-1))
	if len(first) != 2 || len(last) != 2 {
		return nil, fmt.Errorf("mapping.fc weights are not matrices (%v, %v)", first, last)
	}
	c.ZDim, c.WDim = first[1], last[0]
	chans := map[int]int{}
	for name := range ts {
		rest, ok := strings.CutPrefix(name, prefix+"synthesis.b")
		if !ok {
			continue
		}
		r, err := strconv.Atoi(rest[:strings.IndexByte(rest+".", '.')])
		if err != nil || r < 4 || r&(r-1) != 0 {
			return nil, fmt.Errorf("%s: not a synthesis block of a power-of-two resolution", name)
		}
		w := shape(fmt.Sprintf("synthesis.b%d.conv1.weight", r))
		if len(w) != 4 {
			return nil, fmt.Errorf("synthesis.b%d.conv1.weight is missing or not a 4-d conv weight (%v)", r, w)
		}
		chans[r] = w[0]
		c.Resolution = max(c.Resolution, r)
	}
	if c.Resolution == 0 {
		return nil, fmt.Errorf("no synthesis blocks (synthesis.b4 ...)")
	}
	if rgb := shape(fmt.Sprintf("synthesis.b%d.torgb.weight", c.Resolution)); len(rgb) == 4 {
		c.Channels = rgb[0]
	}
	for r, ch := range chans {
		c.ChannelMax = max(c.ChannelMax, ch)
		if ch*r > c.ChannelBase {
			c.ChannelBase = ch * r
		}
	}
	for r, ch := range chans {
		if ch < c.ChannelMax {
			c.ChannelBase = ch * r // the channels fall below the cap here, so base/r is exact
		}
	}
	for r := 4; r <= c.Resolution; r *= 2 {
		if got := chans[r]; got != c.channels(r) {
			return nil, fmt.Errorf("synthesis.b%d has %d channels, but the blocks' channels do not follow min(base/r, max) for any base (max %d): %v", r, got, c.ChannelMax, chans)
		}
	}
	for r := 4; r <= c.Resolution; r *= 2 {
		if pre := shape(fmt.Sprintf("synthesis.b%d.conv1.pre_0.weight", r)); len(pre) == 2 {
			c.FDim, c.Change = pre[1], r
		} else if c.FDim == 0 {
			if b := shape(fmt.Sprintf("synthesis.b%d.conv1.bias_0.weight", r)); len(b) == 2 {
				c.FDim = b[1]
			}
		}
	}
	if c.Change == c.Resolution && c.Change <= 256 || c.Change == 256 {
		c.Change = 0 // the default: structure 2 up to 256
	} else if c.Change == 0 {
		c.Change = 2 // structure 1 everywhere: below the first block
	}
	g, err := NewGenerator(c, tensor.NewRNG(0))
	if err != nil {
		return nil, fmt.Errorf("the configuration read off the tensors, %+v: %v", c, err)
	}
	sd := map[string]*tensor.Tensor{}
	used := map[string]bool{}
	for _, p := range nn.AllParams(g) {
		t, ok := ts[prefix+p.Name]
		if !ok {
			return nil, fmt.Errorf("missing tensor %s%s (the model read off the others: %+v)", prefix, p.Name, c)
		}
		if !tensor.SameShape(t.Shape, p.Var.Value.Shape()) {
			return nil, fmt.Errorf("tensor %s%s has shape %v, the model wants %v", prefix, p.Name, t.Shape, p.Var.Value.Shape())
		}
		if len(t.Data) != t.Numel() {
			return nil, fmt.Errorf("tensor %s%s is %s, not floating point", prefix, p.Name, t.DType)
		}
		sd[p.Name] = tensor.New(t.Data, t.Shape...)
		used[prefix+p.Name] = true
	}
	var unknown []string
	for name := range ts {
		if !used[name] && (strings.HasPrefix(name, prefix+"mapping.") || strings.HasPrefix(name, prefix+"synthesis.")) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("%d tensors this generator has no place for, e.g. %s: not Lafite's architecture, or a variant this code does not build", len(unknown), strings.Join(unknown[:min(3, len(unknown))], ", "))
	}
	if err := nn.LoadStateDict(g, sd, true); err != nil {
		return nil, err
	}
	return g, nil
}

// someNames lists up to n of the tensors' names, sorted, for messages.
func someNames(ts map[string]*torchfile.Tensor, n int) string {
	names := make([]string, 0, len(ts))
	for name := range ts {
		names = append(names, name)
	}
	sort.Strings(names)
	return strings.Join(names[:min(n, len(names))], ", ")
}
