package nn

import (
	"strings"
	"testing"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

func fir() *tensor.Tensor { return tensor.SetupFilterTaps(1, 3, 3, 1) }

// checkBothOrders is checkGrads as a named subtest.
func checkBothOrders(t *testing.T, name string, f func([]*autograd.Var) *autograd.Var, inputs []*tensor.Tensor) {
	t.Helper()
	t.Run(name, func(t *testing.T) { checkGrads(t, f, inputs) })
}

func TestConv2dResampleGradients(t *testing.T) {
	rng := tensor.NewRNG(5)
	cases := []struct {
		name string
		w    []int
		r    Resample
	}{
		{"k3_up2", []int{3, 2, 3, 3}, Resample{Filter: fir(), Up: 2, Pad: [4]int{1, 1, 1, 1}}},
		{"k3_up2_flipw_groups2", []int{4, 1, 3, 3}, Resample{Filter: fir(), Up: 2, Pad: [4]int{1, 1, 1, 1}, Groups: 2, FlipWeight: true}},
		{"k3_down2", []int{3, 2, 3, 3}, Resample{Filter: fir(), Down: 2, Pad: [4]int{1, 1, 1, 1}, FlipWeight: true}},
		{"k1_down2", []int{3, 2, 1, 1}, Resample{Filter: fir(), Down: 2, FlipWeight: true}},
		{"k1_up2", []int{3, 2, 1, 1}, Resample{Filter: fir(), Up: 2}},
		{"k3_plain_uneven_pad", []int{3, 2, 3, 3}, Resample{Pad: [4]int{2, 0, 1, 1}, FlipWeight: true}},
	}
	for _, c := range cases {
		r := c.r
		inC := c.w[1] * max(r.Groups, 1)
		checkBothOrders(t, c.name, func(v []*autograd.Var) *autograd.Var { return Conv2dResample(v[0], v[1], r) },
			[]*tensor.Tensor{rng.Normal(2, inC, 5, 6), rng.Normal(c.w...)})
	}
}

func TestModulatedConv2dGradientsAndFusedEqualsUnfused(t *testing.T) {
	rng := tensor.NewRNG(6)
	x, w, s := rng.Normal(2, 3, 5, 4), rng.Normal(4, 3, 3, 3), tensor.AddScalar(tensor.MulScalar(rng.Normal(2, 3), 0.3), 1)
	noise := rng.Normal(2, 1, 10, 8)
	for _, up := range []int{1, 2} {
		for _, demod := range []bool{true, false} {
			r := Resample{Filter: fir(), Up: up, Pad: [4]int{1, 1, 1, 1}, FlipWeight: up == 1}
			run := func(fused bool) func(v []*autograd.Var) *autograd.Var {
				return func(v []*autograd.Var) *autograd.Var {
					var nz *autograd.Var
					if up == 2 {
						nz = v[3]
					}
					return ModulatedConv2d(v[0], v[1], v[2], nz, r, demod, fused)
				}
			}
			in := []*tensor.Tensor{x, w, s, noise}
			name := map[bool]string{true: "demod", false: "nodemod"}[demod] + map[int]string{1: "", 2: "_up2"}[up]
			checkBothOrders(t, name+"_unfused", run(false), in)
			checkBothOrders(t, name+"_fused", run(true), in)
			vs := []*autograd.Var{autograd.Const(x), autograd.Const(w), autograd.Const(s), autograd.Const(noise)}
			a, b := run(false)(vs).Value.ToSlice(), run(true)(vs).Value.ToSlice()
			for i := range a {
				if d := a[i] - b[i]; d > 1e-4 || d < -1e-4 {
					t.Fatalf("%s: fused and unfused differ at %d: %v vs %v", name, i, a[i], b[i])
				}
			}
		}
	}
}

func TestStyleGANLayersGradientsAndNames(t *testing.T) {
	rng := tensor.NewRNG(7)
	fc := NewFullyConnected(5, 4, true, "lrelu", 0.01, 0.5, rng)
	checkBothOrders(t, "fully_connected", func(v []*autograd.Var) *autograd.Var {
		fc.Weight, fc.Bias = v[1], v[2]
		return fc.Forward(v[0])
	}, []*tensor.Tensor{rng.Normal(3, 5), fc.Weight.Value, tensor.AddScalar(fc.Bias.Value, 0.3)})

	layer := NewSynthesisLayer(3, 4, 6, 8, 3, 2, true, fir(), 256, true, rng)
	layer.NoiseStrength.Value.CopyFrom(tensor.Scalar(0.2))
	checkBothOrders(t, "synthesis_layer_up2", func(v []*autograd.Var) *autograd.Var {
		return layer.Forward(v[0], v[1], NoiseConst, false, 1, nil)
	}, []*tensor.Tensor{rng.Normal(2, 3, 4, 4), rng.Normal(2, 6)})

	rgb := NewToRGB(3, 3, 6, 1, 256, true, rng)
	checkBothOrders(t, "torgb", func(v []*autograd.Var) *autograd.Var { return rgb.Forward(v[0], v[1], false) },
		[]*tensor.Tensor{rng.Normal(2, 3, 4, 4), rng.Normal(2, 6)})

	conv := NewConv2dLayer(3, 4, 3, true, "lrelu", 1, 2, fir(), 256, rng)
	checkBothOrders(t, "conv2d_layer_down2", func(v []*autograd.Var) *autograd.Var { return conv.Forward(v[0], 0.7) },
		[]*tensor.Tensor{rng.Normal(2, 3, 6, 6)})

	mbstd := &MinibatchStd{GroupSize: 2, NumChannels: 1}
	checkBothOrders(t, "minibatch_std", func(v []*autograd.Var) *autograd.Var { return mbstd.Forward(v[0]) },
		[]*tensor.Tensor{tensor.MulScalar(rng.Normal(4, 2, 3, 3), 2)})

	m := NewMappingNetwork(4, 5, 3, 2, 0.01, rng)
	checkBothOrders(t, "mapping_truncated", func(v []*autograd.Var) *autograd.Var {
		return m.Forward(v[0], MappingOptions{Psi: 0.7, Cutoff: 2})
	}, []*tensor.Tensor{rng.Normal(3, 4)})

	var names []string
	for _, p := range AllParams(layer) {
		names = append(names, p.Name)
	}
	want := "affine.weight affine.bias weight noise_strength bias resample_filter noise_const"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("synthesis layer state-dict names %q, want %q", got, want)
	}
}

