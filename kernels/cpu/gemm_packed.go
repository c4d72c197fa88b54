package cpu

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"unsafe"
)

// gemmKernel describes one register-tiled micro-kernel and the cache blocking
// that suits it. tile computes the mr x nr block
//
//	C = alpha * Apanel @ Bpanel + beta * C   (beta == 0: C is not read)
//
// from packed panels: Apanel holds kc groups of mr values (one per row),
// Bpanel kc groups of nr values (one per column); C is row-major with ldc.
type gemmKernel struct {
	mr, nr int
	kc     int // depth of one packed block
	mc     int // rows of one packed A block, kept in L2; a multiple of mr
	nc     int // columns of one packed B block, kept in L3; a multiple of nr
	tile   func(kc int, a, b, c *float32, ldc int, alpha, beta float32)
	// tileB, where the kernel has it, is tile with row p of the B
	// micro-panel at b + p·ldb: nr apart in a packed panel, B's row stride
	// when row-major B is read in place (then not packed). It takes every
	// tile of the kernels that have it.
	tileB func(kc int, a, b, c *float32, ldc, ldb int, alpha, beta float32)
	// inPlace, set with tileB, decides which row-major Bs (depth k, rows
	// ldb apart, against m rows of A) are read in place rather than packed.
	inPlace func(m, k, ldb int) bool
	// tileRows, where the kernel has it, is tile with row p of the B
	// micro-panel at b + rows[p] (gemmBatchedRows's B read in place); it
	// is used only when every edge tile has its tileRows too.
	tileRows func(kc int, a, b *float32, rows *int, c *float32, ldc int, alpha, beta float32)
	// edges, where the kernel has them, are shorter tiles for the bottom
	// rows of a product, which the full tile would mostly compute as padding
	// (512 = 36·14 + 8, 32 = 2·14 + 4), fewest rows first; the rows left over
	// take the first that holds them.
	edges []edgeTile
	// pair, where the kernel has it, ends a product whose last row panel
	// holds at most pair.rows rows: the full panel before it goes to the
	// edge tile of mr - pair.rows rows, and its last pair.rows rows with
	// the short panel's to the pair tile (AVX2: 32 = 4·6 + 4 + (2+2)).
	pair  *pairTile
	bufs  bufferStack
	calls sync.Pool // *gemmCall
}

// edgeTile computes a tile of rows rows: row r of A at a + r + p·lda for step
// p of k, B rows ldb apart (nr when packed), C as tile's.
type edgeTile struct {
	rows     int
	tile     func(kc int, a *float32, lda int, b, c *float32, ldc, ldb int, alpha, beta float32)
	tileRows func(kc int, a *float32, lda int, b *float32, rows *int, c *float32, ldc int, alpha, beta float32)
}

// pairTile computes 2·rows rows: the first rows at a + r + p·lda, the
// others at a2 + r + p·lda (the ends of two consecutive packed row panels),
// B and C as edgeTile's.
type pairTile struct {
	rows     int
	tile     func(kc int, a *float32, lda int, a2, b, c *float32, ldc, ldb int, alpha, beta float32)
	tileRows func(kc int, a *float32, lda int, a2, b *float32, rows *int, c *float32, ldc int, alpha, beta float32)
}

// readsRows reports whether every tile of the kernel can read B through a
// row offset table, so gemmBatchedRows need not pack.
func (g *gemmKernel) readsRows() bool {
	if g.tileRows == nil {
		return false
	}
	for _, e := range g.edges {
		if e.tileRows == nil {
			return false
		}
	}
	return g.pair == nil || g.pair.tileRows != nil
}

// edgeFor returns the edge tile for the last mw rows, or nil if none holds them.
func (g *gemmKernel) edgeFor(mw int) *edgeTile {
	for i := range g.edges {
		if mw <= g.edges[i].rows {
			return &g.edges[i]
		}
	}
	return nil
}

// bufferStack keeps scratch buffers for reuse. Unlike a sync.Pool it never
// drops them at a GC, so steady-state calls allocate nothing at all.
type bufferStack struct {
	mu   sync.Mutex
	free []*packBuffer
}

type packBuffer struct{ data []float32 }

