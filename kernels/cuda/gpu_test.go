package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestGPUDevice(t *testing.T) {
	d := gpu(t)
	t.Logf("%s: compute %d.%d, %d SMs, %.1f GiB", d.Props.Name, d.Props.Major, d.Props.Minor, d.Props.SMs, float64(d.Props.TotalMem)/(1<<30))
	tg, err := d.Target()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kernels compiled for %s %s", tg.Arch, tg.Note)
	free, total, err := d.MemInfo()
	if err != nil || free <= 0 || free > total {
		t.Fatalf("MemInfo %d %d %v", free, total, err)
	}
	live0, _ := d.Stats()
	v := []float32{1, 2, 3, 4, 5}
	a := upload(t, d, v)
	b := buf(t, d, 5)
	if err := d.CopyDtoD(b, a, 20); err != nil {
		t.Fatal(err)
	}
	near(t, "DtoD", download(t, d, b, 5), f64(v), 0, 0)
	if err := d.MemsetD32(b, math.Float32bits(-2), 3); err != nil {
		t.Fatal(err)
	}
	near(t, "memset", download(t, d, b, 5), []float64{-2, -2, -2, 4, 5}, 0, 0)
	if live, peak := d.Stats(); live-live0 != 2*sizeClass(20) || peak < live {
		t.Errorf("stats live %d peak %d", live, peak)
	}
	// Do inside Do runs directly instead of deadlocking.
	ran := false
	if err := d.Do(func() error { return d.Do(func() error { ran = true; return nil }) }); err != nil || !ran {
		t.Fatalf("nested Do: %v", err)
	}
	ms, err := d.Time(func() error { return d.MemsetD32(b, 0, 5) })
	if err != nil || ms < 0 {
		t.Fatalf("Time: %v %v", ms, err)
	}
	// A second device handle closes cleanly and refuses work afterwards.
	d2, err := Open(d.Props.Ordinal)
	if err != nil {
		t.Fatal(err)
	}
	p, err := d2.Alloc(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	_ = p
	if err := d2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d2.Synchronize(); err != ErrClosed {
		t.Fatalf("after Close: %v", err)
	}
}

func TestGPUElementwise(t *testing.T) {
	d := gpu(t)
	r := rand.New(rand.NewPCG(1, 2))
	n := 1000
	x := randn(r, n)
	xp := upload(t, d, x)
	y := buf(t, d, n)
	grid := GridStride(int64(n), 256, d.Props.SMs)
	for _, c := range []struct {
		op          int32
		alpha, beta float32
		f           func(x float64) float64
	}{
		{EwExp, 0, 0, math.Exp},
		{EwAffine, 2, -1, func(x float64) float64 { return 2*x - 1 }},
		{EwLrelu, 0.2, 0, func(x float64) float64 { return max(x, 0.2*x) }},
		{EwSoftplus, 0, 0, func(x float64) float64 { return math.Log1p(math.Exp(x)) }},
		{EwGelu, 0, 0, func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }},
		{EwTanh, 0, 0, math.Tanh},
	} {
		run(t, d, "elementwise", "ew_unary_f32", grid, D1(256), 0, c.op, int64(n), c.alpha, c.beta, xp, y)
		want := make([]float64, n)
		for i := range want {
			want[i] = c.f(float64(x[i]))
		}
		near(t, "unary op", download(t, d, y, n), want, 1e-6, 1e-5)
	}

	// Broadcast a [2,3,4] with b [3,1] into a transposed output [4,3,2] layout.
	a := randn(r, 24)
	b := randn(r, 3)
	ap, bp, op := upload(t, d, a), upload(t, d, b), buf(t, d, 24)
	s, err := NewEwShape([]int{2, 3, 4}, []int{12, 4, 1}, []int{0, 1, 0}, []int{1, 2, 6})
	if err != nil {
		t.Fatal(err)
	}
	run(t, d, "elementwise", "ew_binary_strided_f32", D1(1), D1(256), 0, EwSub, s, ap, bp, op)
	want := make([]float64, 24)
	for i := 0; i < 2; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 4; k++ {
				want[i+2*j+6*k] = float64(a[12*i+4*j+k] - b[j])
			}
		}
	}
	near(t, "broadcast sub", download(t, d, op, 24), want, 0, 0)

	// Strided copy = transpose.
	s, _ = NewEwShape([]int{3, 8}, []int{1, 3}, nil, []int{8, 1})
	run(t, d, "elementwise", "ew_unary_strided_f32", D1(1), D1(256), 0, EwCopy, s, float32(0), float32(0), ap, op)
	for i := 0; i < 3; i++ {
		for j := 0; j < 8; j++ {
			want[8*i+j] = float64(a[i+3*j])
		}
	}
	near(t, "transpose", download(t, d, op, 24), want, 0, 0)
}