func TestMappingTracksWAvg(t *testing.T) {
	rng := tensor.NewRNG(8)
	m := NewMappingNetwork(4, 5, 3, 2, 0.01, rng)
	z := autograd.Const(rng.Normal(6, 4))
	m.Forward(z, MappingOptions{UpdateWAvg: true})
	var w *autograd.Var
	autograd.NoGrad(func() { w = m.Forward(z, MappingOptions{}) })
	mean := tensor.Mean(w.Value.Select(1, 0), []int{0}, false).ToSlice()
	got := m.WAvg.Value.ToSlice()
	for i := range got {
		if want := 0.005 * mean[i]; abs32(got[i]-want) > 1e-6 {
			t.Fatalf("w_avg[%d] = %v, want (1-β)·mean = %v", i, got[i], want)
		}
	}
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

func TestStyleGANOpsRejectImpossibleArguments(t *testing.T) {
	rng := tensor.NewRNG(9)
	c := autograd.Const
	x := c(rng.Normal(1, 3, 4, 4))
	w3 := c(rng.Normal(2, 3, 3, 3))
	s := c(rng.Normal(1, 3))
	expectPanic(t, "channels differ", func() {
		ModulatedConv2d(x, c(rng.Normal(2, 4, 3, 3)), s, nil, Resample{}, true, false)
	})
	expectPanic(t, "styles", func() { ModulatedConv2d(x, w3, c(rng.Normal(3)), nil, Resample{}, true, false) })
	expectPanic(t, "noise [1 1 5 5]", func() {
		ModulatedConv2d(x, w3, s, c(rng.Normal(1, 1, 5, 5)), Resample{Pad: [4]int{1, 1, 1, 1}}, true, false)
	})
	expectPanic(t, "Resample.Groups = 3", func() { ModulatedConv2d(x, w3, s, nil, Resample{Groups: 3}, true, true) })
	expectPanic(t, "output size 0x0 < 1", func() {
		ModulatedConv2d(c(rng.Normal(1, 3, 2, 2)), w3, s, nil, Resample{}, true, true)
	})
	expectPanic(t, "weight w must be", func() { Conv2dResample(x, c(rng.Normal(2, 3, 3)), Resample{}) })
	expectPanic(t, "2 groups", func() { Conv2dResample(x, w3, Resample{Groups: 2}) })
	expectPanic(t, "not divisible by Groups 2", func() {
		Conv2dResample(c(rng.Normal(1, 4, 4, 4)), c(rng.Normal(3, 2, 3, 3)), Resample{Groups: 2, Up: 2, Filter: fir()})
	})
	expectPanic(t, "Resample.Up = -1", func() { Conv2dResample(x, w3, Resample{Up: -1}) })
	expectPanic(t, "Resample.Down = -2", func() { Conv2dResample(x, w3, Resample{Down: -2}) })
	expectPanic(t, "Resample.Groups = -1", func() { Conv2dResample(x, w3, Resample{Groups: -1}) })
	expectPanic(t, "Resample.Filter must be", func() { Conv2dResample(x, w3, Resample{Filter: tensor.Ones(1, 1, 1), Up: 2}) })
	// A kernel larger than the padded input, and a filter that leaves
	// nothing to convolve: no output pixel.
	expectPanic(t, "output size -1x-1 < 1", func() { Conv2dResample(c(rng.Normal(1, 3, 1, 1)), w3, Resample{}) })
	expectPanic(t, "output size 0x0 < 1", func() {
		Conv2dResample(c(rng.Normal(1, 3, 1, 1)), w3, Resample{Filter: fir(), Down: 2, Pad: [4]int{1, 1, 1, 1}})
	})
	expectPanic(t, "z must be", func() { NewMappingNetwork(4, 5, 3, 2, 0.01, rng).Forward(x, MappingOptions{}) })
}
