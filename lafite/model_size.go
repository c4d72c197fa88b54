package lafite

import (
	"fmt"

	"github.com/lafite-go/lafite/safetensors"
)

// A loader builds the model that a file's metadata configures before it
// reads the file's tensors, so a damaged or hostile configuration could
// ask for terabytes and end the process out of memory. The counts below
// (every float32 NewGenerator and NewDiscriminator keep: parameters and
// buffers; tests hold them equal to the models' own) let a loader refuse,
// without allocating, a configuration whose model the file cannot hold.

// maxConfigSize bounds each size of a configuration, so that the counts
// cannot overflow int64 (and no real model comes near it).
const maxConfigSize = 1 << 20

func fcFloats(in, out int64) int64 { return in*out + out }

// textStylesFloats counts a TextStyles branch of n styles.
func textStylesFloats(fDim, wDim, n int64, structure1 bool) int64 {
	if structure1 {
		mid := (fDim + n) / 2
		return fcFloats(wDim, n) + 2*(fcFloats(fDim, mid)+fcFloats(mid, n))
	}
	mid := (fDim + textHidden) / 2
	return fcFloats(fDim, mid) + fcFloats(mid, textHidden) + fcFloats(textHidden+wDim, n)
}

// floats is the number of float32 values NewGenerator(c) keeps; c must
// pass validate.
func (c GeneratorConfig) floats() int64 {
	z, w, f := int64(c.ZDim), int64(c.WDim), int64(c.FDim)
	n := fcFloats(z, w) + int64(c.MappingLayers-1)*fcFloats(w, w) + w // w_avg
	change := c.Change
	if change == 0 {
		change = 256
	}
	const filter = 16 // a 4x4 resampling filter
	for res := 4; res <= c.Resolution; res *= 2 {
		out, plane, s1 := int64(c.channels(res)), int64(res*res), res > change
		layer := func(in int64) int64 { // a 3x3 synthesis layer with noise
			return out*in*9 + out + filter + plane + 1 + textStylesFloats(f, w, in, s1)
		}
		n += filter
		if res == 4 {
			n += out * 16 // the constant input
		} else {
			n += layer(int64(c.channels(res / 2)))
		}
		n += layer(out)
		n += int64(c.Channels)*out + int64(c.Channels) + textStylesFloats(f, w, out, s1) // ToRGB
	}
	return n
}

// floats is the number of float32 values NewDiscriminator(c) keeps; c
// must pass validate.
func (c DiscriminatorConfig) floats() int64 {
	const filter = 16
	conv := func(in, out, k int64, bias bool) int64 {
		n := out*in*k*k + filter
		if bias {
			n += out
		}
		return n
	}
	var n int64
	for res := c.Resolution; res > 4; res /= 2 {
		tmp, out := int64(c.channels(res)), int64(c.channels(res/2))
		n += filter
		if res == c.Resolution {
			n += conv(int64(c.Channels), tmp, 1, true)
		}
		n += conv(tmp, tmp, 3, true) + conv(tmp, out, 3, true) + conv(tmp, out, 1, false)
	}
	c4 := int64(c.channels(4))
	return n + conv(c4+int64(c.MbstdChans), c4, 3, true) + fcFloats(c4*16, c4) + fcFloats(c4, 1) + fcFloats(c4, int64(c.FDim))
}

// checkFile validates c and checks that f's tensors under prefix can hold
// the generator it configures.
func (c GeneratorConfig) checkFile(f *safetensors.File, prefix string) error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("generator config: %v", err)
	}
	return checkFits(f, prefix, "generator", c.floats())
}

// checkFile validates c and checks that f's tensors under prefix can hold
// the discriminator it configures.
func (c DiscriminatorConfig) checkFile(f *safetensors.File, prefix string) error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("discriminator config: %v", err)
	}
	return checkFits(f, prefix, "discriminator", c.floats())
}

// checkFits fails when a model of need values cannot be among f's tensors
// under prefix: the configuration does not describe this file.
func checkFits(f *safetensors.File, prefix, model string, need int64) error {
	if have := f.Elements(prefix); need > have {
		return fmt.Errorf("the configuration's %s has %d values, but the file holds only %d under %q: the metadata does not describe these tensors", model, need, have, prefix)
	}
	return nil
}
