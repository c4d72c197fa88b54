package cpu

import (
	"os"
	"strings"
	"sync"
)

// Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions: each 2x2 block of
// output is computed from a 4x4 block of input with 16 multiplies per
// (input, output) channel pair instead of 36, i.e. 2.25 times fewer
// multiply-adds. In the transformed domain the products of the 16 positions
// are 16 independent GEMMs [Cout, Cin] x [Cin, tiles], run on the packed
// SGEMM; the transforms around them only add and subtract (and halve, in the
// weight transform), so rounding stays within a few ulps of the direct sum.
//
//	input   V = Bᵀ d B,  Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//	weight  U = G g Gᵀ,  G  = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]
//	output  Y = Aᵀ M A,  Aᵀ = [1 1 1 0; 0 1 -1 -1],  M = U ⊙ V summed over Cin
//
// The input gradient of such a convolution is itself one (the weight
// rotated by 180° with its channel axes swapped, padding 2 - p), so it runs
// through the same code. The weight gradient is the adjoint of the forward
// decomposition: Ū = Σ over tiles of (A ȳ Aᵀ) ⊙ V, again 16 GEMMs, then
// ḡ = Gᵀ Ū G.

// convWinograd switches the Winograd path; tests turn it off to compare.
var convWinograd = true

// winogradMinChannels: with fewer channels the GEMMs are too thin to pay for
// the (scalar) transforms; at 32 and 64 channels the im2col schedule was
// faster (BenchmarkConvWinograd). A var so tests can send small shapes here.
var winogradMinChannels = 128

// winoInputBlocks, winoOutputBlocks and winoGradOutputBlocks transform a
// row's tiles of F(2x2,3x3) in blocks of winoBlockTiles (16 on AVX-512, 8
// on AVX2: the 16x16 layers' rows of 8 tiles too) — the input, the products
// back to the output, and the weight gradient's output gradient — bit for
// bit as the Go loops here do (winograd_amd64.s); nil where the variant has
// none.
var (
	winoInputBlocks      func(v *float32, planeBytes int, r0, r1, r2, r3 *float32, blocks int)
	winoGradOutputBlocks func(m *float32, planeBytes int, g0, g1 *float32, blocks int)
	winoOutputBlocks     func(m *float32, planeBytes int, y0, y1 *float32, bias float32, blocks int)
	winoBlockTiles       = 16
)

// winogradTileFloats bounds the transformed input and product buffers (in
// floats) of one chunk of samples. A var so tests can force several chunks.
var winogradTileFloats = 8 << 20

func useWinograd(g ConvGeom) bool {
	return convWinograd && g.KH == 3 && g.KW == 3 && g.SH == 1 && g.SW == 1 && g.DH == 1 && g.DW == 1 &&
		g.Groups == 1 && g.Cin >= winogradMinChannels && g.Cout >= winogradMinChannels &&
		g.OH >= 2 && g.OW >= 2 && g.H >= 2 && g.W >= 2 && useConvGemm(g)
}

// winogradTile is the output tile m of F(m x m, 3x3): 2 by default, whose
// rounding is the direct sum's; 4 with LAFITE_CPU_WINOGRAD=4
// (conv_winograd4.go: 36 multiplies per 16 outputs where F(2x2) takes 64,
// at 12x F(2x2)'s rounding error, 1e-5 of the output's scale at 512 input
// channels; the GPU's default). A var so tests and benchmarks can pick.
var winogradTile = winogradTileSetting(os.Getenv("LAFITE_CPU_WINOGRAD"))

// winogradTileSetting reads LAFITE_CPU_WINOGRAD: "4" for F(4x4,3x3), any
// other value F(2x2,3x3).
func winogradTileSetting(v string) int {
	if strings.TrimSpace(v) == "4" {
		return 4
	}
	return 2
}