func (s *bufferStack) get(n int) *packBuffer {
	s.mu.Lock()
	var pb *packBuffer
	if k := len(s.free); k > 0 {
		pb = s.free[k-1]
		s.free = s.free[:k-1]
	}
	s.mu.Unlock()
	if pb == nil {
		pb = new(packBuffer)
	}
	if cap(pb.data) < n {
		pb.data = make([]float32, n)
	}
	pb.data = pb.data[:n]
	return pb
}

func (s *bufferStack) put(pb *packBuffer) {
	if pb == nil { // nothing was taken (colBuffer of an identity col)
		return
	}
	s.mu.Lock()
	s.free = append(s.free, pb)
	s.mu.Unlock()
}

// gemmCall holds the arguments and blocking of one product, so the parallel
// phases can be handed to workers as interfaces without allocating. A batch
// of products sharing A (C_s = A·B_s) is one call: the column micro-panels of
// all the B_s form one sequence, so A is packed once for all of them.
type gemmCall struct {
	g           *gemmKernel
	m, n, k     int
	alpha, beta float32
	a           []float32
	aOff        int
	aRow, aCol  int
	b           []float32
	bOff        int
	bRow, bCol  int
	bRows       []int // B row p at bOff + bRows[p] (columns contiguous) instead of p·bRow
	bCols       []int // with bRows: column j at bRows[p] + bCols[j] (gemmRowsCols)
	bRuns       []int // and bRuns[p]: the rows from p on that are one apart
	c           []float32
	cOff, ldc   int
	batch       int
	bStride     int // element offset between consecutive B_s
	cStride     int // and between consecutive C_s
	// With inner > 1 the batch is a grid: B_s at s/inner·bStride +
	// s%inner·bInner, C_s likewise (gemmGridRows).
	inner, bInner, cInner int

	mPanels, mBlocks int // row micro-panels, split evenly into row blocks
	nChunks          int // column chunks per row block
	panelsPerItem    int // column micro-panels of one B_s
	jp0, panels      int // the column micro-panels of the B block being worked on
	pc, kc           int // and its rows
	betaBlk          float32
	bp               []float32 // packed B block
	direct           bool      // full-width B micro-panels read in place (tileB)
	prepacked        []float32 // B packed beforehand (PackedB): no packing phase
	packedA          []float32 // A packed beforehand (PackedA): row blocks read from it
}

// panel maps column micro-panel jp (of the whole batch) to the offset of its
// first column in B and in C (row 0), and its width.
func (p *gemmCall) panel(jp int) (bOff, cOff, width int) {
	s, lp := jp/p.panelsPerItem, jp%p.panelsPerItem
	j := lp * p.g.nr
	bItem, cItem := s*p.bStride, s*p.cStride
	if p.inner > 1 {
		bItem, cItem = s/p.inner*p.bStride+s%p.inner*p.bInner, s/p.inner*p.cStride+s%p.inner*p.cInner
	}
	return p.bOff + bItem + j*p.bCol, p.cOff + cItem + j, min(p.g.nr, p.n-j)
}

// packBPhase packs micro-panels [lo,hi) of the current B block.
type packBPhase gemmCall

func (p *packBPhase) runRange(lo, hi int) {
	nr, kc := p.g.nr, p.kc
	for jp := lo; jp < hi; jp++ {
		bOff, _, width := (*gemmCall)(p).panel(p.jp0 + jp)
		if p.direct && width == nr {
			continue
		}
		if p.bCol == 1 && p.bRows == nil && width == nr {
			// A run of full panels of one item: row by row across them.
			run := 1
			for jp+run < hi {
				lp := (p.jp0 + jp + run) % p.panelsPerItem
				if lp == 0 || (lp+1)*nr > p.n {
					break
				}
				run++
			}
			packBAcross(p.bp[jp*kc*nr:(jp+run)*kc*nr], nr, kc, run, p.b, bOff+p.pc*p.bRow, p.bRow)
			jp += run - 1
			continue
		}
		if p.bCols != nil {
			j := (p.jp0 + jp) % p.panelsPerItem * nr
			packBTransposed(p.bp[jp*kc*nr:(jp+1)*kc*nr], nr, p.b, bOff, p.bRows[p.pc:p.pc+kc], p.bRuns[p.pc:p.pc+kc], p.bCols[j:j+width])
			continue
		}
		if p.bRows != nil {
			packBRows(p.bp[jp*kc*nr:(jp+1)*kc*nr], nr, width, p.b, bOff, p.bRows[p.pc:p.pc+kc])
			continue
		}
		packB(p.bp[jp*kc*nr:(jp+1)*kc*nr], nr, kc, width, p.b, bOff+p.pc*p.bRow, p.bRow, p.bCol)
	}
}

