package cpu

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// The implicit paths must give the im2col path's bits: every real output is
// the same dot product in the same order, whatever the kernel variant, with
// B read in place through the row table or packed from it, in one batch of
// samples or several; so must the weight gradient packed from the padded
// input.
func TestImplicitIm2colKeepsBits(t *testing.T) {
	geoms := map[string]ConvGeom{
		"3x3_pad1":      geom(3, 5, 9, 12, 30, 3, 3, 1, 1, 1, 1, 1, 1, 1),
		"3x3_pad1_wide": geom(2, 7, 6, 40, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1),
		"5x3_pad2_1":    geom(2, 4, 11, 10, 9, 5, 3, 1, 1, 2, 1, 1, 1, 1),
		"dilation2":     geom(2, 3, 12, 20, 6, 3, 3, 1, 1, 2, 2, 2, 2, 1),
		"groups2":       geom(2, 6, 10, 9, 8, 3, 3, 1, 1, 1, 1, 1, 1, 2),
		"no_pad":        geom(2, 4, 12, 12, 33, 3, 3, 1, 1, 0, 0, 1, 1, 1),
		"deep":          geom(2, 130, 8, 8, 29, 3, 3, 1, 1, 1, 1, 1, 1, 1), // k = 1170: two blocks of k
		"stride_2x1":    geom(2, 5, 13, 24, 7, 3, 3, 2, 1, 1, 1, 1, 1, 1),
		"stride2_demo":  geom(3, 6, 33, 33, 30, 3, 3, 2, 2, 0, 0, 1, 1, 1),
		"stride2_pad1":  geom(2, 5, 16, 15, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1),
		"stride3_4x4":   geom(2, 3, 20, 26, 5, 4, 4, 3, 3, 1, 2, 1, 1, 1),
		"stride2_dil2":  geom(2, 4, 21, 22, 6, 3, 3, 2, 2, 2, 2, 2, 2, 1),
		"crop":          geom(2, 4, 12, 14, 5, 3, 3, 1, 1, -1, -1, 1, 1, 1),
		"short_oh":      {N: 2, Cin: 3, H: 9, W: 16, Cout: 5, OH: 7, OW: 15, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1, Groups: 1},
		// Rows of whole column panels (16 or 32 wide): y's rows written
		// directly (directRows) on every variant.
		"rows_16":        geom(2, 5, 7, 16, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1),
		"rows_32_groups": geom(3, 4, 5, 32, 14, 3, 3, 1, 1, 1, 1, 1, 1, 2),
		"rows_64_dil2":   geom(2, 3, 6, 64, 7, 3, 3, 1, 1, 2, 2, 2, 2, 1),
		"rows_s2_32":     geom(2, 3, 9, 65, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1),
	}
	defer func(v, b int, d, r bool) {
		convGemmMinFlops, implicitBatchFloats, gemmDirectB, convDirectRows = v, b, d, r
	}(convGemmMinFlops, implicitBatchFloats, gemmDirectB, convDirectRows)
	defer func() { convImplicit, convChannelsLast = true, true }()
	convGemmMinFlops = 0
	prev := ActiveVariant()
	defer UseVariant(prev)
	for _, variant := range Variants() {
		if err := UseVariant(variant); err != nil {
			t.Fatal(err)
		}
		for name, g := range geoms {
			if !g.implicitWeightGrad() || g.implicitIm2col() != (g.SH == 1 && g.SW == 1) {
				t.Fatalf("%s: implicit forward %v, weight gradient %v", name, g.implicitIm2col(), g.implicitWeightGrad())
			}
			r := rand.New(rand.NewPCG(5, uint64(len(name))))
			x := randSlice(r, g.N*g.Cin*g.H*g.W)
			w := randSlice(r, g.Cout*g.Cin/g.Groups*g.KH*g.KW)
			bias := randSlice(r, g.Cout)
			ny := g.N * g.Cout * g.OH * g.OW
			gy := randSlice(r, ny)
			convImplicit = false
			want := make([]float32, ny)
			Conv2dForward(g, x, w, bias, want)
			wantNoBias := make([]float32, ny)
			Conv2dForward(g, x, w, nil, wantNoBias)
			wantW := make([]float32, len(w))
			Conv2dWeightGrad(g, x, gy, wantW)
			convImplicit = true
			l := g.implicitLayout()
			for _, direct := range []bool{true, false} {
				for _, batch := range []int{8 << 20, g.Cin*l.plane + g.Cout*l.wide} { // all samples, one at a time
					gemmDirectB, implicitBatchFloats = direct, batch
					for _, last := range []bool{true, false} { // channels-last planes (unit strides) or not
						convChannelsLast = last
						gotW := slices.Repeat([]float32{float32(math.NaN())}, len(w))
						Conv2dWeightGrad(g, x, gy, gotW)
						for i := range wantW {
							if math.Float32bits(gotW[i]) != math.Float32bits(wantW[i]) {
								t.Fatalf("%s %s batch=%d channels-last=%v: gw[%d] = %v, im2col path %v", variant, name, batch, last, i, gotW[i], wantW[i])
							}
						}
					}
					convChannelsLast = true
					for _, rows := range []bool{true, false} {
						convDirectRows = rows
						for _, b := range [][]float32{bias, nil} {
							got := slices.Repeat([]float32{float32(math.NaN())}, ny)
							conv2dForwardImplicit(g, x, w, b, got) // strided ones too, though the dispatch keeps im2col for them
							ref := want
							if b == nil {
								ref = wantNoBias
							}
							for i := range ref {
								if math.Float32bits(got[i]) != math.Float32bits(ref[i]) {
									t.Fatalf("%s %s direct=%v batch=%d rows=%v bias=%v: y[%d] = %v, im2col path %v",
										variant, name, direct, batch, rows, b != nil, i, got[i], ref[i])
								}
							}
						}
					}
				}
			}
		}
	}
}

