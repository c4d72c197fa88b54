package tensor

import (
	"math"
	"testing"
)

// naiveConv2d evaluates the defining sum of Conv2d element by element through
// At, independent of the kernels' memory layout assumptions.
func naiveConv2d(x, w, bias *Tensor, p Conv2dParams) []float32 {
	p = p.normalized()
	n, cin, h, wd := x.Size(0), x.Size(1), x.Size(2), x.Size(3)
	cout, cg, kh, kw := w.Size(0), w.Size(1), w.Size(2), w.Size(3)
	og := cout / p.Groups
	oh := (h+2*p.PadH-p.DilationH*(kh-1)-1)/p.StrideH + 1
	ow := (wd+2*p.PadW-p.DilationW*(kw-1)-1)/p.StrideW + 1
	_ = cin
	var out []float32
	for b := 0; b < n; b++ {
		for o := 0; o < cout; o++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					var s float64
					if bias != nil {
						s = float64(bias.At(o))
					}
					for c := 0; c < cg; c++ {
						for ky := 0; ky < kh; ky++ {
							for kx := 0; kx < kw; kx++ {
								iy := i*p.StrideH - p.PadH + ky*p.DilationH
								ix := j*p.StrideW - p.PadW + kx*p.DilationW
								if iy < 0 || iy >= h || ix < 0 || ix >= wd {
									continue
								}
								s += float64(x.At(b, o/og*cg+c, iy, ix)) * float64(w.At(o, c, ky, kx))
							}
						}
					}
					out = append(out, float32(s))
				}
			}
		}
	}
	return out
}

// naiveConvTranspose2d scatters every input element through the kernel, the
// textbook definition of the transposed convolution.
func naiveConvTranspose2d(x, w, bias *Tensor, p ConvTranspose2dParams, outShape []int) []float32 {
	cp := p.Conv2d()
	n, cin, h, wd := x.Size(0), x.Size(1), x.Size(2), x.Size(3)
	og, kh, kw := w.Size(1), w.Size(2), w.Size(3)
	ig := cin / cp.Groups
	oh, ow := outShape[2], outShape[3]
	cout := og * cp.Groups
	acc := make([]float64, n*cout*oh*ow)
	for b := 0; b < n; b++ {
		for c := 0; c < cin; c++ {
			for i := 0; i < h; i++ {
				for j := 0; j < wd; j++ {
					for o := 0; o < og; o++ {
						for ky := 0; ky < kh; ky++ {
							for kx := 0; kx < kw; kx++ {
								y := i*cp.StrideH - cp.PadH + ky*cp.DilationH
								xx := j*cp.StrideW - cp.PadW + kx*cp.DilationW
								if y < 0 || y >= oh || xx < 0 || xx >= ow {
									continue
								}
								oc := c/ig*og + o
								acc[((b*cout+oc)*oh+y)*ow+xx] += float64(x.At(b, c, i, j)) * float64(w.At(c, o, ky, kx))
							}
						}
					}
				}
			}
		}
	}
	out := make([]float32, len(acc))
	for i, v := range acc {
		if bias != nil {
			v += float64(bias.At(i / (oh * ow) % cout))
		}
		out[i] = float32(v)
	}
	return out
}

func closeSlices(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); !(d <= tol*(1+math.Abs(float64(want[i])))) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