// computePhase runs tasks [lo,hi): task t packs row block t/nChunks of A and
// multiplies it with column chunk t%nChunks of the packed B block.
type computePhase gemmCall

func (p *computePhase) runRange(lo, hi int) {
	g := p.g
	mr, nr, kc := g.mr, g.nr, p.kc
	aFloats := ceilDiv(p.mPanels, p.mBlocks) * mr * kc
	if p.packedA != nil {
		aFloats = 0
	}
	buf := g.bufs.get(aFloats + mr*nr)
	for t := lo; t < hi; t++ {
		ib, jchunk := t/p.nChunks, t%p.nChunks
		ic := ib * p.mPanels / p.mBlocks * mr
		mc := min((ib+1)*p.mPanels/p.mBlocks*mr, p.m) - ic
		var ap []float32
		if p.packedA != nil { // PackedA's layout: blocks of kcMax steps of k, then row panels
			ap = p.packedA[p.pc*p.mPanels*mr+ic*kc:][:ceilDiv(mc, mr)*mr*kc]
		} else {
			ap = buf.data[:ceilDiv(mc, mr)*mr*kc]
			packAPanels(ap, mr, kc, mc, p.a, p.aOff+ic*p.aRow+p.pc*p.aCol, p.aRow, p.aCol)
		}
		jpLo := jchunk * p.panels / p.nChunks
		jpHi := (jchunk + 1) * p.panels / p.nChunks
		(*gemmCall)(p).macro(ic, mc, ap, jpLo, jpHi, buf.data[len(buf.data)-mr*nr:])
	}
	g.bufs.put(buf)
}

// macro sweeps the micro-kernel over one packed A block (rows [ic, ic+mc))
// and the packed B micro-panels [jpLo,jpHi) of the current block. Edge tiles
// are computed into tmp and merged, so the kernel never writes outside C.
func (p *gemmCall) macro(ic, mc int, ap []float32, jpLo, jpHi int, tmp []float32) {
	g := p.g
	mr, nr, kc := g.mr, g.nr, p.kc
	alpha, beta, ldc, c := p.alpha, p.betaBlk, p.ldc, p.c
	pr := g.pair
	for jp := jpLo; jp < jpHi; jp++ {
		bOff, cOff, nw := p.panel(p.jp0 + jp)
		cOff += ic * ldc
		// A full-width panel of row-major B is read in place (rows bRow
		// apart) where the kernel can; otherwise from the packed block (rows
		// nr apart).
		bpp, ldb := &p.bp[jp*kc*nr], nr
		var rows *int // B read through the row table
		if p.direct && nw == nr {
			if p.bRows != nil {
				bpp, rows = &p.b[bOff], &p.bRows[p.pc]
			} else {
				bpp, ldb = &p.b[bOff+p.pc*p.bRow], p.bRow
			}
		}
		tile := func(app, c *float32, ldc int, beta float32) {
			if rows != nil {
				g.tileRows(kc, app, bpp, rows, c, ldc, alpha, beta)
			} else if g.tileB != nil {
				g.tileB(kc, app, bpp, c, ldc, ldb, alpha, beta)
			} else {
				g.tile(kc, app, bpp, c, ldc, alpha, beta)
			}
		}
		// place runs a tile that computes height >= want rows for C's rows
		// from i: straight into C when they are exactly the tile, else into
		// tmp and merged.
		place := func(i, want, height int, run func(c *float32, ldc int, beta float32)) {
			if want == height && nw == nr {
				run(&c[cOff+i*ldc], ldc, beta)
				return
			}
			run(&tmp[0], nr, 0)
			mergeRows(tmp, nr, c, cOff+i*ldc, ldc, want, nw, beta)
		}
		edge := func(e *edgeTile, app *float32) func(c *float32, ldc int, beta float32) {
			return func(c *float32, ldc int, beta float32) {
				if rows != nil {
					e.tileRows(kc, app, mr, bpp, rows, c, ldc, alpha, beta)
				} else {
					e.tile(kc, app, mr, bpp, c, ldc, ldb, alpha, beta)
				}
			}
		}
		for i := 0; i < mc; i += mr {
			mw := min(mr, mc-i)
			app := &ap[i*kc]
			if left := mc - i - mr; pr != nil && mw == mr && left > 0 && left <= pr.rows {
				head := mr - pr.rows
				place(i, head, head, edge(g.edgeFor(head), app))
				a2 := &ap[(i+mr)*kc]
				place(i+head, pr.rows+left, 2*pr.rows, func(c *float32, ldc int, beta float32) {
					if rows != nil {
						pr.tileRows(kc, &ap[i*kc+head], mr, a2, bpp, rows, c, ldc, alpha, beta)
					} else {
						pr.tile(kc, &ap[i*kc+head], mr, a2, bpp, c, ldc, ldb, alpha, beta)
					}
				})
				break
			}
			if mw == mr && nw == nr {
				tile(app, &c[cOff+i*ldc], ldc, beta)
				continue
			}
			if e := g.edgeFor(mw); e != nil {
				place(i, mw, e.rows, edge(e, app))
				continue
			}
			tile(app, &tmp[0], nr, 0)
			mergeRows(tmp, nr, c, cOff+i*ldc, ldc, mw, nw, beta)
		}
	}
}

