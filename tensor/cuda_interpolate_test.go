package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lafite-go/lafite/kernels/cuda/emu"
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

// TestCropResizeBicubicOnEmulatedGPU: CropResizeBicubic and its adjoint on
// the emulated GPU equal the host's for random windows (either pass order,
// up and down, square CLIP-like ones included) and input layouts; and once
// a first window has been resized, others of any size allocate no more
// device memory (the reason the op exists: clip.TrainTransform's random
// crop must not give the caching allocator new sizes every step).
func TestCropResizeBicubicOnEmulatedGPU(t *testing.T) {
	e := emu.New()
	defer UseCUDABackend(WithCachingAllocator(e), e.Props())()
	r := rand.New(rand.NewPCG(9, 10))
	rng := NewRNG(23)
	type tc struct {
		lead   []int
		h, w   int // x's last two dims
		oh, ow int
	}
	cases := []tc{{lead: []int{2, 3}, h: 32, w: 32, oh: 56, ow: 56}, {lead: []int{3}, h: 9, w: 14, oh: 5, ow: 20}, {h: 6, w: 5, oh: 7, ow: 2}}
	for i := 0; i < 8; i++ {
		c := tc{h: 1 + r.IntN(20), w: 1 + r.IntN(20), oh: 1 + r.IntN(30), ow: 1 + r.IntN(30)}
		for d := r.IntN(3); d > 0; d-- {
			c.lead = append(c.lead, 1+r.IntN(3))
		}
		cases = append(cases, c)
	}
	f0 := CUDAFallbackTotal()
	for _, c := range cases {
		nd := len(c.lead) + 2
		x := rng.Normal(append(cloneInts(c.lead), c.h, c.w)...)
		gy := rng.Normal(append(cloneInts(c.lead), c.oh, c.ow)...)
		var allocs0 int64
		for k := 0; k < 6; k++ {
			win := CropWindow{H: 1 + r.IntN(c.h), W: 1 + r.IntN(c.w)}
			if k == 0 { // the whole extent: the first pass's full size
				win = CropWindow{H: c.h, W: c.w}
			}
			win.Top, win.Left = r.IntN(c.h-win.H+1), r.IntN(c.w-win.W+1)
			name := fmt.Sprintf("%v %dx%d window %+v -> %dx%d", c.lead, c.h, c.w, win, c.oh, c.ow)
			want := CropResizeBicubic(x, win, c.oh, c.ow)
			wantAdj := CropResizeBicubicBackward(gy, c.h, c.w, win)
			ref := InterpolateBicubic(x.Narrow(nd-2, win.Top, win.H).Narrow(nd-1, win.Left, win.W), c.oh, c.ow)
			closeValues(t, name+" host vs the composed ops", want, ref, 0)
			scope := OpenScope() // frees the window's GPU tensors, layouts' copies included
			for _, lname := range []string{"contiguous", "transposed"} {
				xg, gg := gpuLayout(lname, x.To(CUDA)), gpuLayout(lname, gy.To(CUDA))
				closeValues(t, name+" forward "+lname, CropResizeBicubic(xg, win, c.oh, c.ow), want, bicubicGPUTol)
				closeValues(t, name+" adjoint "+lname, CropResizeBicubicBackward(gg, c.h, c.w, win), wantAdj, bicubicGPUTol)
			}
			scope.Close()
			if a, _ := CUDADeviceAllocs(); k == 0 {
				allocs0 = a
			} else if a != allocs0 {
				t.Errorf("%s: %d device allocations after the whole-extent window's", name, a-allocs0)
			}
		}
	}
	if n := CUDAFallbackTotal() - f0; n != 0 {
		t.Fatalf("%d host fallbacks: %v", n, CUDAFallbacks())
	}
}