// winograd is one F(m x m,3x3) convolution (m = 2 or 4): n samples of cin
// planes h x w in, cout planes oh x ow out, input read at offset (-ph, -pw)
// (a negative padding crops). u holds the transformed weight,
// [nt][cout][cin] with nt = (m+2)^2 points.
type winograd struct {
	n, cin, h, w int
	cout, oh, ow int
	ph, pw       int
	tile, nt     int // m, and the (m+2)^2 points of the transformed domain
	th, tw       int // tiles per plane
	u, bias      []float32
	x, y         []float32
	s0, ns       int         // samples of the current chunk
	packedU      [36]PackedA // u's planes as the products' A, where transformWeight packs them
	uPacked      bool        // u holds packedU's data, not planes by rows
	tapCols      []int       // transformWeight's B columns (weightTapCols)
	panelV       bool        // the chunk's V is written as the products' packed B (panelOffset)
	v, m         []float32   // [nt][cin][tiles], [nt][cout][tiles] of the chunk
	weight       []float32   // the untransformed weight [wCout][wCin][3][3]
	flip         bool        // input gradient: rotate by 180° and swap channel axes
	wCout, wCin  int
	gy           []float32 // weight gradient: the output gradient
}

var winogradJobs = sync.Pool{New: func() any { return new(winograd) }}

// conv2dForwardWinograd is Conv2dForwardRef's computation for useWinograd
// geometries.
func conv2dForwardWinograd(g ConvGeom, x, w, bias, y []float32) {
	m, nt := winogradTileFor(g.N, g.OH, g.OW)
	ub := convBufs.get(nt * packedASize(g.Cout, g.Cin))
	defer convBufs.put(ub)
	j := winogradJobs.Get().(*winograd)
	defer func() { *j = winograd{}; winogradJobs.Put(j) }()
	*j = winograd{n: g.N, cin: g.Cin, h: g.H, w: g.W, cout: g.Cout, oh: g.OH, ow: g.OW, ph: g.PH, pw: g.PW, tile: m, nt: nt,
		u: ub.data, bias: bias, x: x, y: y, weight: w, wCout: g.Cout, wCin: g.Cin}
	j.transformWeight()
	j.run()
}

// conv2dInputGradWinograd is Conv2dInputGradRef's computation for useWinograd
// geometries: gx = conv(gy, rot180(w) with channels swapped, padding 2 - p).
func conv2dInputGradWinograd(g ConvGeom, gy, w, gx []float32) {
	m, nt := winogradTileFor(g.N, g.H, g.W)
	ub := convBufs.get(nt * packedASize(g.Cin, g.Cout))
	defer convBufs.put(ub)
	j := winogradJobs.Get().(*winograd)
	defer func() { *j = winograd{}; winogradJobs.Put(j) }()
	*j = winograd{n: g.N, cin: g.Cout, h: g.OH, w: g.OW, cout: g.Cin, oh: g.H, ow: g.W, ph: 2 - g.PH, pw: 2 - g.PW, tile: m, nt: nt,
		u: ub.data, x: gy, y: gx, weight: w, flip: true, wCout: g.Cout, wCin: g.Cin}
	j.transformWeight()
	j.run()
}

// winograd4MinTiles: F(4x4) needs this many 4x4 tiles over the samples, or
// its 36 GEMMs are too thin to beat F(2x2)'s 16 wider ones (4 samples of
// 16x16 make 64: F(4x4) was 10% slower there, BenchmarkConvWinograd).
var winograd4MinTiles = 128

// winogradTileFor picks m for n samples of oh x ow output pixels, and its
// points.
func winogradTileFor(n, oh, ow int) (m, nt int) {
	if winogradTile == 4 && oh >= 4 && ow >= 4 && n*ceilDiv(oh, 4)*ceilDiv(ow, 4) >= winograd4MinTiles {
		return 4, 36
	}
	return 2, 16
}

// winogradG2 and winogradG4 are G of F(2x2,3x3) and F(4x4,3x3), (m+2) x 3.
var (
	winogradG2 = [][3]float32{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}
	winogradG4 = [][3]float32{{1. / 4, 0, 0}, {-1. / 6, -1. / 6, -1. / 6}, {-1. / 6, 1. / 6, -1. / 6},
		{1. / 24, 1. / 12, 1. / 6}, {1. / 24, -1. / 12, 1. / 6}, {0, 0, 1}}
)

// winogradWeightMatrices is G ⊗ G as an [a²][9] matrix (a = m+2 rows of G):
// U[ξ] = Σ_k T[ξ][k] g[k] for ξ = a·i+j and k = 3p+q, T[ξ][k] =
// G[i][p]·G[j][q]; the flipped one reads the taps in reverse order (the
// weight rotated by 180°).
func winogradWeightMatrices(G [][3]float32) (t, f []float32) {
	a := len(G)
	t, f = make([]float32, a*a*9), make([]float32, a*a*9)
	for i := 0; i < a; i++ {
		for j := 0; j < a; j++ {
			for p := 0; p < 3; p++ {
				for q := 0; q < 3; q++ {
					t[(a*i+j)*9+3*p+q] = G[i][p] * G[j][q]
					f[(a*i+j)*9+8-(3*p+q)] = G[i][p] * G[j][q]
				}
			}
		}
	}
	return t, f
}