func TestGPUReduce(t *testing.T) {
	d := gpu(t)
	r := rand.New(rand.NewPCG(3, 4))
	N, C, H, W := 3, 5, 7, 9
	x := randn(r, N*C*H*W)
	xp := upload(t, d, x)
	// Last dim, both kernels, sum and max.
	rows, cols := N*C*H, W
	y := buf(t, d, rows)
	for _, entry := range []string{"reduce_lastdim_f32", "reduce_lastdim_block_f32"} {
		grid := D1(CeilDiv(rows, 8))
		if entry == "reduce_lastdim_block_f32" {
			grid = D1(rows)
		}
		run(t, d, "reduce", entry, grid, D1(256), 0, RedSum, int32(rows), int32(cols), float32(1)/float32(cols), xp, y)
		want := make([]float64, rows)
		for i := range want {
			for j := 0; j < cols; j++ {
				want[i] += float64(x[i*cols+j])
			}
			want[i] /= float64(cols)
		}
		near(t, entry+" mean", download(t, d, y, rows), want, 1e-6, 1e-5)
		run(t, d, "reduce", entry, grid, D1(256), 0, RedMax, int32(rows), int32(cols), float32(1), xp, y)
		for i := range want {
			want[i] = math.Inf(-1)
			for j := 0; j < cols; j++ {
				want[i] = math.Max(want[i], float64(x[i*cols+j]))
			}
		}
		near(t, entry+" max", download(t, d, y, rows), want, 0, 0)
	}
	// Bias gradient shape: sum over (N, H, W) keeping C, both strided kernels.
	s, err := NewRedShape([]int{C}, []int{H * W}, []int{N, H * W}, []int{C * H * W, 1})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, C)
	for n := 0; n < N; n++ {
		for c := 0; c < C; c++ {
			for i := 0; i < H*W; i++ {
				want[c] += float64(x[(n*C+c)*H*W+i])
			}
		}
	}
	yc := buf(t, d, C)
	run(t, d, "reduce", "reduce_strided_warp_f32", D1(CeilDiv(C, 8)), D1(256), 0, RedSum, s, float32(1), xp, yc)
	near(t, "strided warp sum", download(t, d, yc, C), want, 1e-5, 1e-5)
	run(t, d, "reduce", "reduce_strided_thread_f32", D1(1), D1(256), 0, RedSum, s, float32(1), xp, yc)
	near(t, "strided thread sum", download(t, d, yc, C), want, 1e-5, 1e-5)
	d.MemsetD32(yc, poison, int64(C))
	run(t, d, "reduce", "reduce_strided_block_f32", D1(C), D1(256), 0, RedSum, s, float32(1), xp, yc)
	near(t, "strided block sum (flattened)", download(t, d, yc, C), want, 1e-5, 1e-5)
	// The block kernel's nested loops: an inner reduced dim of at least 256.
	{
		const n, c, hw = 3, 5, 300
		xb := randn(rand.New(rand.NewPCG(41, 42)), n*c*hw)
		sb, err := NewRedShape([]int{c}, []int{hw}, []int{n, hw}, []int{c * hw, 1})
		if err != nil {
			t.Fatal(err)
		}
		wb := make([]float64, c)
		mb := make([]float64, c)
		for ci := range mb {
			mb[ci] = math.Inf(-1)
		}
		for ni := 0; ni < n; ni++ {
			for ci := 0; ci < c; ci++ {
				for i := 0; i < hw; i++ {
					v := float64(xb[(ni*c+ci)*hw+i])
					wb[ci] += v
					mb[ci] = math.Max(mb[ci], v)
				}
			}
		}
		xbp, yb := upload(t, d, xb), buf(t, d, c)
		run(t, d, "reduce", "reduce_strided_block_f32", D1(c), D1(256), 0, RedSum, sb, float32(1), xbp, yb)
		near(t, "strided block sum (nested)", download(t, d, yb, c), wb, 1e-5, 1e-5)
		run(t, d, "reduce", "reduce_strided_block_f32", D1(c), D1(256), 0, RedMax, sb, float32(1), xbp, yb)
		near(t, "strided block max (nested)", download(t, d, yb, c), mb, 0, 0)
	}
	// Sum of squares over channels keeping (N, H, W).
	s, _ = NewRedShape([]int{N, H * W}, []int{C * H * W, 1}, []int{C}, []int{H * W})
	yn := buf(t, d, N*H*W)
	run(t, d, "reduce", "reduce_strided_thread_f32", D1(CeilDiv(N*H*W, 256)), D1(256), 0, RedSumSq, s, float32(1), xp, yn)
	want = make([]float64, N*H*W)
	for n := 0; n < N; n++ {
		for i := 0; i < H*W; i++ {
			for c := 0; c < C; c++ {
				v := float64(x[(n*C+c)*H*W+i])
				want[n*H*W+i] += v * v
			}
		}
	}
	near(t, "channel sumsq", download(t, d, yn, N*H*W), want, 1e-5, 1e-5)
}

func TestGPUSgemm(t *testing.T) {
	d := gpu(t)
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct {
		M, N, K, batch int
		ta, tb         bool
		beta           float32
	}{
		{128, 128, 8, 1, false, false, 0},
		{200, 300, 77, 2, false, false, 0},
		{130, 257, 129, 1, true, false, 0.5},
		{129, 65, 200, 3, false, true, 0},
		{256, 192, 64, 1, true, true, 1},
		{7, 300, 33, 2, false, false, 0},
		{4, 5, 6, 1, true, true, 0},
		{16, 100, 600, 2, true, false, 0.5}, // few rows, long K: sgemm_skinny_f32's case
		{20, 64, 8200, 1, false, true, 0},
	} {
		A := randn(r, c.batch*c.M*c.K)
		B := randn(r, c.batch*c.K*c.N)
		C0 := randn(r, c.batch*c.M*c.N)
		p := GemmParams{M: int32(c.M), N: int32(c.N), K: int32(c.K), Alpha: 1.5, Beta: c.beta,
			ABatch: int64(c.M * c.K), BBatch: int64(c.K * c.N), CBatch: int64(c.M * c.N), CRow: int64(c.N), CCol: 1}
		aAt := func(z, m, k int) float32 { return A[z*c.M*c.K+m*c.K+k] }
		if c.ta { // A stored [K, M]
			p.ARow, p.ACol = 1, int64(c.M)
			aAt = func(z, m, k int) float32 { return A[z*c.M*c.K+k*c.M+m] }
		} else {
			p.ARow, p.ACol = int64(c.K), 1
		}
		bAt := func(z, k, n int) float32 { return B[z*c.K*c.N+k*c.N+n] }
		if c.tb { // B stored [N, K]
			p.BRow, p.BCol = 1, int64(c.K)
			bAt = func(z, k, n int) float32 { return B[z*c.K*c.N+n*c.K+k] }
		} else {
			p.BRow, p.BCol = int64(c.N), 1
		}
		want := make([]float64, len(C0))
		for z := 0; z < c.batch; z++ {
			for m := 0; m < c.M; m++ {
				for n := 0; n < c.N; n++ {
					var s float64
					for k := 0; k < c.K; k++ {
						s += float64(aAt(z, m, k)) * float64(bAt(z, k, n))
					}
					i := z*c.M*c.N + m*c.N + n
					want[i] = 1.5*s + float64(c.beta)*float64(C0[i])
				}
			}
		}
		ap, bp := upload(t, d, A), upload(t, d, B)
		plans := []LaunchPlan{{File: "sgemm.cu", Entry: "sgemm_small_f32", Grid: D3(CeilDiv(c.N, 16), CeilDiv(c.M, 16), c.batch), Block: D3(16, 16, 1)},
			PlanSgemmSkinny(p, c.batch)}
		for _, k := range SgemmKernelsFor(d.Props.CC()) { // the tensor-core tiles from sm_80
			plans = append(plans, PlanSgemmKernel(p, c.batch, k))
		}
		for _, pl := range plans {
			cp := upload(t, d, C0)
			if c.beta == 0 {
				d.MemsetD32(cp, poison, int64(len(C0))) // beta 0 must not read C
			}
			runPlan(t, d, pl, p, ap, bp, cp)
			near(t, pl.Entry, download(t, d, cp, len(C0)), want, 1e-4*math.Sqrt(float64(c.K)), 1e-4)
		}
	}
}