// gemmBatchedRows against the strided product on the same kernel, with B
// materialised from the table: the same bits for every edge of rows and
// columns, depth past one block of k, and samples in a batch.
func TestGemmBatchedRowsMatchesMaterialised(t *testing.T) {
	defer func(d bool) { gemmDirectB = d }(gemmDirectB)
	prev := ActiveVariant()
	defer UseVariant(prev)
	r := rand.New(rand.NewPCG(9, 9))
	for _, variant := range Variants() {
		if err := UseVariant(variant); err != nil {
			t.Fatal(err)
		}
		for _, m := range []int{1, 4, 6, 13, 14, 18, 22, 28, 32, 47} {
			for _, n := range []int{16, 31, 32, 70} {
				for _, k := range []int{1, 9, 300, 1100} {
					const batch = 2
					rows := make([]int, k)
					span := n + 3*k
					for p := range rows {
						rows[p] = r.IntN(span - n + 1)
					}
					stride := span + 5
					b := randSlice(r, batch*stride)
					a := randSlice(r, m*k)
					dense := make([]float32, batch*k*n) // B_s materialised [k, n]
					for s := 0; s < batch; s++ {
						for p, off := range rows {
							copy(dense[(s*k+p)*n:(s*k+p+1)*n], b[s*stride+off:])
						}
					}
					want := make([]float32, batch*m*n)
					activeGemm.gemmBatched(batch, m, n, k, 1, a, 0, k, 1, dense, 0, n, 1, k*n, 0, want, 0, n, m*n)
					for _, direct := range []bool{true, false} {
						gemmDirectB = direct
						got := slices.Repeat([]float32{float32(math.NaN())}, batch*m*n)
						activeGemm.gemmBatchedRows(batch, m, n, k, 1, a, 0, k, 1, b, 0, rows, stride, 0, got, 0, n, m*n)
						for i := range want {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("%s m=%d n=%d k=%d direct=%v: C[%d] = %v, want %v", variant, m, n, k, direct, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}

// gemmGridRows against gemmBatchedRows item by item: a grid of 2 x 3
// products with B and C offsets from two strides each, A packed beforehand
// or not, beta 0 and 1, every edge of rows and columns and depth past one
// block of k; the same bits.
func TestGemmGridRowsMatchesItemByItem(t *testing.T) {
	defer func(d bool) { gemmDirectB = d }(gemmDirectB)
	prev := ActiveVariant()
	defer UseVariant(prev)
	r := rand.New(rand.NewPCG(7, 7))
	const outer, inner = 2, 3
	for _, variant := range Variants() {
		if err := UseVariant(variant); err != nil {
			t.Fatal(err)
		}
		for _, m := range []int{1, 6, 13, 32} {
			for _, n := range []int{5, 16, 32, 40} {
				for _, k := range []int{1, 9, 1100} {
					rows := make([]int, k)
					span := n + 2*k
					for p := range rows {
						rows[p] = r.IntN(span - n + 1)
					}
					bInner, bStride := span+3, inner*(span+3)+7
					cInner, ldc := n+2, inner*(n+2)+1 // C_(s,r) rows interleaved: row i of all r, then row i+1
					cStride := m * ldc
					b := randSlice(r, outer*bStride)
					a := randSlice(r, m*k)
					c0 := randSlice(r, outer*cStride)
					pa := PackA(m, k, a, 0, k, 1)
					for _, beta := range []float32{0, 1} {
						want := slices.Clone(c0)
						for s := 0; s < outer; s++ {
							for q := 0; q < inner; q++ {
								activeGemm.gemmBatchedRows(1, m, n, k, 1, a, 0, k, 1, b, s*bStride+q*bInner, rows, 0,
									beta, want, s*cStride+q*cInner, ldc, 0)
							}
						}
						for _, direct := range []bool{true, false} {
							for _, packed := range []*PackedA{nil, pa} {
								gemmDirectB = direct
								got := slices.Clone(c0)
								activeGemm.gemmGridRows(outer, inner, m, n, k, 1, packed, a, 0, k, 1,
									b, 0, rows, bStride, bInner, beta, got, 0, ldc, cStride, cInner)
								for i := range want {
									if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
										t.Fatalf("%s m=%d n=%d k=%d beta=%v direct=%v packed=%v: C[%d] = %v, want %v",
											variant, m, n, k, beta, direct, packed != nil, i, got[i], want[i])
									}
								}
							}
						}
					}
				}
			}
		}
	}
}

func TestGemmBatchedRowsRejectsRowsOutsideB(t *testing.T) {
	defer func() {
		msg, _ := recover().(string)
		if !strings.Contains(msg, "outside b") {
			t.Fatalf("panic %q, want one naming the rows outside b", msg)
		}
	}()
	b, c, a := make([]float32, 100), make([]float32, 64), make([]float32, 2)
	activeGemm.gemmBatchedRows(1, 2, 32, 1, 1, a, 0, 1, 1, b, 0, []int{80}, 0, 0, c, 0, 32, 0)
}

// gemmRowsCols against the strided product on the same kernel with B
// materialised: runs of every length (short, one apart or not), taps not a
// multiple of eight, depth past one block of k.
func TestGemmRowsColsMatchesMaterialised(t *testing.T) {
	prev := ActiveVariant()
	defer UseVariant(prev)
	r := rand.New(rand.NewPCG(11, 3))
	for _, variant := range Variants() {
		if err := UseVariant(variant); err != nil {
			t.Fatal(err)
		}
		for _, m := range []int{3, 14, 32} {
			for _, n := range []int{5, 8, 32, 45} {
				for _, k := range []int{7, 64, 1100} {
					rows, runs := make([]int, k), make([]int, k)
					for p := 0; p < k; { // runs of 1 to 20 rows one apart, gaps between
						run := min(1+r.IntN(20), k-p)
						start := 40*p + r.IntN(9)
						for i := 0; i < run; i++ {
							rows[p+i], runs[p+i] = start+i, run-i
						}
						p += run
					}
					cols := make([]int, n)
					for j := range cols {
						cols[j] = r.IntN(50)
					}
					b := randSlice(r, 40*k+80)
					a := randSlice(r, m*k)
					dense := make([]float32, k*n)
					for p := range rows {
						for j := range cols {
							dense[p*n+j] = b[rows[p]+cols[j]+3]
						}
					}
					c0 := randSlice(r, m*n)
					want := slices.Clone(c0)
					activeGemm.gemm(m, n, k, 1, a, 0, k, 1, dense, 0, n, 1, 1, want, 0, n)
					got := slices.Clone(c0)
					activeGemm.gemmRowsCols(m, n, k, 1, a, 0, k, 1, b, 3, rows, runs, cols, 1, got, 0, n)
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%s m=%d n=%d k=%d: C[%d] = %v, want %v", variant, m, n, k, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// The input gradient's blocked schedule against the reference's whole col
// per sample: the same bits for every geometry of the reference tests, on
// every variant, with each sample's gy read in place (where the kernel can)
// or packed once for all its channel blocks (demo_32: 5 blocks; grouped_blocks:
// 2 blocks in each of 2 groups), and Wᵀ's blocks packed once for all samples
// or for each.
func TestDgradBlockedKeepsBits(t *testing.T) {
	prev := ActiveVariant()
	defer UseVariant(prev)
	defer func(d, s bool) { gemmDirectB, dgradShareW = d, s }(gemmDirectB, dgradShareW)
	geoms := map[string]ConvGeom{
		"demo_32":        geom(3, 32, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
		"grouped_blocks": geom(2, 64, 24, 20, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2),
	}
	for name, g := range convGeoms {
		geoms[name] = g
	}
	if g := geoms["grouped_blocks"]; g.Cin/g.Groups <= g.dgradBlockChannels() {
		t.Fatalf("grouped_blocks: %d channels a group in blocks of %d: one block", g.Cin/g.Groups, g.dgradBlockChannels())
	}
	for _, variant := range Variants() {
		if err := UseVariant(variant); err != nil {
			t.Fatal(err)
		}
		for _, mode := range [][2]bool{{true, true}, {false, true}, {true, false}, {false, false}} {
			direct, shareW := mode[0], mode[1]
			gemmDirectB, dgradShareW = direct, shareW
			for name, g := range geoms {
				r := rand.New(rand.NewPCG(13, uint64(len(name))))
				gy := randSlice(r, g.N*g.Cout*g.OH*g.OW)
				w := randSlice(r, g.Cout*g.Cin/g.Groups*g.KH*g.KW)
				nx := g.N * g.Cin * g.H * g.W
				want := make([]float32, nx)
				Conv2dInputGradRef(g, gy, w, want)
				got := slices.Repeat([]float32{float32(math.NaN())}, nx)
				conv2dInputGradBlocked(g, gy, w, got)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s %s direct=%v shareW=%v: gx[%d] = %v, reference %v", variant, name, direct, shareW, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// BenchmarkConvSchedules times each pass of the GEMM-schedule convolutions
// at the demo's shapes and at 64x64, with the implicit paths and the
// blocked input gradient ("new") against im2col and the whole-col
// reference ("old"), interleaved in one run.
func BenchmarkConvSchedules(b *testing.B) {
	shapes := []struct {
		name string
		g    ConvGeom
	}{
		{"n16_c32_32", geom(16, 32, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1)},
		{"n4_c64_64", geom(4, 64, 64, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1)},
		{"n4_c512_16", geom(4, 512, 16, 16, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1)},
	}
	defer func() { convImplicit, convWinograd = true, true }()
	convWinograd = false
	for _, s := range shapes {
		g := s.g
		r := rand.New(rand.NewPCG(1, 1))
		x := randSlice(r, g.N*g.Cin*g.H*g.W)
		w := randSlice(r, g.Cout*g.Cin*g.KH*g.KW)
		y := randSlice(r, g.N*g.Cout*g.OH*g.OW)
		for _, pass := range []string{"fwd", "dgrad", "wgrad"} {
			for _, sched := range []string{"old", "new"} {
				b.Run(s.name+"/"+pass+"/"+sched, func(b *testing.B) {
					convImplicit = sched == "new"
					b.ReportMetric(float64(2*g.N*g.flopsPerSample())/1e9, "GFLOP/op")
					for i := 0; i < b.N; i++ {
						switch {
						case pass == "fwd":
							Conv2dForward(g, x, w, nil, y)
						case pass == "dgrad" && sched == "old":
							Conv2dInputGradRef(g, y, w, x)
						case pass == "dgrad":
							Conv2dInputGrad(g, y, w, x)
						default:
							Conv2dWeightGrad(g, x, y, w)
						}
					}
				})
			}
		}
	}
}

// padJob writes every entry of the phase planes: the input where a phase
// row and column has one, zero elsewhere, whatever the buffer held before
// (here NaN), for strides, dilations, crops and padding wider than a column.
func TestPadJobWritesEveryEntry(t *testing.T) {
	geoms := map[string]ConvGeom{
		"3x3_pad1":     geom(2, 3, 7, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1),
		"5x5_pad2":     geom(1, 2, 6, 5, 3, 5, 5, 1, 1, 2, 2, 1, 1, 1),
		"rows_only":    geom(1, 2, 6, 8, 3, 3, 3, 1, 1, 1, 0, 1, 1, 1),
		"stride2_pad1": geom(2, 3, 9, 11, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1),
		"stride2_dil2": geom(1, 2, 13, 12, 3, 3, 3, 2, 2, 2, 2, 2, 2, 1),
		"stride3":      geom(1, 2, 14, 17, 3, 4, 4, 3, 3, 1, 2, 1, 1, 1),
		"crop":         geom(1, 2, 8, 9, 3, 3, 3, 1, 1, -1, -1, 1, 1, 1),
		"one_column":   geom(1, 2, 5, 1, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1),
	}
	for name, g := range geoms {
		l := g.implicitLayout()
		r := rand.New(rand.NewPCG(3, uint64(len(name))))
		x := randSlice(r, g.N*g.Cin*g.H*g.W)
		xp := slices.Repeat([]float32{float32(math.NaN())}, g.Cin*l.plane)
		for n := 0; n < g.N; n++ {
			(&padJob{g: g, l: l, x: x, xOff: n * g.Cin * g.H * g.W, xp: xp}).runRange(0, g.Cin)
			for ch := 0; ch < g.Cin; ch++ {
				for a := 0; a < g.SH; a++ {
					for b := 0; b < g.SW; b++ {
						for i := 0; i < l.hq; i++ {
							for j := 0; j < l.wq; j++ {
								iy, ix := i*g.SH+a-g.PH, j*g.SW+b-g.PW
								want := float32(0)
								if iy >= 0 && iy < g.H && ix >= 0 && ix < g.W {
									want = x[((n*g.Cin+ch)*g.H+iy)*g.W+ix]
								}
								got := xp[ch*l.plane+(a*g.SW+b)*l.hq*l.wq+i*l.wq+j]
								if math.Float32bits(got) != math.Float32bits(want) {
									t.Fatalf("%s sample %d channel %d phase (%d,%d) entry (%d,%d): %v, want %v", name, n, ch, a, b, i, j, got, want)
								}
							}
						}
					}
				}
			}
		}
	}
}