var (
	winogradWeight2, winogradWeight2Flipped = winogradWeightMatrices(winogradG2)
	winogradWeight4, winogradWeight4Flipped = winogradWeightMatrices(winogradG4)
)

// winogradPackedU: the weight transform writes each plane of U in the
// layout of the products' packed A (transformWeight); a var so tests can
// compare with planes by rows that each product packs.
var winogradPackedU = true

// transformWeight fills u = G g Gᵀ for every (output, input) channel pair of
// the weight: plane ξ is the products' A [cout][cin] (the forward's
// [wCout][wCin], the input gradient's [wCin][wCout]), written straight into
// PackedA's layout for the active kernel (j.packedU), one task a row panel
// of a block of depth. Written by rows, the planes were packed again for the
// products, a pass of 17 MB read and 17 MB written per call at 512 channels
// (bench/NOTES.md v20). Each value is the same product of [nt, 9] by the 9
// taps as by rows (a GEMM of depth 9 either way), so the bits are too.
func (j *winograd) transformWeight() {
	if !winogradPackedU {
		j.transformWeightRows()
		return
	}
	g := activeGemm
	size := packedASize(j.cout, j.cin)
	for xi := 0; xi < j.nt; xi++ {
		j.packedU[xi] = PackedA{g: g, m: j.cout, k: j.cin, data: j.u[xi*size : (xi+1)*size]}
	}
	j.uPacked = true
	kcMax := max(1, min(g.kc, j.cin))
	panels := ceilDiv(j.cout, g.mr)
	j.weightTapCols(kcMax, g.mr)
	parallelRange(ceilDiv(j.cin, kcMax)*panels, 9*kcMax*g.mr*(j.nt+4), (*weightPanelJob)(j))
	j.tapCols = nil
}

// transformWeightRows is transformWeight with each plane of u by rows, as
// GEMMs [nt, 9] x [9, pairs] that read the weight's taps through strides:
// the forward's one product, the input gradient's one per input channel.
func (j *winograd) transformWeightRows() {
	pairs := j.wCout * j.wCin
	t, f := j.weightMatrices()
	if j.flip {
		GemmBatched(j.wCin, j.nt, j.wCout, 9, 1, f, 0, 9, 1,
			j.weight, 0, 1, 9*j.wCin, 9, 0, j.u, 0, pairs, j.wCout)
		return
	}
	Gemm(j.nt, pairs, 9, 1, t, 0, 9, 1, j.weight, 0, 1, 9, 0, j.u, 0, pairs)
}

// weightMatrices is G ⊗ G for the tile, and its flipped form.
func (j *winograd) weightMatrices() (t, f []float32) {
	if j.tile == 4 {
		return winogradWeight4, winogradWeight4Flipped
	}
	return winogradWeight2, winogradWeight2Flipped
}

// weightPanelJob transforms the weight for row panels of U's packed planes:
// task i is row panel i mod panels of depth block i / panels, the same
// positions in every plane. Its B [9, kc·mr] has as column s·mr + r the 9
// taps of A's row r of the panel at depth s, read through j.tapCols, so the
// product [nt, 9] x B writes each plane's panel as it lies in PackedA.
type weightPanelJob winograd

// weightTapRows and weightTapRuns are the weight panels' B rows (a pair's 9
// taps, one apart) for gemmRowsCols.
var (
	weightTapRows = []int{0, 1, 2, 3, 4, 5, 6, 7, 8}
	weightTapRuns = []int{9, 8, 7, 6, 5, 4, 3, 2, 1}
)