// convRef computes conv2d and both gradients in float64.
func convRef(p ConvParams, x, w, dy []float32) (y, dx, dw []float64) {
	N, C, H, W := int(p.N), int(p.C), int(p.H), int(p.W)
	O, KH, KW, G := int(p.O), int(p.KH), int(p.KW), int(p.Groups)
	OH, OW := int(p.OH), int(p.OW)
	Cg, Og := C/G, O/G
	y = make([]float64, N*O*OH*OW)
	dx = make([]float64, len(x))
	dw = make([]float64, len(w))
	for n := 0; n < N; n++ {
		for o := 0; o < O; o++ {
			g := o / Og
			for oh := 0; oh < OH; oh++ {
				for ow := 0; ow < OW; ow++ {
					yi := ((n*O+o)*OH+oh)*OW + ow
					for c := 0; c < Cg; c++ {
						for kh := 0; kh < KH; kh++ {
							for kw := 0; kw < KW; kw++ {
								ih := oh*int(p.StrideH) - int(p.PadH) + kh*int(p.DilH)
								iw := ow*int(p.StrideW) - int(p.PadW) + kw*int(p.DilW)
								if ih < 0 || iw < 0 || ih >= H || iw >= W {
									continue
								}
								xi := ((n*C+g*Cg+c)*H+ih)*W + iw
								wi := ((o*Cg+c)*KH+kh)*KW + kw
								y[yi] += float64(x[xi]) * float64(w[wi])
								dx[xi] += float64(dy[yi]) * float64(w[wi])
								dw[wi] += float64(dy[yi]) * float64(x[xi])
							}
						}
					}
				}
			}
		}
	}
	return y, dx, dw
}

func TestGPUConv2d(t *testing.T) {
	d := gpu(t)
	r := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct{ N, C, H, W, O, K, stride, pad, dil, groups int }{
		{2, 3, 9, 11, 5, 3, 1, 1, 1, 1},
		{2, 16, 8, 8, 70, 3, 2, 1, 1, 1},
		{1, 8, 10, 7, 8, 1, 1, 0, 1, 1},
		{2, 6, 9, 9, 4, 3, 1, 2, 2, 2},
		{3, 12, 6, 6, 9, 3, 1, 1, 1, 3}, // grouped, as the fused modulated conv with N = 3
		{1, 4, 5, 5, 3, 4, 2, 0, 1, 1},
		{2, 136, 7, 9, 130, 3, 1, 1, 1, 1},  // past one 128 tile in rows, columns and k
		{3, 20, 10, 10, 140, 3, 2, 1, 1, 2}, // stride 2, groups 2, odd k
		{2, 130, 5, 6, 129, 1, 1, 0, 1, 1},  // 1x1
		{2, 130, 8, 12, 131, 3, 1, 1, 1, 1}, // OW % 4 == 0: the weight gradient's row-wise loads
	} {
		p := ConvParams{N: int32(c.N), C: int32(c.C), H: int32(c.H), W: int32(c.W), O: int32(c.O), KH: int32(c.K), KW: int32(c.K),
			Groups: int32(c.groups), StrideH: int32(c.stride), StrideW: int32(c.stride), PadH: int32(c.pad), PadW: int32(c.pad),
			DilH: int32(c.dil), DilW: int32(c.dil)}
		p.OH = int32(ConvOutSize(c.H, c.K, c.stride, c.pad, c.dil))
		p.OW = int32(ConvOutSize(c.W, c.K, c.stride, c.pad, c.dil))
		x := randn(r, c.N*c.C*c.H*c.W)
		w := randn(r, c.O*c.C/c.groups*c.K*c.K)
		bias := randn(r, c.O)
		dy := randn(r, c.N*c.O*int(p.OH*p.OW))
		y, dx, dw := convRef(p, x, w, dy)
		for i := range y {
			y[i] += float64(bias[(i/int(p.OH*p.OW))%c.O])
		}
		xp, wp, bp, dyp := upload(t, d, x), upload(t, d, w), upload(t, d, bias), upload(t, d, dy)
		yp, dxp, dwp := buf(t, d, len(y)), buf(t, d, len(x)), buf(t, d, len(w))
		tol := 1e-5 * float64(c.C*c.K*c.K)
		for _, tile := range []int{ConvTile64, ConvTile128} { // both kernels on every case
			name := fmt.Sprintf("%+v tile %d", c, tile)
			d.MemsetD32(yp, poison, int64(len(y)))
			pl, _ := PlanConv2dTile(ConvForward, p, d.Props.SMs, tile)
			runPlan(t, d, pl, p, xp, wp, bp, yp, float32(0))
			near(t, "conv fwd "+name, download(t, d, yp, len(y)), y, tol, 1e-4)
			d.MemsetD32(dxp, poison, int64(len(x)))
			pl, _ = PlanConv2dTile(ConvInputGrad, p, d.Props.SMs, tile)
			runPlan(t, d, pl, p, dyp, wp, dxp, float32(0))
			near(t, "conv dgrad "+name, download(t, d, dxp, len(x)), dx, tol, 1e-4)
			pl, ks := PlanConv2dTile(ConvWeightGrad, p, d.Props.SMs, tile)
			d.MemsetD32(dwp, 0, int64(len(w)))
			runPlan(t, d, pl, p, ks, xp, dyp, dwp)
			near(t, "conv wgrad "+name, download(t, d, dwp, len(w)), dw, 1e-4*float64(c.N*int(p.OH*p.OW)), 1e-4)
		}
	}
}

