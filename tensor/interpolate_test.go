package tensor

import (
	"math"
	"testing"
)

// The references below transcribe PyTorch's CPU upsample_bicubic2d and
// upsample_bilinear2d (align_corners=False, no antialias) directly, per
// output pixel and in float64, without per-axis tables. PyTorch (and the Go
// kernels) compute source coordinates in float32, hence the 1e-5 tolerance.

func cubicConv1(x, a float64) float64 { return ((a+2)*x-(a+3))*x*x + 1 }
func cubicConv2(x, a float64) float64 { return ((a*x-5*a)*x+8*a)*x - 4*a }

func cubicCoeffs(t float64) [4]float64 {
	const a = -0.75
	return [4]float64{cubicConv2(t+1, a), cubicConv1(t, a), cubicConv1(1-t, a), cubicConv2(2-t, a)}
}

func clampIdx(i, n int) int { return max(0, min(i, n-1)) }

func refBicubic(x *Tensor, outH, outW int) []float64 {
	nd := x.Dim()
	h, w := x.Size(-2), x.Size(-1)
	sh, sw := float64(h)/float64(outH), float64(w)/float64(outW)
	var out []float64
	forEachIndex(x.Shape()[:nd-2], func(p []int) {
		at := func(i, j int) float64 {
			return float64(x.At(append(append([]int(nil), p...), clampIdx(i, h), clampIdx(j, w))...))
		}
		for oy := 0; oy < outH; oy++ {
			ry := sh*(float64(oy)+0.5) - 0.5 // no clamp for cubic
			iy := int(math.Floor(ry))
			cy := cubicCoeffs(ry - float64(iy))
			for ox := 0; ox < outW; ox++ {
				rx := sw*(float64(ox)+0.5) - 0.5
				ix := int(math.Floor(rx))
				cx := cubicCoeffs(rx - float64(ix))
				var s float64
				for a := 0; a < 4; a++ {
					var row float64
					for b := 0; b < 4; b++ {
						row += cx[b] * at(iy-1+a, ix-1+b)
					}
					s += cy[a] * row
				}
				out = append(out, s)
			}
		}
	})
	return out
}

func refBilinear(x *Tensor, outH, outW int) []float64 {
	nd := x.Dim()
	h, w := x.Size(-2), x.Size(-1)
	sh, sw := float64(h)/float64(outH), float64(w)/float64(outW)
	src := func(scale float64, o, n int) (int, int, float64) {
		r := max(scale*(float64(o)+0.5)-0.5, 0) // bilinear clamps negatives to 0
		i0 := int(r)
		i1 := i0
		if i0 < n-1 {
			i1 = i0 + 1
		}
		return i0, i1, r - float64(i0)
	}
	var out []float64
	forEachIndex(x.Shape()[:nd-2], func(p []int) {
		at := func(i, j int) float64 { return float64(x.At(append(append([]int(nil), p...), i, j)...)) }
		for oy := 0; oy < outH; oy++ {
			y0, y1, ly := src(sh, oy, h)
			for ox := 0; ox < outW; ox++ {
				x0, x1, lx := src(sw, ox, w)
				out = append(out, (1-ly)*((1-lx)*at(y0, x0)+lx*at(y0, x1))+ly*((1-lx)*at(y1, x0)+lx*at(y1, x1)))
			}
		}
	})
	return out
}

var resizeCases = []struct{ in, out []int }{
	{[]int{2, 3, 16, 16}, []int{24, 24}},
	{[]int{1, 3, 32, 32}, []int{20, 20}},
	{[]int{1, 2, 12, 16}, []int{20, 10}},
	{[]int{2, 1, 5, 7}, []int{11, 3}},  // odd, mixed up/down
	{[]int{1, 1, 7, 9}, []int{2, 2}},   // strong downscale (> 2x)
	{[]int{3, 1, 4}, []int{9, 1}},      // 3-d input, 1-pixel output
	{[]int{1, 2, 1, 1}, []int{5, 4}},   // 1-pixel input
	{[]int{1, 1, 6, 5}, []int{6, 5}},   // same size
	{[]int{1, 1, 224, 3}, []int{7, 3}}, // CLIP-like ratio
}

func TestInterpolateMatchesPyTorchFormula(t *testing.T) {
	rng := NewRNG(11)
	modes := []struct {
		name string
		f    func(*Tensor, int, int) *Tensor
		ref  func(*Tensor, int, int) []float64
	}{{"bicubic", InterpolateBicubic, refBicubic}, {"bilinear", InterpolateBilinear, refBilinear}}
	for _, c := range resizeCases {
		x := rng.Normal(c.in...)
		for _, m := range modes {
			want := m.ref(x, c.out[0], c.out[1])
			for name, xl := range layouts(x) {
				got := m.f(xl, c.out[0], c.out[1])
				wantShape := append(append([]int(nil), c.in[:len(c.in)-2]...), c.out...)
				if !SameShape(got.Shape(), wantShape) {
					t.Fatalf("%s %v %s: shape %v, want %v", m.name, c.in, name, got.Shape(), wantShape)
				}
				for i, g := range got.ToSlice() {
					if d := math.Abs(float64(g) - want[i]); d > 1e-5*(1+math.Abs(want[i])) {
						t.Fatalf("%s %v->%v %s: element %d = %v, want %v", m.name, c.in, c.out, name, i, g, want[i])
					}
				}
			}
		}
	}
}

func TestInterpolateSameSizeIsIdentity(t *testing.T) {
	x := NewRNG(12).Normal(2, 3, 5, 4)
	equalSlices(t, "bicubic identity", InterpolateBicubic(x, 5, 4).ToSlice(), x.ToSlice())
	equalSlices(t, "bilinear identity", InterpolateBilinear(x, 5, 4).ToSlice(), x.ToSlice())
}

func TestInterpolateBackwardIsAdjoint(t *testing.T) {
	rng := NewRNG(13)
	for _, c := range resizeCases {
		x := rng.Normal(c.in...)
		h, w := c.in[len(c.in)-2], c.in[len(c.in)-1]
		ab := InterpolateBicubic(x, c.out[0], c.out[1])
		y := rng.Normal(ab.Shape()...)
		checkAdjoint(t, "bicubic", ab, y, x, InterpolateBicubicBackward(strided(y), h, w))
		al := InterpolateBilinear(x, c.out[0], c.out[1])
		checkAdjoint(t, "bilinear", al, y, x, InterpolateBilinearBackward(transposedLayout(y), h, w))
	}
}

func TestInterpolateErrorsNameArguments(t *testing.T) {
	expectPanic(t, "outH", func() { InterpolateBicubic(Zeros(1, 1, 4, 4), 0, 3) })
	expectPanic(t, "outH, outW", func() { InterpolateBilinear(Zeros(1, 1, 4, 4), 3, -1) })
	expectPanic(t, "x has shape", func() { InterpolateBicubic(Zeros(4), 2, 2) })
	expectPanic(t, "x has empty", func() { InterpolateBilinear(Zeros(1, 0, 4), 2, 2) })
	expectPanic(t, "inH", func() { InterpolateBicubicBackward(Zeros(1, 1, 4, 4), 0, 3) })
	expectPanic(t, "g has shape", func() { InterpolateBilinearBackward(Zeros(4), 2, 2) })
}