// mergeRows writes the top-left rows x nw of the tile tmp (row stride nr)
// into C: C = tmp + beta·C.
func mergeRows(tmp []float32, nr int, c []float32, cOff, ldc, rows, nw int, beta float32) {
	for r := 0; r < rows; r++ {
		row := c[cOff+r*ldc : cOff+r*ldc+nw]
		src := tmp[r*nr : r*nr+nw]
		if beta == 0 {
			copy(row, src)
		} else {
			for q := range row {
				row[q] = src[q] + beta*row[q]
			}
		}
	}
}

// gemm is the packed, cache-blocked product with GemmRef's semantics.
func (g *gemmKernel) gemm(m, n, k int, alpha float32,
	a []float32, aOff, aRow, aCol int,
	b []float32, bOff, bRow, bCol int,
	beta float32, c []float32, cOff, ldc int) {
	g.gemmBatched(1, m, n, k, alpha, a, aOff, aRow, aCol, b, bOff, bRow, bCol, 0, beta, c, cOff, ldc, 0)
}

// gemmBatched is GemmBatchedRef's computation: for each block of the B_s
// (kc rows, up to nc columns over the batch, packed once and shared), the
// rows of A are split between the workers, each packing its own A block and
// sweeping the micro-kernel over it.
func (g *gemmKernel) gemmBatched(batch, m, n, k int, alpha float32,
	a []float32, aOff, aRow, aCol int,
	b []float32, bOff, bRow, bCol, bStride int,
	beta float32, c []float32, cOff, ldc, cStride int) {
	if m <= 0 || n <= 0 || batch <= 0 {
		return
	}
	if emptyProduct(batch, m, n, k, alpha, beta, c, cOff, ldc, cStride) {
		return
	}
	g.runPooled(gemmCall{g: g, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, aOff: aOff, aRow: aRow, aCol: aCol,
		b: b, bOff: bOff, bRow: bRow, bCol: bCol,
		c: c, cOff: cOff, ldc: ldc,
		batch: batch, bStride: bStride, cStride: cStride,
		direct: bCol == 1 && g.readsBInPlace(m, k, bRow)})
}

// emptyProduct checks every C_s against c and, when the product adds
// nothing (k = 0 or alpha = 0), scales them by beta; it reports whether that
// was all there was to do.
func emptyProduct(batch, m, n, k int, alpha, beta float32, c []float32, cOff, ldc, cStride int) bool {
	for s := 0; s < batch; s++ {
		checkGemmC(m, n, c, cOff+s*cStride, ldc)
	}
	if k > 0 && alpha != 0 {
		return false
	}
	for s := 0; s < batch; s++ {
		scaleRows(m, n, beta, c, cOff+s*cStride, ldc)
	}
	return true
}