// modConvRef is conv2d_modfwd_f32's contract in float64: z = conv(x·s, w),
// y = z·d + noise·gain (nil s, d, noise: factor 1, no noise).
func modConvRef(p ConvParams, x, w, s, dsc, noise []float32, nStride int, gain float64) (y, z []float64) {
	N, C, H, W := int(p.N), int(p.C), int(p.H), int(p.W)
	O, KH, KW, G := int(p.O), int(p.KH), int(p.KW), int(p.Groups)
	OH, OW := int(p.OH), int(p.OW)
	Cg, Og := C/G, O/G
	z = make([]float64, N*O*OH*OW)
	y = make([]float64, len(z))
	for n := 0; n < N; n++ {
		for o := 0; o < O; o++ {
			g := o / Og
			for oh := 0; oh < OH; oh++ {
				for ow := 0; ow < OW; ow++ {
					var acc float64
					for c := 0; c < Cg; c++ {
						sc := 1.0
						if s != nil {
							sc = float64(s[n*C+g*Cg+c])
						}
						for kh := 0; kh < KH; kh++ {
							for kw := 0; kw < KW; kw++ {
								ih := oh*int(p.StrideH) - int(p.PadH) + kh*int(p.DilH)
								iw := ow*int(p.StrideW) - int(p.PadW) + kw*int(p.DilW)
								if ih < 0 || iw < 0 || ih >= H || iw >= W {
									continue
								}
								acc += float64(x[((n*C+g*Cg+c)*H+ih)*W+iw]) * sc * float64(w[((o*Cg+c)*KH+kh)*KW+kw])
							}
						}
					}
					yi := ((n*O+o)*OH+oh)*OW + ow
					z[yi] = acc
					if dsc != nil {
						acc *= float64(dsc[n*O+o])
					}
					if noise != nil {
						acc += float64(noise[n*nStride+oh*OW+ow]) * gain
					}
					y[yi] = acc
				}
			}
		}
	}
	return y, z
}

// TestGPUModConv2d checks conv2d_modfwd_f32 (the modulated forward: styles on
// the input tile, demodulation and noise in the epilogue) against modConvRef,
// with each optional operand present and absent, outputs poisoned.
func TestGPUModConv2d(t *testing.T) {
	d := gpu(t)
	r := rand.New(rand.NewPCG(27, 28))
	for _, c := range []struct {
		N, C, H, W, O, K, stride, pad, groups int
		inScale, outScale, keepZ, gain        bool
		noise                                 int // 0 none, 1 per sample [N,1,OH,OW], 2 shared [OH,OW]
	}{
		{2, 3, 9, 11, 5, 3, 1, 1, 1, true, true, true, true, 1},
		{3, 16, 8, 8, 70, 3, 1, 1, 1, true, true, false, false, 2}, // O > 64: two row tiles; gain null
		{2, 40, 7, 9, 33, 3, 1, 1, 1, true, false, true, true, 0},  // styles only (ToRGB-like without 1x1)
		{4, 24, 4, 4, 3, 1, 1, 0, 1, true, false, false, false, 0}, // 1x1, ToRGB
		{2, 8, 9, 9, 6, 3, 2, 1, 2, true, true, true, true, 1},     // stride 2, groups 2
		{1, 5, 6, 5, 4, 3, 1, 1, 1, false, true, true, true, 1},    // no input scale
		{5, 12, 5, 5, 9, 3, 1, 1, 1, false, false, false, false, 0},
		{2, 132, 8, 7, 131, 3, 1, 1, 1, true, true, true, true, 1}, // past one 128 tile
	} {
		p := ConvParams{N: int32(c.N), C: int32(c.C), H: int32(c.H), W: int32(c.W), O: int32(c.O), KH: int32(c.K), KW: int32(c.K),
			Groups: int32(c.groups), StrideH: int32(c.stride), StrideW: int32(c.stride), PadH: int32(c.pad), PadW: int32(c.pad),
			DilH: 1, DilW: 1}
		p.OH = int32(ConvOutSize(c.H, c.K, c.stride, c.pad, 1))
		p.OW = int32(ConvOutSize(c.W, c.K, c.stride, c.pad, 1))
		OHW := int(p.OH * p.OW)
		x := randn(r, c.N*c.C*c.H*c.W)
		w := randn(r, c.O*c.C/c.groups*c.K*c.K)
		var s, dsc, noise []float32
		sp, dp, np, gp := DevicePtr(0), DevicePtr(0), DevicePtr(0), DevicePtr(0)
		if c.inScale {
			s = randn(r, c.N*c.C)
			sp = upload(t, d, s)
		}
		if c.outScale {
			dsc = randn(r, c.N*c.O)
			dp = upload(t, d, dsc)
		}
		nStride := 0
		switch c.noise {
		case 1:
			noise, nStride = randn(r, c.N*OHW), OHW
		case 2:
			noise = randn(r, OHW)
		}
		if noise != nil {
			np = upload(t, d, noise)
		}
		gain := 1.0
		if c.gain {
			gain = 0.37
			gp = upload(t, d, []float32{0.37})
		}
		y, z := modConvRef(p, x, w, s, dsc, noise, nStride, gain)
		xp, wp := upload(t, d, x), upload(t, d, w)
		yp, zp := buf(t, d, len(y)), DevicePtr(0)
		if c.keepZ {
			zp = buf(t, d, len(z))
		}
		for _, tile := range []int{ConvTile64, ConvTile128} {
			pl, _ := PlanConv2dTile(ConvModForward, p, d.Props.SMs, tile)
			if !strings.HasPrefix(pl.Entry, "conv2d_modfwd") {
				t.Fatalf("plan %+v", pl)
			}
			d.MemsetD32(yp, poison, int64(len(y)))
			if c.keepZ {
				d.MemsetD32(zp, poison, int64(len(z)))
			}
			runPlan(t, d, pl, p, xp, wp, sp, dp, np, gp, int32(nStride), yp, zp)
			name := fmt.Sprintf("modconv %+v %s", c, pl.Entry)
			tol := 1e-5 * float64(c.C/c.groups*c.K*c.K)
			near(t, name+" y", download(t, d, yp, len(y)), y, tol, 1e-4)
			if c.keepZ {
				near(t, name+" z", download(t, d, zp, len(z)), z, tol, 1e-4)
			}
		}
	}
}