// weightTapCols fills j.tapCols: for column s·mr + r of a panel's B, the
// offset of A's row r at depth s from the panel's first pair (the forward's
// rows are output channels, 9·wCin floats apart, its depth input channels,
// 9 apart; the input gradient's the other way round). When the last panel
// has fewer than mr rows, a second table follows whose rows past them read
// row 0 (the panel's values there are cleared after its product).
func (j *winograd) weightTapCols(kcMax, mr int) {
	rowStep, depthStep := 9*j.wCin, 9
	if j.flip {
		rowStep, depthStep = 9, 9*j.wCin
	}
	n := kcMax * mr
	tables := 1
	if j.cout%mr != 0 {
		tables = 2
	}
	j.tapCols = make([]int, tables*n)
	for s := 0; s < kcMax; s++ {
		for r := 0; r < mr; r++ {
			j.tapCols[s*mr+r] = r*rowStep + s*depthStep
			if tables == 2 {
				last := r
				if r >= j.cout%mr {
					last = 0
				}
				j.tapCols[n+s*mr+r] = last*rowStep + s*depthStep
			}
		}
	}
}

func (j *weightPanelJob) runRange(lo, hi int) {
	g := activeGemm
	mr := g.mr
	kcMax := max(1, min(g.kc, j.cin))
	panels := ceilDiv(j.cout, mr)
	size := packedASize(j.cout, j.cin)
	t, f := (*winograd)(j).weightMatrices()
	if j.flip {
		t = f
	}
	for task := lo; task < hi; task++ {
		pc, ip := task/panels*kcMax, task%panels
		kc := min(kcMax, j.cin-pc)
		n := kc * mr
		rows := min(mr, j.cout-ip*mr) // of A in this panel
		cols := j.tapCols[:n]
		if rows < mr {
			cols = j.tapCols[kcMax*mr:][:n]
		}
		// The panel's first pair: A's (ip·mr, pc), the forward's weight
		// [wCout][wCin] at (row, depth), the input gradient's at (depth, row).
		first := ip*mr*j.cin + pc
		if j.flip {
			first = pc*j.wCin + ip*mr
		}
		panel := pc*panels*mr + ip*kc*mr
		g.gemmRowsCols(j.nt, n, 9, 1, t, 0, 9, 1, j.weight, 9*first, weightTapRows, weightTapRuns, cols, 0, j.u, panel, size)
		if rows < mr {
			for xi := 0; xi < j.nt; xi++ {
				p := j.u[xi*size+panel:][:n]
				for s := 0; s < kc; s++ {
					clear(p[s*mr+rows : (s+1)*mr])
				}
			}
		}
	}
}

// conv2dWeightGradWinograd is Conv2dWeightGradRef's computation for
// useWinograd geometries.
func conv2dWeightGradWinograd(g ConvGeom, x, gy, gw []float32) {
	m, nt := winogradTileFor(g.N, g.OH, g.OW)
	ub := convBufs.get(nt * g.Cout * g.Cin)
	defer convBufs.put(ub)
	j := winogradJobs.Get().(*winograd)
	defer func() { *j = winograd{}; winogradJobs.Put(j) }()
	*j = winograd{n: g.N, cin: g.Cin, h: g.H, w: g.W, cout: g.Cout, oh: g.OH, ow: g.OW, ph: g.PH, pw: g.PW, tile: m, nt: nt,
		u: ub.data, x: x, gy: gy, y: gw}
	j.chunks(false, func(tiles int) {
		if j.tile == 4 {
			parallelRange(j.ns*j.cout, j.th*j.tw*200, (*gradOutput4Job)(j))
		} else {
			parallelRange(j.ns*j.cout, j.th*j.tw*40, (*gradOutputJob)(j))
		}
		beta := float32(1)
		if j.s0 == 0 {
			beta = 0
		}
		for xi := 0; xi < j.nt; xi++ {
			Gemm(j.cout, j.cin, tiles, 1, j.m, xi*j.cout*tiles, tiles, 1,
				j.v, xi*j.cin*tiles, 1, tiles, beta, j.u, xi*j.cout*j.cin, j.cin)
		}
	})
	// ḡ = Gᵀ Ū G as the weight transform's adjoint, one GEMM
	// [pairs, a²] x [a², 9]: ḡ[pair][k] = Σ_ξ T[ξ][k] Ū[ξ][pair]. (For
	// F(2x2) a loop of the factored transform did the same with fewer
	// operations, but gathering from 16 planes element by element in scalar
	// code it took 5.3% of a generator's fwd+bwd profile: bench/NOTES.md v13.)
	pairs := j.cout * j.cin
	t, _ := j.weightMatrices()
	Gemm(pairs, 9, j.nt, 1, j.u, 0, 1, pairs, t, 0, 9, 1, 0, j.y, 0, 9)
}