// runPooled runs the product c describes on a pooled gemmCall, which is
// cleared (dropping the caller's slices) before it goes back.
func (g *gemmKernel) runPooled(c gemmCall) {
	p, _ := g.calls.Get().(*gemmCall)
	if p == nil {
		p = new(gemmCall)
	}
	*p = c
	g.run(p)
	*p = gemmCall{}
	g.calls.Put(p)
}

// gemmBatchedRows is gemmBatched for a B whose rows are not evenly spaced:
// row p of B_s starts at b[bOff + s·bStride + rows[p]] and its columns are
// contiguous. A convolution's taps are such rows over its zero-padded input
// (implicit im2col, conv_implicit.go), so no col buffer is written.
func (g *gemmKernel) gemmBatchedRows(batch, m, n, k int, alpha float32,
	a []float32, aOff, aRow, aCol int,
	b []float32, bOff int, rows []int, bStride int,
	beta float32, c []float32, cOff, ldc, cStride int) {
	g.gemmGridRows(batch, 1, m, n, k, alpha, nil, a, aOff, aRow, aCol, b, bOff, rows, bStride, 0, beta, c, cOff, ldc, cStride, 0)
}

// gemmGridRows is gemmBatchedRows over a grid of outer x inner products
// (gemmBatchedRows is its outer x 1):
// B_(s,r) at b[bOff + s·bStride + r·bInner] (rows through the table, n
// contiguous columns each) and C_(s,r) at c[cOff + s·cStride + r·cInner].
// A convolution's output rows are such products when each is a whole
// number of column panels: the taps of row r start r padded rows on, and
// the product writes y's row directly, with neither the padded width's
// extra columns nor a copy out of a wide buffer. pa, when not nil, is A
// packed beforehand (and a, aOff, aRow, aCol are ignored).
func (g *gemmKernel) gemmGridRows(outer, inner, m, n, k int, alpha float32,
	pa *PackedA, a []float32, aOff, aRow, aCol int,
	b []float32, bOff int, rows []int, bStride, bInner int,
	beta float32, c []float32, cOff, ldc, cStride, cInner int) {
	if m <= 0 || n <= 0 || outer <= 0 || inner <= 0 {
		return
	}
	if pa != nil && (!pa.Current() || pa.g != g || pa.m != m || pa.k != k) {
		panic(fmt.Sprintf("cpu.gemmGridRows: A packed as [%d,%d] for another kernel or shape than [%d,%d]", pa.m, pa.k, m, k))
	}
	// The last product's rows and columns bound every other's (strides
	// are offsets forward).
	if bOff < 0 || bStride < 0 || bInner < 0 || cStride < 0 || cInner < 0 {
		panic(fmt.Sprintf("cpu.gemmGridRows: negative offset or stride (b at %d+s*%d+r*%d, c at s*%d+r*%d)", bOff, bStride, bInner, cStride, cInner))
	}
	checkRowTable("cpu.gemmGridRows", rows, k, n, 1, b, bOff+(outer-1)*bStride+(inner-1)*bInner, 0)
	checkGemmC(m, n, c, cOff, ldc)
	checkGemmC(m, n, c, cOff+(outer-1)*cStride+(inner-1)*cInner, ldc)
	if k == 0 || alpha == 0 {
		for s := 0; s < outer; s++ {
			for r := 0; r < inner; r++ {
				scaleRows(m, n, beta, c, cOff+s*cStride+r*cInner, ldc)
			}
		}
		return
	}
	call := gemmCall{g: g, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, aOff: aOff, aRow: aRow, aCol: aCol,
		b: b, bOff: bOff, bCol: 1, bRows: rows,
		c: c, cOff: cOff, ldc: ldc,
		batch: outer * inner, bStride: bStride, cStride: cStride,
		inner: inner, bInner: bInner, cInner: cInner,
		direct: gemmDirectB && g.readsRows()}
	if pa != nil {
		call.packedA = pa.data
	}
	g.runPooled(call)
}