func TestGPUSoftmaxLayerNorm(t *testing.T) {
	d := gpu(t)
	r := rand.New(rand.NewPCG(9, 10))
	for _, cols := range []int{77, 1500} {
		rows := 13
		x := randn(r, rows*cols)
		for i := range x {
			x[i] *= 5
		}
		dy := randn(r, rows*cols)
		xp, dyp := upload(t, d, x), upload(t, d, dy)
		yp, dxp := buf(t, d, rows*cols), buf(t, d, rows*cols)
		for _, log := range []int32{0, 1} {
			want := make([]float64, rows*cols)
			wantDx := make([]float64, rows*cols)
			for i := 0; i < rows; i++ {
				m := math.Inf(-1)
				for j := 0; j < cols; j++ {
					m = math.Max(m, float64(x[i*cols+j]))
				}
				var s float64
				for j := 0; j < cols; j++ {
					s += math.Exp(float64(x[i*cols+j]) - m)
				}
				var dot, sdy float64
				for j := 0; j < cols; j++ {
					sm := math.Exp(float64(x[i*cols+j])-m) / s
					if log == 1 {
						want[i*cols+j] = float64(x[i*cols+j]) - m - math.Log(s)
					} else {
						want[i*cols+j] = sm
					}
					dot += float64(dy[i*cols+j]) * sm
					sdy += float64(dy[i*cols+j])
				}
				for j := 0; j < cols; j++ {
					sm := math.Exp(float64(x[i*cols+j])-m) / s
					if log == 1 {
						wantDx[i*cols+j] = float64(dy[i*cols+j]) - sm*sdy
					} else {
						wantDx[i*cols+j] = sm * (float64(dy[i*cols+j]) - dot)
					}
				}
			}
			for _, kind := range []string{"block", "warp"} {
				grid := D1(rows)
				if kind == "warp" {
					grid = D1(CeilDiv(rows, 8))
				}
				run(t, d, "softmax", "softmax_fwd_"+kind+"_f32", grid, D1(256), 0, int32(rows), int32(cols), log, xp, yp)
				near(t, "softmax fwd "+kind, download(t, d, yp, rows*cols), want, 1e-6, 1e-5)
				run(t, d, "softmax", "softmax_bwd_"+kind+"_f32", grid, D1(256), 0, int32(rows), int32(cols), log, yp, dyp, dxp)
				near(t, "softmax bwd "+kind, download(t, d, dxp, rows*cols), wantDx, 1e-5, 1e-4)
			}
		}

		// Layer norm with affine parameters.
		gamma, beta := randn(r, cols), randn(r, cols)
		gp, bp := upload(t, d, gamma), upload(t, d, beta)
		mp, rp := buf(t, d, rows), buf(t, d, rows)
		const eps = 1e-5
		run(t, d, "layernorm", "layernorm_fwd_f32", D1(rows), D1(256), 0, int32(rows), int32(cols), float32(eps), xp, gp, bp, yp, mp, rp)
		want := make([]float64, rows*cols)
		wantDx := make([]float64, rows*cols)
		wantDg, wantDb := make([]float64, cols), make([]float64, cols)
		for i := 0; i < rows; i++ {
			var mu, v float64
			for j := 0; j < cols; j++ {
				mu += float64(x[i*cols+j])
			}
			mu /= float64(cols)
			for j := 0; j < cols; j++ {
				v += (float64(x[i*cols+j]) - mu) * (float64(x[i*cols+j]) - mu)
			}
			rs := 1 / math.Sqrt(v/float64(cols)+eps)
			var s1, s2 float64
			for j := 0; j < cols; j++ {
				h := (float64(x[i*cols+j]) - mu) * rs
				want[i*cols+j] = h*float64(gamma[j]) + float64(beta[j])
				g := float64(dy[i*cols+j]) * float64(gamma[j])
				s1 += g
				s2 += g * h
				wantDg[j] += float64(dy[i*cols+j]) * h
				wantDb[j] += float64(dy[i*cols+j])
			}
			for j := 0; j < cols; j++ {
				h := (float64(x[i*cols+j]) - mu) * rs
				g := float64(dy[i*cols+j]) * float64(gamma[j])
				wantDx[i*cols+j] = rs * (g - s1/float64(cols) - h*s2/float64(cols))
			}
		}
		near(t, "layernorm fwd", download(t, d, yp, rows*cols), want, 1e-5, 1e-5)
		run(t, d, "layernorm", "layernorm_bwd_dx_f32", D1(rows), D1(128), 0, int32(rows), int32(cols), xp, dyp, gp, mp, rp, dxp)
		near(t, "layernorm dx", download(t, d, dxp, rows*cols), wantDx, 1e-4, 1e-4)
		dgp, dbp := buf(t, d, cols), buf(t, d, cols)
		d.MemsetD32(dgp, 0, int64(cols))
		d.MemsetD32(dbp, 0, int64(cols))
		run(t, d, "layernorm", "layernorm_bwd_params_f32", D3(CeilDiv(cols, 256), CeilDiv(rows, 4), 1), D1(256), 0,
			int32(rows), int32(cols), int32(4), xp, dyp, mp, rp, dgp, dbp)
		near(t, "layernorm dgamma", download(t, d, dgp, cols), wantDg, 1e-4, 1e-4)
		near(t, "layernorm dbeta", download(t, d, dbp, cols), wantDb, 1e-4, 1e-4)
	}
}

