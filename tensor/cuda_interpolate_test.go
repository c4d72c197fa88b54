package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// bicubicGPUTol bounds |GPU − CPU| relative to the largest |CPU| value: the
// emulator sums the CPU's float32 tap weights in float64, the host in
// float32 over two passes (a few float32 roundings of O(1) values).
const bicubicGPUTol = 1e-5

// TestInterpolateBicubicOnEmulatedGPU: InterpolateBicubic and its adjoint on
// the emulated GPU equal the host on random shapes (up- and down-scaling,
// non-square, 2- to 5-d) and input layouts (contiguous, crops of a larger
// tensor, strided, transposed storage, broadcast), with no host fallback.
func TestInterpolateBicubicOnEmulatedGPU(t *testing.T) {
	e, restore := useEmulator()
	defer restore()
	r := rand.New(rand.NewPCG(7, 8))
	rng := NewRNG(21)
	type tc struct {
		lead         []int
		h, w, oh, ow int
		cropT, cropL int // the input is x[..., cropT:cropT+h, cropL:cropL+w] of a larger x
		padH, padW   int
	}
	cases := []tc{
		{lead: []int{2, 3}, h: 40, w: 40, oh: 224, ow: 224, cropT: 7, cropL: 20, padH: 24, padW: 24}, // clip.TrainTransform's crop
		{lead: []int{1, 2}, h: 9, w: 9, oh: 9, ow: 9},                                                // same size
		{lead: []int{3}, h: 1, w: 1, oh: 4, ow: 3},                                                   // one pixel
		{lead: nil, h: 17, w: 5, oh: 3, ow: 12},                                                      // 2-d, down H, up W
	}
	for i := 0; i < 16; i++ {
		c := tc{h: 1 + r.IntN(30), w: 1 + r.IntN(30), oh: 1 + r.IntN(45), ow: 1 + r.IntN(45)}
		for d := r.IntN(3); d > 0; d-- {
			c.lead = append(c.lead, 1+r.IntN(3))
		}
		if r.IntN(2) == 0 {
			c.padH, c.padW = r.IntN(5), r.IntN(5)
			c.cropT, c.cropL = r.IntN(c.padH+1), r.IntN(c.padW+1)
		}
		cases = append(cases, c)
	}
	f0 := CUDAFallbackTotal()
	for _, c := range cases {
		nd := len(c.lead) + 2
		full := rng.Normal(append(cloneInts(c.lead), c.h+c.padH, c.w+c.padW)...)
		x := full.Narrow(nd-2, c.cropT, c.h).Narrow(nd-1, c.cropL, c.w)
		gy := rng.Normal(append(cloneInts(c.lead), c.oh, c.ow)...)
		name := fmt.Sprintf("%v %dx%d->%dx%d", c.lead, c.h, c.w, c.oh, c.ow)
		want := InterpolateBicubic(x, c.oh, c.ow)
		wantAdj := InterpolateBicubicBackward(gy, c.h, c.w)
		for _, lname := range []string{"crop", "contiguous", "strided", "transposed"} {
			xl := gpuLayout(lname, x.To(CUDA))
			if lname == "crop" {
				xl = full.To(CUDA).Narrow(nd-2, c.cropT, c.h).Narrow(nd-1, c.cropL, c.w)
			}
			got := InterpolateBicubic(xl, c.oh, c.ow)
			if got.Device() != CUDA || !SameShape(got.Shape(), want.Shape()) {
				t.Fatalf("%s %s: result %v on %v, want %v on cuda", name, lname, got.Shape(), got.Device(), want.Shape())
			}
			closeValues(t, name+" forward "+lname, got, want, bicubicGPUTol)
			closeValues(t, name+" adjoint "+lname, InterpolateBicubicBackward(gpuLayout(lname, gy.To(CUDA)), c.h, c.w), wantAdj, bicubicGPUTol)
		}
		// A broadcast gradient (stride 0 over the planes).
		g1 := rng.Normal(c.oh, c.ow)
		gb := g1.To(CUDA).Expand(append(cloneInts(c.lead), c.oh, c.ow)...)
		closeValues(t, name+" adjoint broadcast", InterpolateBicubicBackward(gb, c.h, c.w),
			InterpolateBicubicBackward(g1.Expand(append(cloneInts(c.lead), c.oh, c.ow)...), c.h, c.w), bicubicGPUTol)
	}
	if n := CUDAFallbackTotal() - f0; n != 0 {
		t.Fatalf("%d host fallbacks: %v", n, CUDAFallbacks())
	}
	t.Logf("kernels launched: %v", e.Launches())
}

// gpuLayout rebuilds a layout of layouts() from a contiguous GPU tensor.
func gpuLayout(name string, x *Tensor) *Tensor {
	switch name {
	case "strided":
		w := Zeros(append(x.Shape(), 2)...).To(CUDA)
		v := w.Select(-1, 1)
		v.CopyFrom(x)
		return v
	case "transposed":
		n := x.Dim()
		rev := make([]int, n)
		for i := range rev {
			rev[i] = n - 1 - i
		}
		return x.Permute(rev...).Contiguous().Permute(InversePermutation(rev)...)
	}
	return x
}