// chunks runs body on the samples a chunk at a time (j.s0, j.ns), with
// j.v holding the chunk's transformed input (in panels where panels asks
// and panelsFit allows) and j.m room for its products.
func (j *winograd) chunks(panels bool, body func(tiles int)) {
	chunk, perSample := j.chunkSamples()
	buf := convBufs.get(chunk * perSample)
	defer convBufs.put(buf)
	for j.s0 = 0; j.s0 < j.n; j.s0 += chunk {
		j.ns = min(chunk, j.n-j.s0)
		tiles := j.ns * j.th * j.tw
		j.v = buf.data[:j.nt*j.cin*tiles]
		j.m = buf.data[j.nt*j.cin*tiles : j.nt*(j.cin+j.cout)*tiles]
		j.panelV = panels && j.panelsFit(tiles)
		if j.tile == 4 {
			parallelRange(j.ns*j.cin, j.th*j.tw*200, (*input4Job)(j))
		} else {
			parallelRange(j.ns*j.cin, j.th*j.tw*48, (*inputJob)(j))
		}
		body(tiles)
	}
	j.v, j.m, j.panelV = nil, nil, false
}

// winogradPanels: write V in the layout of the products' packed B where
// the kernel would pack it (a var so tests can compare). Packing V, 16
// floats from each row of 4 KB at 64x64, was 6% of a generator's time on
// AVX2; written in place by the transform, the copy is gone.
var winogradPanels = true

// panelsFit reports whether the F(2x2) products of a chunk of tiles can
// take V as written in panels: the kernel packs B there (AVX-512 reads
// these rows in place), V is one block of depth (cin <= kc), and a row of
// tiles fills whole panels or whole parts of one (16x16's rows of 8 tiles
// on AVX2: two rows a panel), with no panel left part-filled.
func (j *winograd) panelsFit(tiles int) bool {
	g := activeGemm
	return winogradPanels && j.tile == 2 && (j.tw%g.nr == 0 || g.nr%j.tw == 0) && tiles%g.nr == 0 &&
		j.cin <= g.kc && !g.readsBInPlace(j.cout, j.cin, tiles)
}

// panelOffset is where V's row c, tile t of a plane lies when written in
// panels: PackedB's layout of one block, nr tiles by cin rows a panel.
func (j *winograd) panelOffset(c, t int) int {
	nr := activeGemm.nr
	return t/nr*j.cin*nr + c*nr + t%nr
}

// chunkSamples sets the tiles per plane and returns the samples of one
// chunk, and the transformed floats (input and products) of a sample.
func (j *winograd) chunkSamples() (chunk, perSample int) {
	j.th, j.tw = (j.oh+j.tile-1)/j.tile, (j.ow+j.tile-1)/j.tile
	perSample = j.nt * j.th * j.tw * (j.cin + j.cout)
	chunk = max(1, min(j.n, winogradTileFloats/perSample))
	return ceilDiv(j.n, ceilDiv(j.n, chunk)), perSample // as many chunks, of even size: no thin last GEMM
}

// run multiplies in the transformed domain and transforms the products back
// into y.
func (j *winograd) run() {
	j.chunks(true, func(tiles int) {
		plane := j.cin * tiles
		for xi := 0; xi < j.nt; xi++ {
			vp := PackedB{g: activeGemm, k: j.cin, n: tiles, data: j.v[xi*plane : (xi+1)*plane]}
			switch {
			case j.panelV && j.uPacked:
				gemmPackedAB(&j.packedU[xi], &vp, 1, 0, j.m, xi*j.cout*tiles, tiles)
			case j.panelV:
				vp.Gemm(j.cout, 1, j.u, xi*j.cout*j.cin, j.cin, 1, 0, j.m, xi*j.cout*tiles, tiles)
			case j.uPacked:
				j.packedU[xi].Gemm(tiles, 1, j.v, xi*plane, tiles, 1, 0, j.m, xi*j.cout*tiles, tiles)
			default:
				Gemm(j.cout, tiles, j.cin, 1, j.u, xi*j.cout*j.cin, j.cin, 1,
					j.v, xi*plane, tiles, 1, 0, j.m, xi*j.cout*tiles, tiles)
			}
		}
		if j.tile == 4 {
			parallelRange(j.ns*j.cout, j.th*j.tw*200, (*output4Job)(j))
			return
		}
		parallelRange(j.ns*j.cout, j.th*j.tw*40, (*outputJob)(j))
	})
}

