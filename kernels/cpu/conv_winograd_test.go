package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Winograd F(2x2,3x3) and F(4x4,3x3) against the direct loops, on odd and
// even sizes (tiles cut by the output's edge), every padding the
// input-gradient rewrite produces (0, 1, 2 and beyond), and sample counts
// that split into several chunks.
func TestConvWinogradMatchesDirect(t *testing.T) {
	defer func(m, tiles int) { winogradTile, winograd4MinTiles = m, tiles }(winogradTile, winograd4MinTiles)
	winograd4MinTiles = 1
	defer func(v, c int) { convGemmMinFlops, winogradMinChannels = v, c }(convGemmMinFlops, winogradMinChannels)
	convGemmMinFlops, winogradMinChannels = 0, 16
	prev := ActiveVariant()
	defer UseVariant(prev)
	geoms := []ConvGeom{
		geom(2, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1),
		geom(3, 24, 7, 9, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1),
		geom(1, 16, 6, 5, 32, 3, 3, 1, 1, 0, 0, 1, 1, 1),
		geom(2, 20, 5, 6, 16, 3, 3, 1, 1, 2, 2, 1, 1, 1),
		geom(1, 16, 4, 4, 16, 3, 3, 1, 1, 3, 1, 1, 1, 1),
		geom(2, 32, 2, 3, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1),
	}
	for _, g := range geoms {
		if !useWinograd(g) {
			t.Fatalf("%+v does not take the Winograd path", g)
		}
	}
	for _, variant := range Variants() {
		if err := UseVariant(variant); err != nil {
			t.Fatal(err)
		}
		for _, tile := range []int{2, 4} {
			winogradTile = tile
			for gi, g := range geoms {
				r := rand.New(rand.NewPCG(8, uint64(gi)))
				nx, ny := g.N*g.Cin*g.H*g.W, g.N*g.Cout*g.OH*g.OW
				nw := g.Cout * g.Cin * 9
				x, w, b, gy := randSlice(r, nx), randSlice(r, nw), randSlice(r, g.Cout), randSlice(r, ny)
				name := fmt.Sprintf("%s F(%dx%d) %+v", variant, tile, tile, g)
				got, want := nanSlice(ny), make([]float32, ny)
				Conv2dForward(g, x, w, b, got)
				Conv2dDirect(g, x, w, b, want)
				checkWinograd(t, name+" forward", got, want, g.Cin*9)
				gotX, wantX := nanSlice(nx), make([]float32, nx)
				Conv2dInputGrad(g, gy, w, gotX)
				Conv2dInputGradDirect(g, gy, w, wantX)
				checkWinograd(t, name+" input grad", gotX, wantX, g.Cout*9)
				gotW, wantW := nanSlice(nw), make([]float32, nw)
				Conv2dWeightGrad(g, x, gy, gotW)
				Conv2dWeightGradDirect(g, x, gy, wantW)
				checkWinograd(t, name+" weight grad", gotW, wantW, g.N*g.OH*g.OW)
			}
		}
	}
}

// The chunking of samples (winogradTileFloats) must not change results, on
// either tile, nor the weight planes written packed (winogradPackedU).
func TestConvWinogradChunks(t *testing.T) {
	defer func(c, m, tiles, v int) {
		winogradMinChannels, winogradTile, winograd4MinTiles, winogradTileFloats = c, m, tiles, v
	}(
		winogradMinChannels, winogradTile, winograd4MinTiles, winogradTileFloats)
	winogradMinChannels, winograd4MinTiles = 16, 1
	g := geom(5, 64, 20, 20, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1)
	if !useWinograd(g) {
		t.Fatalf("%+v does not take the Winograd path", g)
	}
	r := rand.New(rand.NewPCG(9, 9))
	x, w := randSlice(r, g.N*g.Cin*g.H*g.W), randSlice(r, g.Cout*g.Cin*9)
	gy := randSlice(r, g.N*g.Cout*g.OH*g.OW)
	want := make([]float32, g.N*g.Cout*g.OH*g.OW)
	Conv2dDirect(g, x, w, nil, want)
	wantW := make([]float32, len(w))
	Conv2dWeightGradDirect(g, x, gy, wantW)
	wantX := make([]float32, len(x))
	Conv2dInputGradDirect(g, gy, w, wantX)
	for _, tile := range []int{2, 4} {
		winogradTile = tile
		m, nt := winogradTileFor(g.N, g.OH, g.OW)
		if m != tile {
			t.Fatalf("F(%dx%d) asked, F(%dx%d) run", tile, tile, m, m)
		}
		// Room for two samples a chunk (64+64 channels): chunks of 2, 2, 1.
		winogradTileFloats = 2 * nt * ceilDiv(g.OH, m) * ceilDiv(g.OW, m) * 128
		name := fmt.Sprintf("F(%dx%d) chunked", m, m)
		got := nanSlice(len(want))
		conv2dForwardWinograd(g, x, w, nil, got)
		checkWinograd(t, name, got, want, g.Cin*9)
		// The chunks share U's planes as packed by the weight transform:
		// the bits of planes by rows that each product packs.
		winogradPackedU = false
		own := nanSlice(len(want))
		conv2dForwardWinograd(g, x, w, nil, own)
		winogradPackedU = true
		assertSameBits(t, name+" forward, U by rows", got, own)
		gotX, ownX := nanSlice(len(x)), nanSlice(len(x))
		conv2dInputGradWinograd(g, gy, w, gotX)
		winogradPackedU = false
		conv2dInputGradWinograd(g, gy, w, ownX)
		winogradPackedU = true
		checkWinograd(t, name+" input grad", gotX, wantX, g.Cout*9)
		assertSameBits(t, name+" input grad, U by rows", gotX, ownX)
		gotW := nanSlice(len(w))
		conv2dWeightGradWinograd(g, x, gy, gotW)
		checkWinograd(t, name+" weight grad", gotW, wantW, g.N*g.OH*g.OW)
	}
}

