package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// outSize is the convolution output length of one axis.
func outSize(in, k, s, p, d int) int { return (in+2*p-d*(k-1)-1)/s + 1 }

func geom(n, cin, h, w, cout, kh, kw, sh, sw, ph, pw, dh, dw, groups int) ConvGeom {
	return ConvGeom{N: n, Cin: cin, H: h, W: w, Cout: cout,
		OH: outSize(h, kh, sh, ph, dh), OW: outSize(w, kw, sw, pw, dw),
		KH: kh, KW: kw, SH: sh, SW: sw, PH: ph, PW: pw, DH: dh, DW: dw, Groups: groups}
}

var convGeoms = map[string]ConvGeom{
	"3x3_pad1":         geom(2, 4, 7, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1),
	"stride2_odd":      geom(3, 3, 9, 7, 5, 3, 3, 2, 2, 0, 0, 1, 1, 1),
	"stride2_pad_asym": geom(2, 2, 8, 5, 3, 3, 2, 2, 1, 1, 0, 1, 1, 1),
	"dilation2":        geom(2, 3, 9, 8, 4, 3, 3, 1, 1, 2, 2, 2, 2, 1),
	"dilation_mixed":   geom(1, 2, 10, 7, 2, 3, 2, 2, 1, 1, 3, 2, 3, 1),
	"groups2":          geom(2, 4, 6, 7, 6, 3, 3, 2, 1, 1, 1, 1, 1, 2),
	"depthwise":        geom(3, 5, 7, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1, 5),
	"depthwise_mult2":  geom(2, 3, 6, 5, 6, 3, 3, 1, 2, 1, 1, 1, 1, 3),
	"1x1":              geom(3, 5, 4, 6, 7, 1, 1, 1, 1, 0, 0, 1, 1, 1),
	"1x1_stride2":      geom(2, 3, 5, 6, 4, 1, 1, 2, 2, 0, 0, 1, 1, 1),
	"1x1_groups":       geom(2, 4, 3, 5, 6, 1, 1, 1, 1, 0, 0, 1, 1, 2),
	"patch_embed":      geom(2, 3, 16, 24, 5, 8, 8, 8, 8, 0, 0, 1, 1, 1),
	"kernel_gt_input":  geom(2, 2, 2, 3, 3, 4, 4, 1, 1, 2, 2, 1, 1, 1),
	"batch_many":       geom(9, 2, 5, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1),
}

func init() {
	// Output cropped below the formula, as a transposed conv with
	// output_padding uses the kernels.
	g := geom(2, 3, 7, 7, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1)
	g.OH, g.OW = g.OH-1, g.OW-1
	convGeoms["cropped_output"] = g
}

func assertClose(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-5+1e-5*math.Abs(float64(want[i])) || math.IsNaN(float64(got[i])) {
			t.Fatalf("%s: element %d = %v, want %v", what, i, got[i], want[i])
		}
	}
}

func TestConvKernelsMatchDirect(t *testing.T) {
	for name, g := range convGeoms {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(len(name))))
			nx, ny := g.N*g.Cin*g.H*g.W, g.N*g.Cout*g.OH*g.OW
			nw := g.Cout * g.Cin / g.Groups * g.KH * g.KW
			x, w, b, gy := randSlice(r, nx), randSlice(r, nw), randSlice(r, g.Cout), randSlice(r, ny)
			poison := func(n int) []float32 {
				s := make([]float32, n)
				for i := range s {
					s[i] = float32(math.NaN())
				}
				return s
			}
			got, want := poison(ny), make([]float32, ny)
			Conv2dForwardRef(g, x, w, b, got)
			Conv2dDirect(g, x, w, b, want)
			assertClose(t, "forward", got, want)
			Conv2dForwardRef(g, x, w, nil, got)
			Conv2dDirect(g, x, w, nil, want)
			assertClose(t, "forward_nobias", got, want)

			gotX, wantX := poison(nx), make([]float32, nx)
			Conv2dInputGradRef(g, gy, w, gotX)
			Conv2dInputGradDirect(g, gy, w, wantX)
			assertClose(t, "input_grad", gotX, wantX)

			gotW, wantW := poison(nw), make([]float32, nw)
			Conv2dWeightGradRef(g, x, gy, gotW)
			Conv2dWeightGradDirect(g, x, gy, wantW)
			assertClose(t, "weight_grad", gotW, wantW)
		})
	}
}

// The direct loops are themselves checked: ⟨conv(x,w), gy⟩ must equal
// ⟨x, inputGrad(gy,w)⟩ and ⟨w, weightGrad(x,gy)⟩ (one bilinear form).
func TestConvDirectAdjoint(t *testing.T) {
	dot := func(a, b []float32) float64 {
		var s float64
		for i := range a {
			s += float64(a[i]) * float64(b[i])
		}
		return s
	}
	for name, g := range convGeoms {
		r := rand.New(rand.NewPCG(2, uint64(len(name))))
		nx, ny := g.N*g.Cin*g.H*g.W, g.N*g.Cout*g.OH*g.OW
		nw := g.Cout * g.Cin / g.Groups * g.KH * g.KW
		x, w, gy := randSlice(r, nx), randSlice(r, nw), randSlice(r, ny)
		y, gx, gw := make([]float32, ny), make([]float32, nx), make([]float32, nw)
		Conv2dDirect(g, x, w, nil, y)
		Conv2dInputGradDirect(g, gy, w, gx)
		Conv2dWeightGradDirect(g, x, gy, gw)
		a, b, c := dot(y, gy), dot(x, gx), dot(w, gw)
		if math.Abs(a-b) > 1e-4*(1+math.Abs(a)) || math.Abs(a-c) > 1e-4*(1+math.Abs(a)) {
			t.Errorf("%s: ⟨y,gy⟩=%v ⟨x,gx⟩=%v ⟨w,gw⟩=%v", name, a, b, c)
		}
	}
}

