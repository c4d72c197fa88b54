package nn

import (
	"fmt"
	"testing"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/kernels/cpu"
	"github.com/lafite-go/lafite/tensor"
)

// genericConv2dResample is the reference's fallback path of conv2d_resample,
// written out independently: upsample and pad (with the filter only when
// upsampling), a valid convolution, then filter and downsample.
func genericConv2dResample(x, w *autograd.Var, r Resample) *autograd.Var {
	up, down, groups := max(r.Up, 1), max(r.Down, 1), max(r.Groups, 1)
	fw, fh := 1, 1
	f := tensor.Ones(1, 1)
	if r.Filter != nil {
		fw, fh = tensor.FilterSize(r.Filter)
		f = r.Filter
	}
	p := r.Pad
	if up > 1 {
		p[0] += cpu.FloorDiv(fw+up-1, 2)
		p[1] += cpu.FloorDiv(fw-up, 2)
		p[2] += cpu.FloorDiv(fh+up-1, 2)
		p[3] += cpu.FloorDiv(fh-up, 2)
	}
	if down > 1 {
		p[0] += cpu.FloorDiv(fw-down+1, 2)
		p[1] += cpu.FloorDiv(fw-down, 2)
		p[2] += cpu.FloorDiv(fh-down+1, 2)
		p[3] += cpu.FloorDiv(fh-down, 2)
	}
	upFilter := tensor.Ones(1, 1)
	if up > 1 {
		upFilter = f
	}
	x = autograd.Upfirdn2d(x, upFilter, tensor.Upfirdn2dParams{UpX: up, UpY: up, DownX: 1, DownY: 1, Pad: p, FlipFilter: r.FlipFilter, Gain: float32(up * up)})
	if !r.FlipWeight {
		w = autograd.Flip(w, 2, 3)
	}
	x = autograd.Conv2d(x, w, nil, tensor.Conv2dParams{Groups: groups})
	if down > 1 {
		x = autograd.Upfirdn2d(x, f, tensor.Upfirdn2dParams{UpX: 1, UpY: 1, DownX: down, DownY: down, FlipFilter: r.FlipFilter, Gain: 1})
	}
	return x
}

// TestConv2dResampleFastPathsMatchGenericPath runs every fast path (and the
// fallback) on a grid of kernels, factors, groups, paddings (uneven and
// negative), flips and filters — none, separable, 2-D, and a single tap
// smaller than the factor, where the padding needs floor division — against
// the generic path, and checks OutSize against the output.
func TestConv2dResampleFastPathsMatchGenericPath(t *testing.T) {
	rng := tensor.NewRNG(17)
	filters := []struct {
		name string
		f    *tensor.Tensor
	}{
		{"none", nil},
		{"f4", fir()},
		{"f3x3", tensor.SetupFilter(tensor.New([]float32{1, 2, 3, 1, 2, 5, 4, 2, 1}, 3, 3), true, false, 1, nil)},
		{"tap1", tensor.SetupFilterTaps(2)},
	}
	cases := 0
	for _, f := range filters {
		for _, k := range []int{1, 3} {
			for _, up := range []int{0, 2} {
				for _, down := range []int{1, 2} {
					for _, groups := range []int{1, 2} {
						for _, pad := range [][4]int{{0, 0, 0, 0}, {1, 1, 1, 1}, {2, 0, 1, -1}} {
							for _, flips := range [][2]bool{{false, false}, {true, true}, {true, false}} {
								r := Resample{Filter: f.f, Up: up, Down: down, Pad: pad, Groups: groups, FlipWeight: flips[0], FlipFilter: flips[1]}
								name := fmt.Sprintf("%s_k%d_up%d_down%d_g%d_pad%v_flipw%v_flipf%v", f.name, k, up, down, groups, pad, flips[0], flips[1])
								x := autograd.Const(rng.Normal(2, 2*groups, 7, 6))
								w := autograd.Const(rng.Normal(2*groups, 2, k, k))
								got, want := Conv2dResample(x, w, r), genericConv2dResample(x, w, r)
								if !tensor.SameShape(got.Shape(), want.Shape()) {
									t.Fatalf("%s: shape %v, generic path %v", name, got.Shape(), want.Shape())
								}
								if oh, ow := r.OutSize(7, 6, k, k); got.Size(2) != oh || got.Size(3) != ow {
									t.Fatalf("%s: OutSize %dx%d, output %v", name, oh, ow, got.Shape())
								}
								g, wv := got.Value.ToSlice(), want.Value.ToSlice()
								for i := range g {
									if d := g[i] - wv[i]; d > 1e-4 || d < -1e-4 {
										t.Fatalf("%s: element %d = %v, generic path %v", name, i, g[i], wv[i])
									}
								}
								cases++
							}
						}
					}
				}
			}
		}
	}
	if cases != 4*2*2*2*2*3*3 {
		t.Fatalf("compared %d cases", cases)
	}
}
