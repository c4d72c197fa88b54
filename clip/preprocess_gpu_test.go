package clip

import (
	"math"
	"testing"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/kernels/cuda/emu"
	"github.com/lafite-go/lafite/tensor"
)

// TestTrainTransformOnEmulatedGPU: the generator-side transforms on GPU
// images (crop and bicubic resize, white pad, whole-image resize) equal the
// host's, value and gradient, stay on the GPU, and neither fall back to the
// host nor upload anything (their constants are filled on the device).
func TestTrainTransformOnEmulatedGPU(t *testing.T) {
	e := emu.New()
	defer tensor.UseCUDABackend(e, e.Props())()
	run := func(x *tensor.Tensor, f func(*autograd.Var) *autograd.Var) (*tensor.Tensor, *tensor.Tensor) {
		v := autograd.Param(x)
		y := f(v)
		cot := tensor.NewRNG(9).Normal(y.Shape()...).To(x.Device())
		g := autograd.Grad([]*autograd.Var{y}, []*autograd.Var{v}, []*autograd.Var{autograd.Const(cot)}, false)
		return y.Value, g[0].Value
	}
	for _, c := range []struct {
		name      string
		size, res int
		whole     bool
	}{{"crop up", 12, 10, false}, {"crop down", 16, 5, false}, {"pad", 5, 8, false}, {"whole", 9, 6, true}} {
		x := tensor.NewRNG(3).Uniform(-1, 1, 2, 3, c.size, c.size)
		f := func(v *autograd.Var) *autograd.Var { // the same draws on both devices
			if c.whole {
				return WholeImageTransform(v, c.res)
			}
			return TrainTransform(v, c.res, tensor.NewRNG(4))
		}
		wantY, wantG := run(x, f)
		f0, c0 := tensor.CUDAFallbackTotal(), tensor.CUDATransfers()
		xg := x.To(tensor.CUDA)
		gotY, gotG := run(xg, f)
		if n := tensor.CUDAFallbackTotal() - f0; n != 0 {
			t.Errorf("%s: %d host fallbacks: %v", c.name, n, tensor.CUDAFallbacks())
		}
		// Uploads: x and the cotangent.
		if up := tensor.CUDATransfers().Sub(c0).HtoD; up != 2 {
			t.Errorf("%s: %d uploads, want 2 (the image and the cotangent)", c.name, up)
		}
		if gotY.Device() != tensor.CUDA || gotG.Device() != tensor.CUDA {
			t.Fatalf("%s: results on %v and %v", c.name, gotY.Device(), gotG.Device())
		}
		for _, p := range []struct {
			what      string
			got, want *tensor.Tensor
		}{{"value", gotY, wantY}, {"gradient", gotG, wantG}} {
			g, w := p.got.ToSlice(), p.want.ToSlice()
			for i := range w {
				if d := math.Abs(float64(g[i] - w[i])); d > 1e-5*(1+math.Abs(float64(w[i]))) {
					t.Fatalf("%s %s[%d] = %v on the GPU, %v on the host", c.name, p.what, i, g[i], w[i])
				}
			}
		}
	}
}