func TestValidOutputs(t *testing.T) {
	for _, c := range []struct{ tap, stride, pad, in, out int }{
		{0, 1, 1, 5, 5}, {2, 1, 1, 5, 5}, {0, 2, 3, 4, 4}, {6, 3, 0, 5, 3}, {0, 1, 9, 2, 20}, {4, 2, 1, 3, 4},
	} {
		lo, hi := validOutputs(c.tap, c.stride, c.pad, c.in, c.out)
		for o := 0; o < c.out; o++ {
			i := o*c.stride - c.pad + c.tap
			inside := i >= 0 && i < c.in
			if inside != (o >= lo && o < hi) {
				t.Fatalf("%+v: range [%d,%d) wrong at o=%d", c, lo, hi, o)
			}
		}
	}
}

func poolDirect(g PoolGeom, x []float32) []float32 {
	y := make([]float32, g.Planes*g.OH*g.OW)
	for p := 0; p < g.Planes; p++ {
		for oy := 0; oy < g.OH; oy++ {
			for ox := 0; ox < g.OW; ox++ {
				var s float64
				cnt, padded := 0, 0
				for ky := 0; ky < g.KH; ky++ {
					for kx := 0; kx < g.KW; kx++ {
						iy, ix := oy*g.SH-g.PH+ky, ox*g.SW-g.PW+kx
						if iy < g.H+g.PH && ix < g.W+g.PW {
							padded++
						}
						if iy >= 0 && iy < g.H && ix >= 0 && ix < g.W {
							s += float64(x[(p*g.H+iy)*g.W+ix])
							cnt++
						}
					}
				}
				div := cnt
				if g.CountIncludePad {
					div = padded
				}
				y[(p*g.OH+oy)*g.OW+ox] = float32(s / float64(div))
			}
		}
	}
	return y
}

func TestAvgPoolMatchesDirect(t *testing.T) {
	for _, c := range []struct{ h, w, kh, kw, sh, sw, ph, pw int }{
		{6, 8, 2, 2, 2, 2, 0, 0}, {6, 8, 3, 3, 2, 2, 1, 1}, {7, 5, 3, 2, 1, 2, 1, 1}, {5, 5, 5, 5, 1, 1, 2, 2}, {9, 4, 4, 3, 3, 1, 2, 0},
	} {
		for _, incl := range []bool{true, false} {
			name := fmt.Sprintf("%v_incl=%v", c, incl)
			g := PoolGeom{Planes: 3, H: c.h, W: c.w, KH: c.kh, KW: c.kw, SH: c.sh, SW: c.sw, PH: c.ph, PW: c.pw, CountIncludePad: incl}
			g.OH, g.OW = (c.h+2*c.ph-c.kh)/c.sh+1, (c.w+2*c.pw-c.kw)/c.sw+1
			r := rand.New(rand.NewPCG(3, uint64(c.h*c.kw)))
			x := randSlice(r, g.Planes*g.H*g.W)
			y := make([]float32, g.Planes*g.OH*g.OW)
			AvgPool2dRef(g, x, y)
			assertClose(t, name+" forward", y, poolDirect(g, x))
			// Backward is the adjoint: ⟨pool(x), gy⟩ = ⟨x, poolBackward(gy)⟩.
			gy := randSlice(r, len(y))
			gx := randSlice(r, len(x)) // garbage must be overwritten
			AvgPool2dBackwardRef(g, gy, gx)
			var a, b float64
			for i := range y {
				a += float64(y[i]) * float64(gy[i])
			}
			for i := range x {
				b += float64(x[i]) * float64(gx[i])
			}
			if math.Abs(a-b) > 1e-4*(1+math.Abs(a)) {
				t.Errorf("%s: ⟨pool(x),gy⟩=%v, ⟨x,back(gy)⟩=%v", name, a, b)
			}
		}
	}
}

// benchGeom is a StyleGAN2 synthesis conv at 32x32 with 64 channels.
var benchGeom = geom(4, 64, 32, 32, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1)

func benchConv(b *testing.B, f func(g ConvGeom, a, c, out []float32)) {
	g := benchGeom
	r := rand.New(rand.NewPCG(1, 1))
	x := randSlice(r, g.N*g.Cin*g.H*g.W)
	w := randSlice(r, g.Cout*g.Cin*g.KH*g.KW)
	y := randSlice(r, g.N*g.Cout*g.OH*g.OW)
	b.SetBytes(0)
	b.ReportMetric(float64(2*g.N*g.flopsPerSample())/1e9, "GFLOP/op")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f(g, x, w, y)
	}
}

func BenchmarkConv2dForward(b *testing.B) {
	benchConv(b, func(g ConvGeom, x, w, y []float32) { Conv2dForwardRef(g, x, w, nil, y) })
}

func BenchmarkConv2dInputGrad(b *testing.B) {
	benchConv(b, func(g ConvGeom, x, w, y []float32) { Conv2dInputGradRef(g, y, w, x) })
}

func BenchmarkConv2dWeightGrad(b *testing.B) {
	benchConv(b, func(g ConvGeom, x, w, y []float32) { Conv2dWeightGradRef(g, x, y, w) })
}