func TestGPUEmbeddingPhiloxAdam(t *testing.T) {
	d := gpu(t)
	r := rand.New(rand.NewPCG(11, 12))
	vocab, dim, n := 10, 33, 7
	table := randn(r, vocab*dim)
	idx := []int32{3, 0, 9, 3, -1, 10, 5}
	tp, op := upload(t, d, table), buf(t, d, n*dim)
	ip, err := d.Alloc(4 * int64(n))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Free(ip)
	d.CopyHtoDI32(ip, idx)
	run(t, d, "embedding", "embedding_fwd_f32", D1(2), D1(256), 0, int32(n), int32(dim), int32(vocab), ip, tp, op)
	want := make([]float64, n*dim)
	wantGrad := make([]float64, vocab*dim)
	dout := randn(r, n*dim)
	for i, k := range idx {
		for j := 0; j < dim; j++ {
			if k >= 0 && int(k) < vocab {
				want[i*dim+j] = float64(table[int(k)*dim+j])
				wantGrad[int(k)*dim+j] += float64(dout[i*dim+j])
			}
		}
	}
	near(t, "embedding fwd", download(t, d, op, n*dim), want, 0, 0)
	dop, dtp := upload(t, d, dout), buf(t, d, vocab*dim)
	d.MemsetD32(dtp, 0, int64(vocab*dim))
	run(t, d, "embedding", "embedding_bwd_f32", D1(2), D1(256), 0, int32(n), int32(dim), int32(vocab), ip, dop, dtp)
	near(t, "embedding bwd", download(t, d, dtp, vocab*dim), wantGrad, 1e-6, 1e-6)

	// Philox: the GPU draws the Go reference's numbers.
	m := 1001
	up := buf(t, d, m)
	run(t, d, "philox", "philox_uniform_f32", GridStride(int64(m+3)/4, 256, d.Props.SMs), D1(256), 0,
		int64(m), uint64(1234567890123), uint64(42), float32(0), float32(1), up)
	u := make([]float32, m)
	PhiloxUniform(u, 1234567890123, 42, 0, 1)
	near(t, "philox uniform (bit-exact)", download(t, d, up, m), f64(u), 0, 0)
	run(t, d, "philox", "philox_normal_f32", D1(1), D1(64), 0, int64(m), uint64(7), uint64(0), float32(1), float32(2), up)
	PhiloxNormal(u, 7, 0, 1, 2)
	near(t, "philox normal", download(t, d, up, m), f64(u), 1e-5, 1e-5)

	// Adam, one step with NaN scrubbing.
	k := 300
	p0, g, m0 := randn(r, k), randn(r, k), randn(r, k)
	v0 := make([]float32, k)
	for i := range v0 {
		v0[i] = float32(r.Float64())
	}
	g[5] = float32(math.NaN())
	g[9] = float32(math.Inf(-1))
	pp, gp, mp, vp := upload(t, d, p0), upload(t, d, g), upload(t, d, m0), upload(t, d, v0)
	lr, b1, b2, eps, wd, gs := 0.0025, 0.0, 0.99, 1e-8, 0.01, 0.5
	tstep := 3.0
	bc1, bc2 := 1-math.Pow(b1, tstep), 1-math.Pow(b2, tstep)
	run(t, d, "adam", "adam_step_f32", D1(2), D1(256), 0, int64(k), float32(lr), float32(b1), float32(b2), float32(eps),
		float32(wd), float32(bc1), float32(bc2), float32(gs), float32(1e5), pp, gp, mp, vp)
	wantP := make([]float64, k)
	for i := range wantP {
		gi := float64(g[i]) * gs
		if math.IsNaN(gi) {
			gi = 0
		}
		if math.IsInf(gi, 0) {
			gi = math.Copysign(1e5, gi)
		}
		gi += wd * float64(p0[i])
		mi := b1*float64(m0[i]) + (1-b1)*gi
		vi := b2*float64(v0[i]) + (1-b2)*gi*gi
		wantP[i] = float64(p0[i]) - lr/bc1*mi/(math.Sqrt(vi)/math.Sqrt(bc2)+eps)
	}
	near(t, "adam p", download(t, d, pp, k), wantP, 1e-6, 1e-5)
}

// biasActRef is the reference bias_act (REFERENCE.md section 1) in float64.
func biasActRef(act, grad int, alpha, gain, clamp, x, b, xref, yref, dy float64) float64 {
	yy := 0.0
	if gain != 0 {
		yy = yref / gain
	}
	if grad == 0 {
		x += b
	} else {
		xref += b
	}
	y := 0.0
	switch act {
	case 1:
		if grad < 2 {
			y = x
		}
	case 2, 3:
		a := 0.0
		if act == 3 {
			a = alpha
		}
		// Written as the kernel's comparisons, so NaN takes the same branch.
		if grad == 0 {
			if x > 0 {
				y = x
			} else if act == 3 {
				y = a * x
			}
		} else if grad == 1 {
			if yy > 0 {
				y = x
			} else {
				y = a * x
			}
		}
	case 4:
		switch grad {
		case 0:
			y = math.Tanh(x)
		case 1:
			y = x * (1 - yy*yy)
		case 2:
			y = x * (1 - yy*yy) * (-2 * yy)
		}
	case 5:
		switch grad {
		case 0:
			y = 1 / (1 + math.Exp(-x))
		case 1:
			y = x * yy * (1 - yy)
		case 2:
			y = x * yy * (1 - yy) * (1 - 2*yy)
		}
	case 6, 7:
		sc, al := 1.0, 1.0
		if act == 7 {
			sc, al = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717
		}
		switch grad {
		case 0:
			if x >= 0 {
				y = sc * x
			} else {
				y = sc * al * (math.Exp(x) - 1)
			}
		case 1:
			if yy >= 0 {
				y = x * sc
			} else {
				y = x * (yy + sc*al)
			}
		case 2:
			if yy < 0 {
				y = x * (yy + sc*al)
			}
		}
	case 8:
		switch grad {
		case 0:
			y = math.Log1p(math.Exp(x))
		case 1:
			y = x * (1 - math.Exp(-yy))
		case 2:
			c := math.Exp(-yy)
			y = x * c * (1 - c)
		}
	case 9:
		if grad == 0 {
			y = x / (1 + math.Exp(-x))
		} else {
			c := math.Exp(xref)
			dd := c + 1
			if grad == 1 {
				y = x * c * (xref + dd) / (dd * dd)
			} else {
				y = x * c * (xref*(2-dd) + 2*dd) / (dd * dd * dd)
			}
			yref = 0
		}
	}
	y *= gain * dy
	if clamp >= 0 {
		if grad == 0 {
			if !(y > -clamp && y < clamp) {
				if y >= 0 {
					y = clamp
				} else {
					y = -clamp // NaN too
				}
			}
		} else if !(yref > -clamp && yref < clamp) {
			y = 0
		}
	}
	return y
}

