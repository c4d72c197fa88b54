package cpu

import (
	"fmt"
	"runtime"
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
	kc     int // depth of one packed block: B micro-panel kc*nr stays in L1
	mc     int // rows of one packed A block (L2); a multiple of mr
	nc     int // columns of one packed B block (L3); a multiple of nr
	tile   func(kc int, a, b, c *float32, ldc int, alpha, beta float32)
	pool   sync.Pool // *packBuffer, so steady-state calls do not allocate
}

// packBuffer is the scratch memory of one worker: its packed A block and a
// tile for the ragged edges of C.
type packBuffer struct{ data []float32 }

func (g *gemmKernel) getBuffer(n int) *packBuffer {
	pb, _ := g.pool.Get().(*packBuffer)
	if pb == nil {
		pb = new(packBuffer)
	}
	if cap(pb.data) < n {
		pb.data = make([]float32, n)
	}
	pb.data = pb.data[:n]
	return pb
}

// gemm is the packed, cache-blocked product with GemmRef's semantics: for each
// block of B (kc x nc, packed once and shared), the rows are split between the
// workers, each packing its own A block and sweeping the micro-kernel over it.
func (g *gemmKernel) gemm(m, n, k int, alpha float32,
	a []float32, aOff, aRow, aCol int,
	b []float32, bOff, bRow, bCol int,
	beta float32, c []float32, cOff, ldc int) {
	if m <= 0 || n <= 0 {
		return
	}
	checkGemmC(m, n, c, cOff, ldc)
	if k <= 0 || alpha == 0 {
		scaleRows(m, n, beta, c, cOff, ldc)
		return
	}
	mr, nr := g.mr, g.nr
	kcMax := min(g.kc, k)
	ncMax := min(g.nc, roundUp(n, nr))
	bbuf := g.getBuffer(kcMax * ncMax)
	defer g.pool.Put(bbuf)

	workers := runtime.GOMAXPROCS(0)
	// Split rows into blocks of at most mc, as many as the workers at least
	// when there are enough micro-panels; if rows are too few, split columns.
	mPanels := ceilDiv(m, mr)
	mBlocks := ceilDiv(m, g.mc)
	if mBlocks < workers {
		mBlocks = min(workers, mPanels)
	} else {
		mBlocks = roundUp(mBlocks, workers)
	}
	mcBlk := ceilDiv(mPanels, mBlocks) * mr
	mBlocks = ceilDiv(m, mcBlk)
	abufLen := mcBlk*kcMax + mr*nr

	for jc := 0; jc < n; jc += ncMax {
		nc := min(ncMax, n-jc)
		nPanels := ceilDiv(nc, nr)
		nChunks := 1
		if mBlocks < workers {
			nChunks = min(ceilDiv(workers, mBlocks), nPanels)
		}
		for pc := 0; pc < k; pc += kcMax {
			kc := min(kcMax, k-pc)
			betaBlk := beta
			if pc > 0 {
				betaBlk = 1
			}
			bp := bbuf.data[:kc*nPanels*nr]
			ParallelFor(nPanels, kc*nr, func(lo, hi int) {
				for jp := lo; jp < hi; jp++ {
					packB(bp[jp*kc*nr:(jp+1)*kc*nr], nr, kc, min(nr, nc-jp*nr),
						b, bOff+pc*bRow+(jc+jp*nr)*bCol, bRow, bCol)
				}
			})
			tasks := mBlocks * nChunks
			ParallelFor(tasks, mcBlk*kc*nc/nChunks, func(lo, hi int) {
				abuf := g.getBuffer(abufLen)
				for t := lo; t < hi; t++ {
					ib, jchunk := t/nChunks, t%nChunks
					ic := ib * mcBlk
					mc := min(mcBlk, m-ic)
					ap := abuf.data[:ceilDiv(mc, mr)*mr*kc]
					for ip := 0; ip*mr < mc; ip++ {
						packA(ap[ip*mr*kc:(ip+1)*mr*kc], mr, kc, min(mr, mc-ip*mr),
							a, aOff+(ic+ip*mr)*aRow+pc*aCol, aRow, aCol)
					}
					jpLo := jchunk * nPanels / nChunks
					jpHi := (jchunk + 1) * nPanels / nChunks
					g.macro(mc, kc, ap, bp, jpLo, jpHi, nc, alpha, betaBlk,
						c, cOff+ic*ldc+jc, ldc, abuf.data[len(abuf.data)-mr*nr:])
				}
				g.pool.Put(abuf)
			})
		}
	}
}

// macro sweeps the micro-kernel over one packed A block (mc rows) and the B
// micro-panels [jpLo,jpHi). Edge tiles are computed into tmp and merged so the
// kernel never writes outside C.
func (g *gemmKernel) macro(mc, kc int, ap, bp []float32, jpLo, jpHi, nc int,
	alpha, beta float32, c []float32, cOff, ldc int, tmp []float32) {
	mr, nr := g.mr, g.nr
	for jp := jpLo; jp < jpHi; jp++ {
		j := jp * nr
		nw := min(nr, nc-j)
		bpp := &bp[jp*kc*nr]
		for i := 0; i < mc; i += mr {
			mw := min(mr, mc-i)
			app := &ap[i*kc]
			if mw == mr && nw == nr {
				g.tile(kc, app, bpp, &c[cOff+i*ldc+j], ldc, alpha, beta)
				continue
			}
			g.tile(kc, app, bpp, &tmp[0], nr, alpha, 0)
			for r := 0; r < mw; r++ {
				row := c[cOff+(i+r)*ldc+j : cOff+(i+r)*ldc+j+nw]
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
	}
}

// packA copies rows [0,rows) x [0,kc) of A into dst as kc groups of mr values,
// zero-padding the rows past the edge.
func packA(dst []float32, mr, kc, rows int, a []float32, off, aRow, aCol int) {
	dst = dst[:kc*mr]
	if rows < mr {
		clear(dst)
	}
	if aRow == 1 { // column-major A: each group is contiguous in the source
		for p := 0; p < kc; p++ {
			copy(dst[p*mr:p*mr+rows], a[off+p*aCol:off+p*aCol+rows])
		}
		return
	}
	for r := 0; r < rows; r++ {
		src := off + r*aRow
		if aCol == 1 {
			row := a[src : src+kc]
			for p, v := range row {
				dst[p*mr+r] = v
			}
			continue
		}
		for p := 0; p < kc; p++ {
			dst[p*mr+r] = a[src+p*aCol]
		}
	}
}

// packB copies rows [0,kc) x columns [0,cols) of B into dst as kc groups of nr
// values, zero-padding the columns past the edge.
func packB(dst []float32, nr, kc, cols int, b []float32, off, bRow, bCol int) {
	dst = dst[:kc*nr]
	if cols < nr {
		clear(dst)
	}
	if bCol == 1 {
		for p := 0; p < kc; p++ {
			copy(dst[p*nr:p*nr+cols], b[off+p*bRow:off+p*bRow+cols])
		}
		return
	}
	for q := 0; q < cols; q++ {
		src := off + q*bCol
		if bRow == 1 {
			col := b[src : src+kc]
			for p, v := range col {
				dst[p*nr+q] = v
			}
			continue
		}
		for p := 0; p < kc; p++ {
			dst[p*nr+q] = b[src+p*bRow]
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

func ceilDiv(a, b int) int { return (a + b - 1) / b }
func roundUp(a, b int) int { return ceilDiv(a, b) * b }

// floats views n float32 values at p as a slice, for the Go micro-kernel.
func floats(p *float32, n int) []float32 { return unsafe.Slice(p, n) }