// checkRowTable guards the products whose B rows come from a table
// (row p of B_s at b[bOff + s·bStride + rows[p]], n columns): one offset
// per step of k, every row inside b, since the packing's assembly and the
// kernels read through the table unchecked.
func checkRowTable(op string, rows []int, k, n, batch int, b []float32, bOff, bStride int) {
	if len(rows) != k {
		panic(fmt.Sprintf("%s: %d row offsets for k = %d", op, len(rows), k))
	}
	if k == 0 || n <= 0 || batch <= 0 {
		return
	}
	if lo, hi := slices.Min(rows), slices.Max(rows); lo < 0 || bOff < 0 || bOff+(batch-1)*bStride+hi+n > len(b) {
		panic(fmt.Sprintf("%s: rows [%d,%d] of %d columns, batch %d at %d+s*%d, outside b of length %d",
			op, lo, hi, n, batch, bOff, bStride, len(b)))
	}
}

// gemmSplitColumns: a var so benchmarks can compare the column split of
// products with few row panels against the row split.
var gemmSplitColumns = true

// gemmDirectB lets kernels with tileB read row-major B in place; a var so
// tests and benchmarks can compare both paths.
var gemmDirectB = true

// readsBInPlace: whether the kernel reads a row-major B of depth k with rows
// ldb floats apart in place, for a product with m rows of A.
func (g *gemmKernel) readsBInPlace(m, k, ldb int) bool {
	return g.tileB != nil && gemmDirectB && g.inPlace(m, k, ldb)
}

// readBInPlace is the AVX-512 kernel's in-place rule (whatever the rows of
// A): whether a row-major B of depth k with rows ldb floats apart
// is read in place rather than packed. Deep products over rows a page or
// more apart are packed: in place, every k step of a micro-kernel call
// touches a new page, and the TLB misses cost more than the copy (1024^3
// on a Zen 5 VM: 14-20% faster packed, interleaved runs); shallower ones
// (Winograd's GEMMs, k = channels <= 512, B rows 16 KB apart) lose more
// to the copy than they gain.
func readBInPlace(_, k, ldb int) bool {
	return k <= 512 || ldb < 1024
}

// gemmRowsCols is gemm for a B whose element (p, j) is b[bOff + rows[p] +
// cols[j]]: a convolution's colᵀ (rows the output positions in the padded
// input, cols the taps), packed straight from the padded input
// (packBTransposed) for the weight gradient, without a col buffer. runs[p]
// is the number of rows from p on that follow each other one apart.
func (g *gemmKernel) gemmRowsCols(m, n, k int, alpha float32,
	a []float32, aOff, aRow, aCol int,
	b []float32, bOff int, rows, runs, cols []int,
	beta float32, c []float32, cOff, ldc int) {
	if m <= 0 || n <= 0 {
		return
	}
	if len(rows) != k || len(runs) != k || len(cols) != n {
		panic(fmt.Sprintf("cpu.gemmRowsCols: %d row offsets, %d runs and %d column offsets for k = %d, n = %d", len(rows), len(runs), len(cols), k, n))
	}
	if emptyProduct(1, m, n, k, alpha, beta, c, cOff, ldc, 0) {
		return
	}
	// The packing's assembly reads through the tables unchecked.
	if lo, hi := slices.Min(rows)+slices.Min(cols), slices.Max(rows)+slices.Max(cols); lo < 0 || bOff < 0 || bOff+hi >= len(b) {
		panic(fmt.Sprintf("cpu.gemmRowsCols: offsets [%d,%d] at %d outside b of length %d", lo, hi, bOff, len(b)))
	}
	g.runPooled(gemmCall{g: g, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, aOff: aOff, aRow: aRow, aCol: aCol,
		b: b, bOff: bOff, bRows: rows, bRuns: runs, bCols: cols,
		c: c, cOff: cOff, ldc: ldc, batch: 1})
}

// Below this many multiply-adds per worker (about 5 µs at the kernels' rate),
// waking another thread costs more than it saves.
const gemmGrain = 1 << 19