func TestGPUBiasAct(t *testing.T) {
	d := gpu(t)
	r := rand.New(rand.NewPCG(13, 14))
	N, C, HW := 2, 3, 20 // step_b = 20: the vector path shares one bias per float4
	n := N * C * HW
	x := randn(r, n+1)
	for i := range x {
		x[i] *= 3
	}
	x[7] = float32(math.NaN())
	b, dyv := randn(r, C), randn(r, n+1)
	xp, bp, dyp := upload(t, d, x), upload(t, d, b), upload(t, d, dyv)
	yp, gp := buf(t, d, n+1), buf(t, d, n+1)
	for act := int32(1); act <= 9; act++ {
		gain := float32(1)
		if act == ActRelu || act == ActLrelu || act == ActSwish {
			gain = float32(math.Sqrt2)
		}
		for _, clamp := range []float32{-1, 2} {
			// offset 0: aligned float4 path; offset 1: scalar path.
			for _, off := range []int{0, 1} {
				bpOff := DevicePtr(4 * off)
				p := BiasActParams{Act: act, Grad: 0, Alpha: 0.2, Gain: gain, Clamp: clamp, SizeX: int32(n), SizeB: int32(C), StepB: int32(HW)}
				run(t, d, "bias_act", "bias_act_f32", D1(1), D1(256), 0, p, xp+bpOff, bp, DevicePtr(0), DevicePtr(0), DevicePtr(0), yp+bpOff)
				want := make([]float64, n)
				for i := range want {
					want[i] = biasActRef(int(act), 0, 0.2, float64(gain), float64(clamp), float64(x[i+off]), float64(b[(i/HW)%C]), 0, 0, 1)
				}
				y := download(t, d, yp, n+1)[off : n+off]
				near(t, "bias_act fwd", y, want, 1e-6, 1e-5)
				// First-order gradient: x = dy, xref = x, yref = y.
				p.Grad = 1
				run(t, d, "bias_act", "bias_act_f32", D1(1), D1(256), 0, p, dyp+bpOff, bp, xp+bpOff, yp+bpOff, DevicePtr(0), gp+bpOff)
				for i := range want {
					want[i] = biasActRef(int(act), 1, 0.2, float64(gain), float64(clamp), float64(dyv[i+off]), float64(b[(i/HW)%C]),
						float64(x[i+off]), float64(y[i]), 1)
				}
				near(t, "bias_act grad", download(t, d, gp, n+1)[off:n+off], want, 1e-5, 1e-4)
			}
		}
	}
}

// upfirdnRef is the closed form of REFERENCE.md section 2 in float64.
func upfirdnRef(p UpfirdnParams, x, f []float32) []float64 {
	y := make([]float64, int(p.Major*p.OutH*p.OutW))
	fh, fw := int(p.FH), int(p.FW)
	for pl := 0; pl < int(p.Major); pl++ {
		for oy := 0; oy < int(p.OutH); oy++ {
			for ox := 0; ox < int(p.OutW); ox++ {
				var acc float64
				for ky := 0; ky < fh; ky++ {
					for kx := 0; kx < fw; kx++ {
						uy := oy*int(p.DownY) + ky - int(p.PadY0)
						ux := ox*int(p.DownX) + kx - int(p.PadX0)
						if uy < 0 || ux < 0 || uy%int(p.UpY) != 0 || ux%int(p.UpX) != 0 {
							continue
						}
						iy, ix := uy/int(p.UpY), ux/int(p.UpX)
						if iy >= int(p.InH) || ix >= int(p.InW) {
							continue
						}
						fv := f[(fh-1-ky)*fw+fw-1-kx]
						if p.Flip != 0 {
							fv = f[ky*fw+kx]
						}
						acc += float64(x[(pl*int(p.InH)+iy)*int(p.InW)+ix]) * float64(fv)
					}
				}
				y[(pl*int(p.OutH)+oy)*int(p.OutW)+ox] = float64(p.Gain) * acc
			}
		}
	}
	return y
}

func TestGPUUpfirdn2d(t *testing.T) {
	d := gpu(t)
	r := rand.New(rand.NewPCG(15, 16))
	f4 := []float32{1, 3, 3, 1}
	outer := make([]float32, 16)
	for i := range outer {
		outer[i] = f4[i/4] * f4[i%4] / 64
	}
	for _, c := range []struct {
		name                              string
		major, inH, inW, up, down, fh, fw int
		px0, px1, py0, py1                int
		flip                              int32
		gain                              float32
		f                                 []float32
	}{
		{"upsample2d", 6, 37, 40, 2, 1, 4, 4, 2, 1, 2, 1, 0, 4, outer},
		{"downsample2d", 6, 70, 66, 1, 2, 4, 4, 1, 1, 1, 1, 0, 1, outer},
		{"modconv up FIR", 3, 35, 35, 1, 1, 4, 4, 1, 1, 1, 1, 0, 4, outer},
		{"D 3x3 down FIR", 3, 34, 34, 1, 1, 4, 4, 2, 2, 2, 2, 1, 1, outer},
		{"odd 3x5 up2", 2, 20, 23, 2, 1, 3, 5, 3, 0, 1, 2, 0, 1.5, nil},
		{"odd 5x3 down2 crop", 2, 41, 40, 1, 2, 5, 3, -2, 1, 0, -1, 1, 1, nil},
		{"up3 down2", 2, 17, 19, 3, 2, 6, 6, 2, 3, 1, 4, 0, 1, nil},
		{"separable 1x12", 2, 16, 50, 1, 1, 1, 12, 6, 5, 0, 0, 1, 1, nil},
	} {
		f := c.f
		if f == nil {
			f = randn(r, c.fh*c.fw)
		}
		p := UpfirdnParams{Major: int32(c.major), InH: int32(c.inH), InW: int32(c.inW), UpX: int32(c.up), UpY: int32(c.up),
			DownX: int32(c.down), DownY: int32(c.down), PadX0: int32(c.px0), PadX1: int32(c.px1), PadY0: int32(c.py0), PadY1: int32(c.py1),
			FH: int32(c.fh), FW: int32(c.fw), Flip: c.flip, Gain: c.gain}
		p.OutH = int32(UpfirdnOutSize(c.inH, c.up, c.down, c.py0, c.py1, c.fh))
		p.OutW = int32(UpfirdnOutSize(c.inW, c.up, c.down, c.px0, c.px1, c.fw))
		x := randn(r, c.major*c.inH*c.inW)
		want := upfirdnRef(p, x, f)
		xp, fp := upload(t, d, x), upload(t, d, f)
		yp := buf(t, d, len(want))
		plan := PlanUpfirdn2d(p, d.Props.MaxSharedOptin, d.Props.SMs)
		plans := []LaunchPlan{plan}
		if plan.Entry != "upfirdn2d_f32" && plan.Entry != "upfirdn2d_direct_f32" {
			g := plan
			g.Entry = "upfirdn2d_f32"
			g.Grid = D3(CeilDiv(int(p.OutW), 32), CeilDiv(int(p.OutH), 32), min(int(p.Major), 65535))
			g.Shared = UpfirdnSharedBytes(p) // the up-2 kernel takes none
			plans = append(plans, g)
		}
		plans = append(plans, LaunchPlan{File: "upfirdn2d.cu", Entry: "upfirdn2d_direct_f32", Grid: D1(7), Block: D1(256)})
		for _, pl := range plans {
			d.MemsetD32(yp, poison, int64(len(want)))
			runPlan(t, d, pl, p, xp, fp, yp)
			near(t, c.name+" "+pl.Entry, download(t, d, yp, len(want)), want, 1e-5, 1e-5)
		}
	}
}

