package tensor

import (
	"testing"

	"github.com/lafite-go/lafite/kernels/cpu"
)

// upfirdnCases covers separable 8-tap and 2-D 3×4 filters, up/down 2 (mixed
// per axis), negative pads, flips and gains on odd sizes.
var upfirdnCases = []struct {
	name  string
	f     *Tensor
	p     Upfirdn2dParams
	xSize [4]int
}{
	{"f4x4_up2", SetupFilterTaps(1, 3, 3, 1), Upfirdn2dParams{UpX: 2, UpY: 2, DownX: 1, DownY: 1, Pad: [4]int{2, 1, 2, 1}, Gain: 4}, [4]int{2, 3, 5, 7}},
	{"f8_down2_flip", SetupFilterTaps(0.5, 1, 3, 2, 4, 1.5, 0.7, 0.3), Upfirdn2dParams{UpX: 1, UpY: 1, DownX: 2, DownY: 2, Pad: [4]int{3, 4, 3, 4}, FlipFilter: true, Gain: 1}, [4]int{1, 2, 7, 9}},
	{"f8_up2_negpad", SetupFilterTaps(0.5, 1, 3, 2, 4, 1.5, 0.7, 0.3), Upfirdn2dParams{UpX: 2, UpY: 2, DownX: 1, DownY: 1, Pad: [4]int{-1, 2, 0, -2}, Gain: 2}, [4]int{1, 2, 6, 7}},
	{"f3x4_up2_down2", New([]float32{1, 2, 3, 1, 2, 5, 4, 2, 1, 1, 2, 3}, 3, 4), Upfirdn2dParams{UpX: 2, UpY: 2, DownX: 2, DownY: 2, Pad: [4]int{2, 1, 1, 1}, Gain: 1}, [4]int{2, 1, 5, 6}},
	{"f3x4_mixed_axes_negpad", New([]float32{1, 2, 3, 1, 2, 5, 4, 2, 1, 1, 2, 3}, 3, 4), Upfirdn2dParams{UpX: 2, UpY: 1, DownX: 1, DownY: 2, Pad: [4]int{-2, 1, 1, -1}, FlipFilter: true, Gain: 1.5}, [4]int{1, 2, 7, 5}},
	{"f3x4_down3", New([]float32{1, 2, 3, 1, 2, 5, 4, 2, 1, 1, 2, 3}, 3, 4), Upfirdn2dParams{UpX: 1, UpY: 3, DownX: 3, DownY: 1, Pad: [4]int{1, 0, 0, 2}, Gain: 1}, [4]int{1, 1, 4, 11}},
}

func TestUpfirdn2dMatchesNaive(t *testing.T) {
	rng := NewRNG(11)
	for _, c := range upfirdnCases {
		x := rng.Normal(c.xSize[:]...)
		got := Upfirdn2d(x, c.f, c.p)
		cfg := upfirdn2dConfig("test", x, c.f, c.p)
		oh, ow := cfg.OutSize()
		if h, w := Upfirdn2dOutSize(x, c.f, c.p); h != oh || w != ow || got.Size(2) != oh || got.Size(3) != ow {
			t.Fatalf("%s: output %v, OutSize %dx%d, config %dx%d", c.name, got.Shape(), h, w, oh, ow)
		}
		want := make([]float32, got.Numel())
		cpu.Upfirdn2dNaive(want, x.ToSlice(), c.f.ToSlice(), cfg)
		closeSlices(t, c.name, got.ToSlice(), want, 1e-5)
	}
}

// TestUpfirdn2dAdjoint checks <A x, y> = <x, Aᵀ y> and that the adjoint maps
// back onto x's size, for every case.
func TestUpfirdn2dAdjoint(t *testing.T) {
	rng := NewRNG(12)
	for _, c := range upfirdnCases {
		x := rng.Normal(c.xSize[:]...)
		ax := Upfirdn2d(x, c.f, c.p)
		y := rng.Normal(ax.Shape()...)
		aty := Upfirdn2d(y, c.f, c.p.Adjoint(c.f, x.Size(2), x.Size(3)))
		if !SameShape(aty.Shape(), x.Shape()) {
			t.Fatalf("%s: adjoint output %v, want %v", c.name, aty.Shape(), x.Shape())
		}
		lhs, rhs := Sum(Mul(ax, y), nil, false).Item(), Sum(Mul(x, aty), nil, false).Item()
		if d := lhs - rhs; d > 1e-4 || d < -1e-4 {
			t.Fatalf("%s: <Ax, y> = %v, <x, Aᵀy> = %v", c.name, lhs, rhs)
		}
	}
}