func TestConv2dMatchesNaive(t *testing.T) {
	rng := NewRNG(11)
	cases := []struct {
		name   string
		x, w   []int
		p      Conv2dParams
		bias   bool
		permut bool // feed x as a non-contiguous view
	}{
		{"odd_pad1", []int{2, 3, 7, 5}, []int{4, 3, 3, 3}, Conv2dParams{PadH: 1, PadW: 1}, true, false},
		{"stride2", []int{2, 4, 9, 8}, []int{6, 4, 3, 3}, Conv2dParams{StrideH: 2, StrideW: 2}, true, false},
		{"stride2_pad_asym", []int{1, 2, 8, 7}, []int{3, 2, 3, 2}, Conv2dParams{StrideH: 2, StrideW: 1, PadH: 1, PadW: 2}, false, false},
		{"dilation2", []int{2, 3, 9, 9}, []int{2, 3, 3, 3}, Conv2dParams{PadH: 2, PadW: 2, DilationH: 2, DilationW: 2}, true, false},
		{"groups2", []int{2, 4, 7, 6}, []int{6, 2, 3, 3}, Conv2dParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, Groups: 2}, true, false},
		{"depthwise", []int{2, 5, 6, 7}, []int{5, 1, 3, 3}, Conv2dParams{PadH: 1, PadW: 1, Groups: 5}, true, false},
		{"1x1", []int{3, 5, 4, 3}, []int{7, 5, 1, 1}, Conv2dParams{}, true, false},
		{"patch_embed_stride8", []int{2, 3, 16, 24}, []int{5, 3, 8, 8}, Conv2dParams{StrideH: 8, StrideW: 8}, false, false},
		{"noncontiguous_x", []int{2, 3, 6, 5}, []int{4, 3, 3, 3}, Conv2dParams{PadH: 1, PadW: 1}, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := rng.Normal(c.x...)
			if c.permut { // same logical tensor, strided storage
				x = x.Permute(0, 1, 3, 2).Contiguous().Permute(0, 1, 3, 2)
				if x.IsContiguous() {
					t.Fatal("test setup: view is contiguous")
				}
			}
			w := rng.Normal(c.w...)
			var b *Tensor
			if c.bias {
				b = rng.Normal(c.w[0])
			}
			y := Conv2d(x, w, b, c.p)
			closeSlices(t, "y", y.ToSlice(), naiveConv2d(x, w, b, c.p), 1e-5)
		})
	}
}

func TestConvTranspose2dMatchesNaive(t *testing.T) {
	rng := NewRNG(12)
	cases := []struct {
		name string
		x, w []int
		p    ConvTranspose2dParams
		want []int
	}{
		{"s2_p0", []int{2, 4, 5, 6}, []int{4, 3, 3, 3}, ConvTranspose2dParams{StrideH: 2, StrideW: 2}, []int{2, 3, 11, 13}},
		{"s2_p1_op1_g2", []int{2, 4, 5, 6}, []int{4, 3, 3, 3}, ConvTranspose2dParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, OutPadH: 1, OutPadW: 1, Groups: 2}, []int{2, 6, 10, 12}},
		{"s2_k4", []int{2, 4, 5, 6}, []int{4, 2, 4, 4}, ConvTranspose2dParams{StrideH: 2, StrideW: 2}, []int{2, 2, 12, 14}},
		{"s3_dil2_op_asym", []int{1, 2, 4, 3}, []int{2, 3, 3, 2}, ConvTranspose2dParams{StrideH: 3, StrideW: 2, PadH: 1, OutPadH: 2, OutPadW: 1, DilationH: 2, DilationW: 2}, []int{1, 3, 14, 8}},
		{"s1_pad1", []int{2, 3, 5, 4}, []int{3, 2, 3, 3}, ConvTranspose2dParams{PadH: 1, PadW: 1}, []int{2, 2, 5, 4}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x, w := rng.Normal(c.x...), rng.Normal(c.w...)
			b := rng.Normal(c.want[1])
			y := ConvTranspose2d(x, w, b, c.p)
			if !SameShape(y.Shape(), c.want) {
				t.Fatalf("shape %v, want %v", y.Shape(), c.want)
			}
			closeSlices(t, "y", y.ToSlice(), naiveConvTranspose2d(x, w, b, c.p, c.want), 1e-5)
		})
	}
}

func TestAvgPool2dValues(t *testing.T) {
	// 1 plane 4x4 of 0..15, kernel 3, stride 2, padding 1.
	x := seq(1, 1, 4, 4)
	incl := AvgPool2d(x, 3, 3, 2, 2, 1, 1, true).ToSlice()
	excl := AvgPool2d(x, 3, 3, 2, 2, 1, 1, false).ToSlice()
	// Window (0,0) covers rows/cols -1..1: in-bounds {0,1,4,5}, sum 10.
	// Window (1,1) covers rows/cols 1..3: {5,6,7,9,10,11,13,14,15}, sum 90.
	closeSlices(t, "incl", incl, []float32{10. / 9, (1 + 2 + 3 + 5 + 6 + 7) / 9., (4 + 5 + 8 + 9 + 12 + 13) / 9., 90. / 9}, 1e-6)
	closeSlices(t, "excl", excl, []float32{10. / 4, (1 + 2 + 3 + 5 + 6 + 7) / 6., (4 + 5 + 8 + 9 + 12 + 13) / 6., 90. / 9}, 1e-6)
	gx := AvgPool2dBackward(Ones(1, 1, 2, 2), []int{1, 1, 4, 4}, 3, 3, 2, 2, 1, 1, false)
	// Input (1,1) lies in all four windows: 1/4 + 1/6 + 1/6 + 1/9.
	if got, want := gx.At(0, 0, 1, 1), float32(1./4+1./6+1./6+1./9); math.Abs(float64(got-want)) > 1e-6 {
		t.Fatalf("backward at (1,1) = %v, want %v", got, want)
	}
}