func TestGPUModulateMbstd(t *testing.T) {
	d := gpu(t)
	r := rand.New(rand.NewPCG(17, 18))
	N, O, I, KK := 3, 37, 45, 9
	w, s := randn(r, O*I*KK), randn(r, N*I)
	wp, sp := upload(t, d, w), upload(t, d, s)
	wsq, dp, wout := buf(t, d, O*I), buf(t, d, N*O), buf(t, d, N*O*I*KK)
	run(t, d, "modulate", "modconv_wsq_f32", D1(CeilDiv(O*I, 256)), D1(256), 0, int32(O), int32(I), int32(KK), wp, wsq)
	run(t, d, "modulate", "modconv_demod_f32", D1(CeilDiv(N*O, 8)), D1(256), 0, int32(N), int32(O), int32(I), float32(1e-8), sp, wsq, dp)
	run(t, d, "modulate", "modconv_weight_f32", D1(4), D1(256), 0, int32(N), int32(O), int32(I), int32(KK), wp, sp, dp, wout)
	wantD := make([]float64, N*O)
	wantW := make([]float64, N*O*I*KK)
	for n := 0; n < N; n++ {
		for o := 0; o < O; o++ {
			var acc float64
			for i := 0; i < I; i++ {
				for k := 0; k < KK; k++ {
					v := float64(w[(o*I+i)*KK+k]) * float64(s[n*I+i])
					acc += v * v
				}
			}
			wantD[n*O+o] = 1 / math.Sqrt(acc+1e-8)
			for i := 0; i < I; i++ {
				for k := 0; k < KK; k++ {
					wantW[((n*O+o)*I+i)*KK+k] = float64(w[(o*I+i)*KK+k]) * float64(s[n*I+i]) * wantD[n*O+o]
				}
			}
		}
	}
	near(t, "demod", download(t, d, dp, N*O), wantD, 1e-6, 1e-4)
	near(t, "modulated weight", download(t, d, wout, N*O*I*KK), wantW, 1e-6, 1e-4)

	// Minibatch std, group 2 of 4 samples, 2 features of 3 channels.
	Nb, C, H, W, G, F := 4, 6, 5, 3, 2, 2
	M, c, HW := Nb/G, C/F, H*W
	x := randn(r, Nb*C*HW)
	xp := upload(t, d, x)
	st, out := buf(t, d, M*F), buf(t, d, Nb*(C+F)*HW)
	run(t, d, "mbstd", "mbstd_stat_f32", D1(M*F), D1(64), 0, int32(Nb), int32(C), int32(H), int32(W), int32(G), int32(F), float32(1e-8), xp, st)
	run(t, d, "mbstd", "mbstd_concat_f32", D1(2), D1(256), 0, int32(Nb), int32(C), int32(H), int32(W), int32(G), int32(F), xp, st, out)
	dstat := randn(r, M*F)
	dsp, dxp := upload(t, d, dstat), buf(t, d, len(x))
	d.MemsetD32(dxp, 0, int64(len(x)))
	run(t, d, "mbstd", "mbstd_stat_bwd_f32", D1(1), D1(256), 0, int32(Nb), int32(C), int32(H), int32(W), int32(G), int32(F), float32(1e-8), xp, dsp, dxp)
	wantS := make([]float64, M*F)
	wantDx := make([]float64, len(x))
	for m := 0; m < M; m++ {
		for f := 0; f < F; f++ {
			for cc := 0; cc < c; cc++ {
				for i := 0; i < HW; i++ {
					at := func(g int) int { return ((g*M+m)*C+f*c+cc)*HW + i }
					var mean, v float64
					for g := 0; g < G; g++ {
						mean += float64(x[at(g)])
					}
					mean /= float64(G)
					for g := 0; g < G; g++ {
						v += (float64(x[at(g)]) - mean) * (float64(x[at(g)]) - mean)
					}
					sd := math.Sqrt(v/float64(G) + 1e-8)
					wantS[m*F+f] += sd / float64(c*HW)
					for g := 0; g < G; g++ {
						wantDx[at(g)] = float64(dstat[m*F+f]) / float64(c*HW) * (float64(x[at(g)]) - mean) / (float64(G) * sd)
					}
				}
			}
		}
	}
	near(t, "mbstd stat", download(t, d, st, M*F), wantS, 1e-6, 1e-5)
	near(t, "mbstd stat grad", download(t, d, dxp, len(x)), wantDx, 1e-6, 1e-4)
	wantOut := make([]float64, Nb*(C+F)*HW)
	for n := 0; n < Nb; n++ {
		for ch := 0; ch < C+F; ch++ {
			for i := 0; i < HW; i++ {
				if ch < C {
					wantOut[(n*(C+F)+ch)*HW+i] = float64(x[(n*C+ch)*HW+i])
				} else {
					wantOut[(n*(C+F)+ch)*HW+i] = wantS[(n%M)*F+ch-C]
				}
			}
		}
	}
	near(t, "mbstd concat", download(t, d, out, len(wantOut)), wantOut, 1e-6, 1e-5)
}