// tileRowBuffers returns a rows r and a rows t of width floats, from one
// pooled buffer (put it back when done): an input transform's rows and
// their row pass.
func tileRowBuffers(a, width int) (buf *packBuffer, r, t [][]float32) {
	buf = convBufs.get(2 * a * width)
	r, t = make([][]float32, a), make([][]float32, a)
	for k := range a {
		r[k] = buf.data[k*width : (k+1)*width]
		t[k] = buf.data[(a+k)*width : (a+k+1)*width]
	}
	return buf, r, t
}

// inputRows walks the rows of tiles of planes [lo,hi) of the chunk (index
// s·cin + c): for each it loads into r (len(r) = m+2 rows, each as wide as
// every tile of the row: m·tw + 2 columns from -pw) the zero-padded input
// rows those tiles read, then calls f with the offset of the row's first
// tile in a transformed plane.
func (j *winograd) inputRows(lo, hi int, r [][]float32, f func(base int)) {
	tiles := j.ns * j.th * j.tw
	width := len(r[0])
	// Input columns [c0, c1) land at row[c0+pw:c1+pw]; the rest is padding.
	c0, c1 := max(0, -j.pw), min(j.w, width-j.pw)
	for p := lo; p < hi; p++ {
		s, c := p/j.cin, p%j.cin
		x := j.x[((j.s0+s)*j.cin+c)*j.h*j.w : ((j.s0+s)*j.cin+c+1)*j.h*j.w]
		out := c*tiles + s*j.th*j.tw
		for ty := 0; ty < j.th; ty++ {
			y0 := j.tile*ty - j.ph
			first := 0
			if keep := len(r) - j.tile; ty > 0 && keep > 0 {
				// The rows this tile row shares with the last one are
				// already there: rotate them to the front, fill the rest.
				// (Element by element: copy would call typedslicecopy,
				// which cost more than the rows it saves while the GC runs.)
				var held [8][]float32
				for i := range keep {
					held[i] = r[j.tile+i]
				}
				for i := len(r) - 1; i >= keep; i-- {
					r[i] = r[i-keep]
				}
				for i := range keep {
					r[i] = held[i]
				}
				first = keep
			}
			for k := first; k < len(r); k++ {
				row := r[k]
				if yy := y0 + k; yy >= 0 && yy < j.h && c1 > c0 {
					clear(row[:c0+j.pw]) // only the padding: the copy fills the rest
					copy(row[c0+j.pw:c1+j.pw], x[yy*j.w+c0:yy*j.w+c1])
					clear(row[c1+j.pw:])
				} else {
					clear(row)
				}
			}
			f(out + ty*j.tw)
		}
	}
}

type inputJob winograd

// runRange transforms planes [lo,hi) of the chunk, a row of tiles at a
// time: Bᵀ d on whole (zero-padded) input rows, then the column half on
// every tile of the row, so each of the 16 output planes receives one
// contiguous run per tile row.
func (j *inputJob) runRange(lo, hi int) {
	tiles := j.ns * j.th * j.tw
	plane := j.cin * tiles
	v := j.v[:16*plane]
	tw := j.tw
	buf, r, t := tileRowBuffers(4, 2*tw+2) // columns -pw .. 2tw+1-pw: every tile of the row
	defer convBufs.put(buf)
	(*winograd)(j).inputRows(lo, hi, r, func(base int) {
		if !j.panelV {
			transformInputTiles(v, plane, base, r, t, 0, tw)
			return
		}
		// Each run of nr tiles (or each row, where a panel holds several)
		// is contiguous in one panel's row c (panelOffset).
		c, t0, run := base/tiles, base%tiles, min(tw, activeGemm.nr)
		for q := 0; q < tw; q += run {
			transformInputTiles(v, plane, (*winograd)(j).panelOffset(c, t0+q), r, t, q, run)
		}
	})
}