func TestConvShapeErrorsNameArgument(t *testing.T) {
	x := Zeros(2, 4, 5, 5)
	expectPanic(t, "groups", func() { Conv2d(Zeros(2, 5, 5, 5), Zeros(4, 1, 3, 3), nil, Conv2dParams{Groups: 2}) })
	expectPanic(t, "weight output channels", func() { Conv2d(x, Zeros(3, 2, 3, 3), nil, Conv2dParams{Groups: 2}) })
	expectPanic(t, "weight", func() { Conv2d(x, Zeros(6, 3, 3, 3), nil, Conv2dParams{}) })
	expectPanic(t, "output size", func() { Conv2d(x, Zeros(6, 4, 7, 7), nil, Conv2dParams{}) })
	expectPanic(t, "x must be 4-D", func() { Conv2d(Zeros(4, 5, 5), Zeros(6, 4, 3, 3), nil, Conv2dParams{}) })
	expectPanic(t, "weight must be 4-D", func() { Conv2d(x, Zeros(6, 4, 3), nil, Conv2dParams{}) })
	expectPanic(t, "bias", func() { Conv2d(x, Zeros(6, 4, 3, 3), Zeros(5), Conv2dParams{}) })
	expectPanic(t, "stride", func() { Conv2d(x, Zeros(6, 4, 3, 3), nil, Conv2dParams{StrideH: -1}) })
	expectPanic(t, "padding", func() { Conv2d(x, Zeros(6, 4, 3, 3), nil, Conv2dParams{PadW: -1}) })
	expectPanic(t, "gy", func() { Conv2dInputGrad(Zeros(2, 6, 4, 4), Zeros(6, 4, 3, 3), []int{2, 4, 5, 5}, Conv2dParams{}) })
	expectPanic(t, "gy", func() { Conv2dWeightGrad(x, Zeros(2, 5, 3, 3), []int{6, 4, 3, 3}, Conv2dParams{}) })
	expectPanic(t, "weight", func() { ConvTranspose2d(x, Zeros(3, 2, 3, 3), nil, ConvTranspose2dParams{}) })
	expectPanic(t, "groups", func() { ConvTranspose2d(Zeros(1, 3, 4, 4), Zeros(3, 2, 3, 3), nil, ConvTranspose2dParams{Groups: 2}) })
	expectPanic(t, "output_padding", func() {
		ConvTranspose2d(x, Zeros(4, 2, 3, 3), nil, ConvTranspose2dParams{StrideH: 2, StrideW: 2, OutPadH: 2})
	})
	expectPanic(t, "output size", func() { ConvTranspose2d(Zeros(1, 4, 1, 1), Zeros(4, 2, 1, 1), nil, ConvTranspose2dParams{PadH: 1}) })
	expectPanic(t, "bias", func() { ConvTranspose2d(x, Zeros(4, 2, 3, 3), Zeros(3), ConvTranspose2dParams{}) })
	expectPanic(t, "padding", func() { AvgPool2d(x, 2, 2, 2, 2, 2, 0, true) })
	expectPanic(t, "kernel size", func() { AvgPool2d(x, 0, 2, 2, 2, 0, 0, true) })
	expectPanic(t, "output size", func() { AvgPool2d(x, 6, 6, 1, 1, 0, 0, true) })
	expectPanic(t, "gy", func() { AvgPool2dBackward(Zeros(2, 4, 3, 3), []int{2, 4, 5, 5}, 2, 2, 2, 2, 0, 0, true) })
}