func TestUpfirdn2dWrapperSizes(t *testing.T) {
	x := NewRNG(13).Normal(2, 3, 5, 7)
	for _, f := range []*Tensor{SetupFilterTaps(1, 3, 3, 1), SetupFilterTaps(1, 2, 1), SetupFilterTaps(1, 1, 2, 3, 3, 2, 1, 1), Ones(1, 1)} {
		if s := Filter2d(x, f, nil, false, 1).Shape(); !SameShape(s, []int{2, 3, 5, 7}) {
			t.Errorf("Filter2d with filter %v: shape %v", f.Shape(), s)
		}
		if s := Upsample2d(x, f, 2, nil, false, 1).Shape(); !SameShape(s, []int{2, 3, 10, 14}) {
			t.Errorf("Upsample2d with filter %v: shape %v", f.Shape(), s)
		}
		if s := Downsample2d(x, f, 2, nil, false, 1).Shape(); !SameShape(s, []int{2, 3, 2, 3}) {
			t.Errorf("Downsample2d with filter %v: shape %v", f.Shape(), s)
		}
	}
	// The StyleGAN2 4-tap wrappers: upsample pads [2, 1] with gain 4,
	// downsample pads [1, 1].
	f := SetupFilterTaps(1, 3, 3, 1)
	if p := Upsample2dParams(f, 2, nil, false, 1); p.Pad != [4]int{2, 1, 2, 1} || p.Gain != 4 || p.UpX != 2 || p.DownY != 1 {
		t.Errorf("Upsample2dParams = %+v", p)
	}
	if p := Downsample2dParams(f, 2, []int{1, 0}, false, 1); p.Pad != [4]int{2, 2, 1, 1} || p.DownX != 2 {
		t.Errorf("Downsample2dParams = %+v", p)
	}
	if p := Filter2dParams(New([]float32{1, 2, 3, 4, 5, 6}, 2, 3), []int{0, 1, 2, 3}, true, 2); p.Pad != [4]int{1, 2, 3, 3} || !p.FlipFilter || p.Gain != 2 {
		t.Errorf("Filter2dParams = %+v", p)
	}
	// fw=1, up=2 pads (1-2)//2 = -1 (floor division, as Python).
	if p := Upsample2dParams(Ones(1, 1), 2, nil, false, 1); p.Pad != [4]int{1, -1, 1, -1} {
		t.Errorf("Upsample2dParams 1x1 = %+v", p)
	}
	// A constant image stays constant inside under a normalised filter.
	ones := Ones(1, 1, 6, 6)
	up := Upsample2d(ones, f, 2, nil, false, 1)
	if v := up.At(0, 0, 5, 5); v < 0.9999 || v > 1.0001 {
		t.Errorf("upsampled constant = %v inside, want 1", v)
	}
}

func TestSetupFilter(t *testing.T) {
	f := SetupFilterTaps(1, 3, 3, 1)
	want := make([]float32, 16)
	taps := []float32{1, 3, 3, 1}
	for i := range want {
		want[i] = taps[i/4] * taps[i%4] / 64
	}
	if !SameShape(f.Shape(), []int{4, 4}) {
		t.Fatalf("[1,3,3,1] -> shape %v, want [4 4]", f.Shape())
	}
	equalSlices(t, "f4", f.ToSlice(), want)
	f8 := SetupFilterTaps(1, 1, 1, 1, 1, 1, 1, 1)
	if !SameShape(f8.Shape(), []int{8}) || f8.At(0) != 0.125 {
		t.Fatalf("8 taps -> %v", f8)
	}
	no := false
	if s := SetupFilter(New([]float32{1, 1, 1, 1, 1, 1, 1, 1}, 8), true, false, 1, &no).Shape(); !SameShape(s, []int{8, 8}) {
		t.Fatalf("separable=false on 8 taps -> %v, want [8 8]", s)
	}
	yes := true
	if s := SetupFilter(New([]float32{1, 2}, 2), false, false, 1, &yes).Shape(); !SameShape(s, []int{2}) {
		t.Fatalf("separable=true on 2 taps -> %v", s)
	}
	// Flip reverses, gain scales by gain^(ndim/2).
	g := SetupFilter(New([]float32{1, 2, 3, 4, 5, 6}, 2, 3), false, true, 2, nil)
	equalSlices(t, "flipped", g.ToSlice(), []float32{12, 10, 8, 6, 4, 2})
	h := SetupFilter(New([]float32{1, 2, 3, 4, 5, 6, 7, 8}, 8), false, false, 4, nil)
	equalSlices(t, "sqrt gain", h.ToSlice(), []float32{2, 4, 6, 8, 10, 12, 14, 16})
	if s := SetupFilter(nil, true, false, 1, nil); !SameShape(s.Shape(), []int{1, 1}) || s.Item() != 1 {
		t.Fatalf("nil filter -> %v", s)
	}
	expectPanic(t, "separable", func() { SetupFilter(Ones(2, 2), true, false, 1, &yes) })
	expectPanic(t, "filter f", func() { SetupFilter(Ones(2, 2, 2), true, false, 1, nil) })
}

func TestUpfirdn2dPanicsNameTheArgument(t *testing.T) {
	x := Ones(1, 2, 3, 3)
	f := SetupFilterTaps(1, 3, 3, 1)
	ok := Upfirdn2dParams{UpX: 1, UpY: 1, DownX: 1, DownY: 1, Gain: 1, Pad: [4]int{1, 1, 1, 1}}
	bad := func(mod func(p *Upfirdn2dParams)) Upfirdn2dParams { p := ok; mod(&p); return p }
	expectPanic(t, "UpX", func() { Upfirdn2d(x, f, bad(func(p *Upfirdn2dParams) { p.UpX = 0 })) })
	expectPanic(t, "DownY", func() { Upfirdn2d(x, f, bad(func(p *Upfirdn2dParams) { p.DownY = -1 })) })
	expectPanic(t, "filter f", func() { Upfirdn2d(x, f, bad(func(p *Upfirdn2dParams) { p.Pad = [4]int{0, 0, 0, 0} })) })
	expectPanic(t, "Pad", func() { Upfirdn2d(x, f, bad(func(p *Upfirdn2dParams) { p.Pad = [4]int{-2, 0, 1, 1} })) })
	expectPanic(t, "x must be", func() { Upfirdn2d(Ones(2, 3, 3), f, ok) })
	expectPanic(t, "filter f", func() { Upfirdn2d(x, Ones(1, 1, 1), ok) })
	expectPanic(t, "filter f", func() { Upfirdn2d(x, nil, ok) })
	expectPanic(t, "padding", func() { Upfirdn2dPadding(1, 2, 3) })
	expectPanic(t, "up", func() { Upsample2d(x, f, 0, nil, false, 1) })
	expectPanic(t, "down", func() { Downsample2d(x, f, 0, nil, false, 1) })
}