// transformInputTiles writes V = Bᵀ d B of the n tiles from tile column q0
// of the row of tiles whose input rows r holds, at offset off of each of the
// 16 planes of v (plane floats apart); t is room for the row pass.
func transformInputTiles(v []float32, plane, off int, r, t [][]float32, q0, n int) {
	done := 0 // tiles transformed by the vector kernel
	if blocks := n / winoBlockTiles; winoInputBlocks != nil && blocks > 0 {
		done = winoBlockTiles * blocks
		_ = v[15*plane+off+done-1] // its last store,
		_ = r[3][2*(q0+done)+1]    // and last load, checked here
		winoInputBlocks(&v[off], 4*plane, &r[0][2*q0], &r[1][2*q0], &r[2][2*q0], &r[3][2*q0], blocks)
		if done == n {
			return
		}
	}
	end := 2*(q0+n) + 2 // the columns the tiles read
	r0 := r[0][2*(q0+done) : end]
	r1, r2, r3 := r[1][2*(q0+done):end], r[2][2*(q0+done):end], r[3][2*(q0+done):end]
	t0, t1, t2, t3 := t[0][:len(r0)], t[1][:len(r0)], t[2][:len(r0)], t[3][:len(r0)]
	for q := range r0 {
		t0[q], t1[q], t2[q], t3[q] = r0[q]-r2[q], r1[q]+r2[q], r2[q]-r1[q], r1[q]-r3[q]
	}
	for i, ti := range t {
		at := off + done
		d0 := v[(4*i)*plane+at : (4*i)*plane+off+n]
		d1 := v[(4*i+1)*plane+at : (4*i+1)*plane+off+n]
		d2 := v[(4*i+2)*plane+at : (4*i+2)*plane+off+n]
		d3 := v[(4*i+3)*plane+at : (4*i+3)*plane+off+n]
		ti = ti[:2*len(d0)+2]
		for tx := range d0 {
			e := ti[2*tx : 2*tx+4]
			a, b, cc, d := e[0], e[1], e[2], e[3]
			d0[tx], d1[tx], d2[tx], d3[tx] = a-cc, b+cc, cc-b, b-d
		}
	}
}

// outputRows walks the rows of tiles of planes [lo,hi) of the chunk's
// output (index s·cout + c), calling f with the output plane, its bias (0
// without), the row of tiles and the offset of its first tile in a product
// plane of j.m.
func (j *winograd) outputRows(lo, hi int, f func(y []float32, b float32, ty, o int)) {
	tiles := j.ns * j.th * j.tw
	for p := lo; p < hi; p++ {
		s, c := p/j.cout, p%j.cout
		y := j.y[((j.s0+s)*j.cout+c)*j.oh*j.ow : ((j.s0+s)*j.cout+c+1)*j.oh*j.ow]
		var b float32
		if j.bias != nil {
			b = j.bias[c]
		}
		in := c*tiles + s*j.th*j.tw
		for ty := 0; ty < j.th; ty++ {
			f(y, b, ty, in+ty*j.tw)
		}
	}
}

type outputJob winograd

// runRange transforms back planes [lo,hi) of the chunk, a row of tiles at a
// time, reading one contiguous run of each of the 16 product planes.
func (j *outputJob) runRange(lo, hi int) {
	plane := j.cout * j.ns * j.th * j.tw
	mm := j.m[:16*plane]
	tw := j.tw
	(*winograd)(j).outputRows(lo, hi, func(y []float32, b float32, ty, o int) {
		pl := func(xi int) []float32 { return mm[xi*plane+o : xi*plane+o+tw] }
		m0, m1, m2, m3 := pl(0), pl(1), pl(2), pl(3)
		m4, m5, m6, m7 := pl(4), pl(5), pl(6), pl(7)
		m8, m9, m10, m11 := pl(8), pl(9), pl(10), pl(11)
		m12, m13, m14, m15 := pl(12), pl(13), pl(14), pl(15)
		r0 := 2 * ty
		row0 := y[r0*j.ow : (r0+1)*j.ow]
		var row1 []float32
		if r0+1 < j.oh {
			row1 = y[(r0+1)*j.ow : (r0+2)*j.ow]
		}
		done := 0 // tiles transformed by the vector kernel: whole ones only
		if blocks := min(tw, j.ow/2) / winoBlockTiles; winoOutputBlocks != nil && blocks > 0 && row1 != nil {
			done = winoBlockTiles * blocks
			_ = m15[done-1]    // its last load
			_ = row1[2*done-1] // and store, checked here
			winoOutputBlocks(&m0[0], 4*plane, &row0[0], &row1[0], b, blocks)
		}
		for tx := done; tx < len(m0); tx++ {
			// Aᵀ m (rows s0, s1), then times A.
			s00 := m0[tx] + m4[tx] + m8[tx]
			s01 := m1[tx] + m5[tx] + m9[tx]
			s02 := m2[tx] + m6[tx] + m10[tx]
			s03 := m3[tx] + m7[tx] + m11[tx]
			s10 := m4[tx] - m8[tx] - m12[tx]
			s11 := m5[tx] - m9[tx] - m13[tx]
			s12 := m6[tx] - m10[tx] - m14[tx]
			s13 := m7[tx] - m11[tx] - m15[tx]
			c0 := 2 * tx
			row0[c0] = s00 + s01 + s02 + b
			if c0+1 < j.ow {
				row0[c0+1] = s01 - s02 - s03 + b
			}
			if row1 != nil {
				row1[c0] = s10 + s11 + s12 + b
				if c0+1 < j.ow {
					row1[c0+1] = s11 - s12 - s13 + b
				}
			}
		}
	})
}