func (g *gemmKernel) run(p *gemmCall) {
	m, k := p.m, p.k
	mr, nr := g.mr, g.nr
	p.panelsPerItem = ceilDiv(p.n, nr)
	totalPanels := p.batch * p.panelsPerItem
	kcMax := min(g.kc, k)
	blockPanels := min(max(1, g.nc/nr), totalPanels)
	var bbuf *packBuffer
	if p.prepacked == nil {
		bbuf = g.bufs.get(kcMax * blockPanels * nr)
		defer g.bufs.put(bbuf)
	}

	workers := min(runtime.GOMAXPROCS(0), max(1, m*p.n*p.batch*k/gemmGrain))
	// Split the row micro-panels evenly into blocks of at most mc rows, and
	// enough of them that the workers can balance a slowed-down thread (see
	// parallelRange), keeping at least two panels a block; if rows are too
	// few for every worker, split columns too.
	mPanels := ceilDiv(m, mr)
	mBlocks := ceilDiv(m, g.mc)
	// Too few row panels to share out evenly (32 rows: 14 + 14 + 4; 16:
	// 14 + 2): one row block, and the columns split into chunks the workers
	// balance, each of at least four micro-panels, since every chunk packs
	// the whole of A again. (One row panel already splits the columns.)
	fewRows := workers > 1 && mPanels >= 2 && mPanels < 2*workers && mBlocks == 1 && gemmSplitColumns
	if workers > 1 && !fewRows {
		mBlocks = max(mBlocks, min(workers*chunksPerWorker, mPanels/2), min(workers, mPanels))
	}
	p.mPanels, p.mBlocks = mPanels, mBlocks

	for p.jp0 = 0; p.jp0 < totalPanels; p.jp0 += blockPanels {
		p.panels = min(blockPanels, totalPanels-p.jp0)
		p.nChunks = 1
		if fewRows {
			p.nChunks = max(min(workers, p.panels), min(workers*chunksPerWorker, p.panels/4))
		} else if mBlocks < workers {
			p.nChunks = min(ceilDiv(workers, mBlocks), p.panels)
		}
		for p.pc = 0; p.pc < k; p.pc += kcMax {
			p.kc = min(kcMax, k-p.pc)
			p.betaBlk = p.beta
			if p.pc > 0 {
				p.betaBlk = 1
			}
			if p.prepacked != nil { // PackedB's layout: blocks of kcMax rows, then panels
				p.bp = p.prepacked[p.pc*totalPanels*nr+p.jp0*p.kc*nr:][:p.kc*p.panels*nr]
			} else {
				p.bp = bbuf.data[:p.kc*p.panels*nr]
			}
			// Costs are in multiply-adds, scaled to ParallelFor's grain;
			// packing a value costs about as much as 32 of them.
			if workers > 1 {
				if p.prepacked == nil {
					parallelRange(p.panels, 32*p.kc*nr*minGrain/gemmGrain, (*packBPhase)(p))
				}
				tasks := mBlocks * p.nChunks
				parallelRange(tasks, m/mBlocks*p.kc*p.panels*nr/p.nChunks*minGrain/gemmGrain, (*computePhase)(p))
			} else {
				if p.prepacked == nil {
					(*packBPhase)(p).runRange(0, p.panels)
				}
				(*computePhase)(p).runRange(0, mBlocks*p.nChunks)
			}
		}
	}
}

// checkGemmC guards the assembly kernels, which write C through raw pointers.
func checkGemmC(m, n int, c []float32, cOff, ldc int) {
	if ldc < n {
		panic(fmt.Sprintf("cpu.Gemm: ldc %d < n %d", ldc, n))
	}
	if cOff < 0 || cOff+(m-1)*ldc+n > len(c) {
		panic(fmt.Sprintf("cpu.Gemm: c of length %d too short for [%d,%d] at offset %d with ldc %d", len(c), m, n, cOff, ldc))
	}
}

// scaleRows sets C = beta*C (C = 0 when beta == 0, without reading it).
func scaleRows(m, n int, beta float32, c []float32, cOff, ldc int) {
	for i := 0; i < m; i++ {
		row := c[cOff+i*ldc : cOff+i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

func roundUp(a, b int) int { return ceilDiv(a, b) * b }

// floats views n float32 values at p as a slice, for the Go micro-kernel.
func floats(p *float32, n int) []float32 { return unsafe.Slice(p, n) }