// V written in the products' panels (winogradPanels) must give the bits of
// V written in rows and packed by the GEMM, on every variant, with the
// weight planes written packed or by rows. Rows of 32 tiles (64x64: two
// panels a row on AVX2, whose nr is 16; eight on generic's 4) and of 8
// (16x16: two rows a panel on AVX2); the test fails if no variant takes
// panels for either.
func TestWinogradPanelsKeepBits(t *testing.T) {
	defer func(c, v int, packedU, panels bool) {
		winogradMinChannels, winogradTileFloats, winogradPackedU, winogradPanels = c, v, packedU, panels
	}(winogradMinChannels, winogradTileFloats, winogradPackedU, winogradPanels)
	defer func(m int) { winogradTile = m }(winogradTile)
	winogradMinChannels, winogradTile = 16, 2
	prev := ActiveVariant()
	defer UseVariant(prev)
	for _, size := range []int{64, 16} {
		g := geom(3, 24, size, size, 136, 3, 3, 1, 1, 1, 1, 1, 1, 1) // AVX2 reads B in place under 129 rows of A
		tw := size / 2
		r := rand.New(rand.NewPCG(4, uint64(size)))
		x, w := randSlice(r, g.N*g.Cin*g.H*g.W), randSlice(r, g.Cout*g.Cin*9)
		gy := randSlice(r, g.N*g.Cout*g.OH*g.OW)
		taken := 0
		for _, variant := range Variants() {
			if err := UseVariant(variant); err != nil {
				t.Fatal(err)
			}
			probe := winograd{cin: g.Cin, cout: g.Cout, tile: 2, tw: tw}
			if winogradPanels = true; probe.panelsFit(tw * tw) {
				taken++
			} else if variant == VariantAVX2 {
				t.Fatalf("AVX2 does not write V in panels for rows of %d tiles", tw)
			}
			for _, chunk := range []int{0, 2} { // all samples in one chunk, or chunks of 2 and 1
				winogradTileFloats = 8 << 20
				if chunk > 0 {
					winogradTileFloats = chunk * 16 * tw * tw * (g.Cin + g.Cout)
				}
				for _, packedU := range []bool{true, false} {
					winogradPackedU = packedU
					name := fmt.Sprintf("%dx%d %s chunk %d U packed %v", size, size, variant, chunk, packedU)
					run := func(panels bool) (y, gx []float32) {
						winogradPanels = panels
						y, gx = nanSlice(g.N*g.Cout*g.OH*g.OW), nanSlice(len(x))
						conv2dForwardWinograd(g, x, w, nil, y)
						conv2dInputGradWinograd(g, gy, w, gx)
						return y, gx
					}
					y, gx := run(true)
					wantY, wantX := run(false)
					assertSameBits(t, name+" forward", y, wantY)
					assertSameBits(t, name+" input grad", gx, wantX)
				}
			}
		}
		if taken == 0 {
			t.Fatalf("no variant of %v writes V in panels for rows of %d tiles", Variants(), tw)
		}
	}
}

// checkWinograd allows the rounding of a sum of terms products plus the
// transforms' few additions: relative to the magnitude the sum can reach.
func checkWinograd(t *testing.T, what string, got, want []float32, terms int) {
	t.Helper()
	tol := 2e-6 * float64(terms)
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); !(d <= tol*(1+math.Abs(float64(want[i])))) {
			t.Fatalf("%s: element %d = %v, want %v (tolerance %.1e)", what, i, got[i], want[i], tol)
		}
	}
}