// gradTiles walks the tiles of planes [lo,hi) of the chunk's output
// gradient (index s·cout + c), calling f with the plane, the tile's first
// row and column and its offset in a transformed plane of j.m.
func (j *winograd) gradTiles(lo, hi int, f func(gy []float32, r0, c0, o int)) {
	tiles := j.ns * j.th * j.tw
	for p := lo; p < hi; p++ {
		s, c := p/j.cout, p%j.cout
		gy := j.gy[((j.s0+s)*j.cout+c)*j.oh*j.ow : ((j.s0+s)*j.cout+c+1)*j.oh*j.ow]
		out := c*tiles + s*j.th*j.tw
		for ty := 0; ty < j.th; ty++ {
			for tx := 0; tx < j.tw; tx++ {
				f(gy, j.tile*ty, j.tile*tx, out+ty*j.tw+tx)
			}
		}
	}
}

type gradOutputJob winograd

// runRange writes m = A ȳ Aᵀ (the adjoint of the output transform) for planes
// [lo,hi) of the chunk's output gradient (index s·cout + c), a row of tiles
// at a time; the rows and columns of a tile past the edge of an odd-sized
// output count as zero.
func (j *gradOutputJob) runRange(lo, hi int) {
	tiles := j.ns * j.th * j.tw
	plane := j.cout * tiles
	mm := j.m[:16*plane]
	for p := lo; p < hi; p++ {
		s, c := p/j.cout, p%j.cout
		gy := j.gy[((j.s0+s)*j.cout+c)*j.oh*j.ow : ((j.s0+s)*j.cout+c+1)*j.oh*j.ow]
		out := c*tiles + s*j.th*j.tw
		for ty := 0; ty < j.th; ty++ {
			r0, o := 2*ty, out+ty*j.tw
			done := 0 // tiles transformed by the vector kernel: whole ones only
			if blocks := min(j.tw, j.ow/2) / winoBlockTiles; winoGradOutputBlocks != nil && blocks > 0 && r0+1 < j.oh {
				done = winoBlockTiles * blocks
				_ = mm[15*plane+o+done-1]    // its last store
				_ = gy[(r0+1)*j.ow+2*done-1] // and its last load, checked here
				winoGradOutputBlocks(&mm[o], 4*plane, &gy[r0*j.ow], &gy[(r0+1)*j.ow], blocks)
			}
			for tx := done; tx < j.tw; tx++ {
				j.gradTile(mm, plane, gy, r0, 2*tx, o+tx)
			}
		}
	}
}

// gradTile is runRange for the tile at (r0, c0), offset o in a plane.
func (j *gradOutputJob) gradTile(mm []float32, plane int, gy []float32, r0, c0, o int) {
	var g00, g01, g10, g11 float32
	g00 = gy[r0*j.ow+c0]
	if c0+1 < j.ow {
		g01 = gy[r0*j.ow+c0+1]
	}
	if r0+1 < j.oh {
		g10 = gy[(r0+1)*j.ow+c0]
		if c0+1 < j.ow {
			g11 = gy[(r0+1)*j.ow+c0+1]
		}
	}
	// A ȳ: rows ȳ0, ȳ0+ȳ1, ȳ0−ȳ1, −ȳ1; then each row (a, b)
	// times Aᵀ: a, a+b, a−b, −b.
	rows := [4][2]float32{{g00, g01}, {g00 + g10, g01 + g11}, {g00 - g10, g01 - g11}, {-g10, -g11}}
	for i, r := range rows {
		a, b := r[0], r[1]
		mm[(4*i)*plane+o] = a
		mm[(4*i+1)*plane+o] = a + b
		mm[(4*i+2)*plane+o] = a - b
		mm[(4*i+3)*plane+o] = -b
	}
}
