package tensor

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/kernels/cuda"
	"github.com/lafite-go/lafite/kernels/cuda/hostsim"
)

// The Winograd paths on the real kernels (kernels/cuda/hostsim) against the
// host's direct convolution, stride 1 (F(2x2, 3x3) and F(4x4, 3x3)) and
// stride 2 (F(4x4, 2x2) by phases): paddings 0 to 2 (the stride-1 input
// gradient's padding is 2 - pad), odd sizes (partial tiles, phases of
// unequal size), and a workspace small enough that the batch runs in chunks
// of images.
func TestWinogradConvMatchesHost(t *testing.T) {
	dev := hostsim.ForTest(t)
	defer UseCUDABackend(dev, dev.Props())()
	defer SetCUDAConvTile(SetCUDAConvTile(0))
	prevWS := winoWorkspaceBytes
	defer func() { winoWorkspaceBytes = prevWS }()

	rng := NewRNG(11)
	type winoCase struct {
		n, k, h, w, r, pad int
		workspace          int64
	}
	check := func(label string, c winoCase, stride int) {
		winoWorkspaceBytes = c.workspace
		x, w, b := rng.Normal(c.n, c.k, c.h, c.w), rng.Normal(c.r, c.k, 3, 3), rng.Normal(c.r)
		p := Conv2dParams{StrideH: stride, StrideW: stride, PadH: c.pad, PadW: c.pad}
		convMatchesHost(t, fmt.Sprintf("%s %+v", label, c), x, w, b, p, rng)
	}
	for _, m := range []int{cuda.ConvWinograd2, cuda.ConvWinograd4} {
		SetCUDAConvTile(m)
		for _, c := range []winoCase{
			{2, 3, 7, 6, 4, 1, 256 << 20},
			{3, 5, 9, 8, 6, 0, 256 << 20},
			{2, 4, 5, 7, 3, 2, 256 << 20},
			{5, 6, 8, 9, 7, 1, int64(4 * (m + 2) * (m + 2) * 7 * ((8 + m - 1) / m) * ((9 + m - 1) / m) * 2)}, // 2 images per chunk: 2, 2, 1
		} {
			check(fmt.Sprintf("F(%d)", m), c, 1)
		}
	}
	// Stride 2 by phases: even and odd sizes, paddings 0 to 2, chunks.
	SetCUDAConvTile(cuda.ConvWinograd4)
	for _, c := range []winoCase{
		{2, 3, 9, 9, 4, 1, 256 << 20},
		{2, 5, 8, 11, 3, 0, 256 << 20},
		{1, 4, 12, 7, 6, 2, 256 << 20},
		{5, 3, 10, 10, 5, 1, 4 * 25 * 12 * 2 * 2}, // one image per chunk (4k = 12 phase channels, 2x2 tiles)
	} {
		check("phases", c, 2)
	}
	if got := dev.Launches(); !launched(got, "wino_output_f32") || !launched(got, "wino_wgrad_f32") {
		t.Fatalf("the Winograd kernels never ran: %v", got)
	}
}

// convMatchesHost compares the GPU's forward, input and weight gradients of
// the conv with the host's (relative to the largest value, 1e-5).
func convMatchesHost(t *testing.T, what string, x, w, b *Tensor, p Conv2dParams, rng *RNG) {
	t.Helper()
	want := Conv2d(x, w, b, p)
	if d := maxRelDiff(Conv2d(x.To(CUDA), w.To(CUDA), b.To(CUDA), p).To(CPU), want); d > 1e-5 {
		t.Errorf("%s forward: max relative difference %.2g", what, d)
	}
	gy := rng.Normal(want.Shape()...)
	if d := maxRelDiff(Conv2dInputGrad(gy.To(CUDA), w.To(CUDA), x.Shape(), p).To(CPU), Conv2dInputGrad(gy, w, x.Shape(), p)); d > 1e-5 {
		t.Errorf("%s input grad: max relative difference %.2g", what, d)
	}
	if d := maxRelDiff(Conv2dWeightGrad(x.To(CUDA), gy.To(CUDA), w.Shape(), p).To(CPU), Conv2dWeightGrad(x, gy, w.Shape(), p)); d > 1e-5 {
		t.Errorf("%s weight grad: max relative difference %.2g", what, d)
	}
}

func launched(list []string, entry string) bool {
	for _, l := range list {
		if len(l) > len(entry) && l[:len(entry)+1] == entry+"=" {
			return true
		}
	}
	return false
}

// maxRelDiff is max |a - b| / max(1, max |b|).
func maxRelDiff(a, b *Tensor) float64 {
	ad, bd := a.Data(), b.Data()
	var d, scale float64 = 0, 1
	for i := range bd {
		scale = math.Max(scale, math.Abs(float64(bd[i])))
	}
	for i := range ad {
		d = math.Max(d, math.Abs(float64(ad[i]-bd[i])))
	}
	return d / scale
}

// LAFITE_CUDA_DEVICE=hostsim opens the host simulator as the CUDA device.
func TestOpenHostSimDevice(t *testing.T) {
	hostsim.ForTest(t) // skips without a compiler
	t.Setenv("LAFITE_CUDA_DEVICE", "hostsim")
	g, err := openGPU()
	if err != nil {
		t.Fatal(err)
	}
	defer g.b.(countingBackend).CUDABackend.(*hostsim.Device).Close()
	if !strings.Contains(g.props.Name, "host simulator") || g.dev != nil {
		t.Fatalf("opened %q (driver device %v)", g.props.Name, g.dev)
	}
	defer UseCUDABackend(g.b, g.props)()
	x := New([]float32{1, 2, 3}, 3)
	if got := Add(x.To(CUDA), x.To(CUDA)).To(CPU).Data(); got[0] != 2 || got[1] != 4 || got[2] != 6 {
		t.Fatalf("x + x on the host simulator: %v", got)
	}
}