func nanSlice(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(math.NaN())
	}
	return s
}

// BenchmarkConvWinograd compares Winograd F(4x4), F(2x2) and the im2col
// schedule on the conv3x3_n4_c512_16 workload and StyleGAN layers.
func BenchmarkConvWinograd(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, g := range []ConvGeom{
		geom(4, 512, 16, 16, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1),
		geom(4, 512, 32, 32, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1),
		geom(16, 64, 32, 32, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1),
		geom(16, 32, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
		geom(16, 32, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
	} {
		x, w := randSlice(r, g.N*g.Cin*g.H*g.W), randSlice(r, g.Cout*g.Cin*9)
		y := make([]float32, g.N*g.Cout*g.OH*g.OW)
		for _, sched := range []string{"F4", "F2", "im2col"} {
			b.Run(fmt.Sprintf("n%d_c%d_%d/%s", g.N, g.Cin, g.H, sched), func(b *testing.B) {
				defer func(v bool, c, m int) { convWinograd, winogradMinChannels, winogradTile = v, c, m }(convWinograd, winogradMinChannels, winogradTile)
				convWinograd, winogradMinChannels, winogradTile = sched != "im2col", 16, map[string]int{"F4": 4, "F2": 2}[sched]
				b.ReportAllocs()
				for b.Loop() {
					Conv2dForward(g, x, w, nil, y)
				}
				b.ReportMetric(2*float64(g.N*g.Cout*g.Cin*9*g.OH*g.OW)*float64(b.N)/b.Elapsed().Seconds()/1e9, "directGFLOP/s")
			})
		}
	}
}

// The rounding of F(4x4) against F(2x2), at 512 input channels: each
// against a float64 direct sum, as the largest error relative to the
// largest output. F(4x4)'s constants (1/6, 1/24, 8) cost accuracy.
func TestConvWinogradRoundingAt512Channels(t *testing.T) {
	defer func(m, tiles int) { winogradTile, winograd4MinTiles = m, tiles }(winogradTile, winograd4MinTiles)
	winograd4MinTiles = 1
	g := geom(2, 512, 12, 12, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1)
	r := rand.New(rand.NewPCG(10, 10))
	x, w := randSlice(r, g.N*g.Cin*g.H*g.W), randSlice(r, g.Cout*g.Cin*9)
	ref := make([]float64, g.N*g.Cout*g.OH*g.OW)
	var big float64
	for n := 0; n < g.N; n++ {
		for o := 0; o < g.Cout; o++ {
			for oy := 0; oy < g.OH; oy++ {
				for ox := 0; ox < g.OW; ox++ {
					var s float64
					for c := 0; c < g.Cin; c++ {
						for ky := 0; ky < 3; ky++ {
							for kx := 0; kx < 3; kx++ {
								iy, ix := oy+ky-g.PH, ox+kx-g.PW
								if iy >= 0 && iy < g.H && ix >= 0 && ix < g.W {
									s += float64(x[((n*g.Cin+c)*g.H+iy)*g.W+ix]) * float64(w[((o*g.Cin+c)*3+ky)*3+kx])
								}
							}
						}
					}
					ref[((n*g.Cout+o)*g.OH+oy)*g.OW+ox] = s
					big = max(big, math.Abs(s))
				}
			}
		}
	}
	errOf := func(tile int) float64 {
		winogradTile = tile
		if m, _ := winogradTileFor(g.N, g.OH, g.OW); m != tile {
			t.Fatalf("F(%dx%d) asked, F(%dx%d) run", tile, tile, m, m)
		}
		y := nanSlice(len(ref))
		conv2dForwardWinograd(g, x, w, nil, y)
		var e float64
		for i := range ref {
			e = max(e, math.Abs(float64(y[i])-ref[i]))
		}
		return e / big
	}
	e2, e4 := errOf(2), errOf(4)
	t.Logf("largest error relative to the largest output: F(2x2) %.2g, F(4x4) %.2g", e2, e4)
	// Measured: 8.3e-7 and 1.0e-5 (F(2x2) is the default for that reason).
	if !(e2 <= 2e-6) || !(e4 <= 3e-5) {
		t.Fatalf("F(2x2) %.2g, F(4x4) %.2g of the output's scale; want <= 2e-6 and <= 3e-5", e2, e4)
	}
}

func TestWinogradTileSetting(t *testing.T) {
	for v, want := range map[string]int{"": 2, "2": 2, "4": 4, " 4 ": 4, "x": 2} {
		if got := winogradTileSetting(v); got != want {
			t.Errorf("LAFITE_CPU_WINOGRAD=%q: F(%dx%d), want F(%dx%d)", v, got, got, want, want)
		}
	}
}

// BenchmarkWinogradPanels compares V written in rows and packed by the GEMM
// ("rows") against V written in the GEMM's panels ("panels"), forward at
// 16x16 (rows of 8 tiles, two a panel on AVX2) and 32x32; on the AVX-512
// kernel, which reads these rows in place, both are the in-place path.
func BenchmarkWinogradPanels(b *testing.B) {
	benchConvSwitch(b, &winogradPanels, "rows", "panels", Conv2dForward,
		geom(4, 512, 16, 16, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1),
		geom(4, 512, 32, 32, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1))
}

// BenchmarkWinogradPackedU compares U's planes written by rows and packed by
// each product ("rows") against planes the weight transform writes packed
// ("packed"), forward at 16x16, where the 4 samples make one chunk (with
// several, "rows" would pack U for each chunk, which the code this replaced
// did once a call).
func BenchmarkWinogradPackedU(b *testing.B) {
	benchConvSwitch(b, &winogradPackedU, "rows", "packed", Conv2dForward,
		geom(4, 512, 16, 16, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1))
}

// benchConvSwitch times forward on each geometry with *on false (the
// sub-benchmark named off) and true (named onName), so the two ways of a
// switch run side by side in one process.
func benchConvSwitch(b *testing.B, on *bool, off, onName string, forward func(g ConvGeom, x, w, bias, y []float32), geoms ...ConvGeom) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, g := range geoms {
		x, w := randSlice(r, g.N*g.Cin*g.H*g.W), randSlice(r, g.Cout*g.Cin/g.Groups*g.KH*g.KW)
		y := make([]float32, g.N*g.Cout*g.OH*g.OW)
		for _, v := range []bool{false, true} {
			name := map[bool]string{false: off, true: onName}[v]
			b.Run(fmt.Sprintf("n%d_c%d_%d/%s", g.N, g.Cin, g.H, name), func(b *testing.B) {
				defer func(prev bool) { *on = prev }(*on)
				*on = v
				for b.Loop() {
					forward(g, x, w, nil, y)
				}
			})
		}
	}
}

// The weight transform writes U's planes in PackedA's layout
// (winogradPackedU): each plane must hold the bits of the plane written by
// rows and then packed, padding included, on every variant, for both tiles,
// the forward's planes and the input gradient's (flipped, channels
// swapped), with a partial row panel (cout not a multiple of mr), a last
// column panel of the taps part-filled (cin·mr not a multiple of nr) and,
// at 520 input channels, more than one block of depth.
func TestWinogradPackedUKeepsBits(t *testing.T) {
	prev := ActiveVariant()
	defer UseVariant(prev)
	r := rand.New(rand.NewPCG(12, 13))
	for _, variant := range Variants() {
		if err := UseVariant(variant); err != nil {
			t.Fatal(err)
		}
		for _, s := range []struct{ wCout, wCin int }{{13, 20}, {7, 520}, {520, 3}} {
			w := randSlice(r, s.wCout*s.wCin*9)
			for _, tile := range []int{2, 4} {
				for _, flip := range []bool{false, true} {
					j := &winograd{tile: tile, nt: (tile + 2) * (tile + 2), weight: w, wCout: s.wCout, wCin: s.wCin, flip: flip,
						cout: s.wCout, cin: s.wCin}
					if flip {
						j.cout, j.cin = s.wCin, s.wCout
					}
					rows := *j
					rows.u = make([]float32, j.nt*j.cout*j.cin)
					rows.transformWeightRows()
					size := packedASize(j.cout, j.cin)
					j.u = nanSlice(j.nt * size)
					j.transformWeight()
					if !j.uPacked {
						t.Fatal("transformWeight did not mark U packed")
					}
					for xi := 0; xi < j.nt; xi++ {
						want := PackA(j.cout, j.cin, rows.u, xi*j.cout*j.cin, j.cin, 1)
						name := fmt.Sprintf("%s %dx%d F(%d) flip %v plane %d", variant, s.wCout, s.wCin, tile, flip, xi)
						if m, k := j.packedU[xi].Shape(); m != j.cout || k != j.cin || !j.packedU[xi].Current() {
							t.Fatalf("%s: packed [%d,%d] for the current kernel %v, want [%d,%d]", name, m, k, j.packedU[xi].Current(), j.cout, j.cin)
						}
						assertSameBits(t, name, j.packedU[xi].data, want.data)
					}
				}
			}
		}
	}
}
