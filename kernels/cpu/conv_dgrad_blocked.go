package cpu

// The input gradient's col = Wᵀ·gy has a short reduction (Cout) and a col
// as large as im2col's, so written whole (19 MB for the demo's 32x32 layers
// at batch 16) its GEMM waits on memory and Col2im reads it back from there.
// Here each item of work is one sample and a block of its channels: the
// GEMM writes that block's col rows (~256 KB, in L2) and Col2im adds them
// into those channels' planes at once. Each col value is the same dot
// product and each input gradient sums its taps in the same order as the
// whole-col schedule, so the bits do not change.

// dgradBlockFloats is the col block one item writes, in floats.
const dgradBlockFloats = 64 << 10

// dgradBlockChannels is the channels of one item: a col block of about
// dgradBlockFloats, and at least two tiles of rows for the GEMM.
func (g ConvGeom) dgradBlockChannels() int {
	taps := g.KH * g.KW
	cb := max(dgradBlockFloats/(taps*g.OH*g.OW), ceilDiv(2*activeGemm.mr, taps), 1)
	return min(cb, g.Cin/g.Groups)
}

type dgradJob struct {
	g      ConvGeom
	gy, w  []float32
	gx     []float32
	cb     int // channels per item
	blocks int // items per (sample, group)
	// prepack: the kernel would pack B (this sample's gy) for each item's
	// product, so the items of one sample share one packing instead (an
	// up-2 layer's 512x1024 gy at 32x32 was packed again for every col
	// block of 63 rows: half the AVX2 kernel's time in that layer).
	prepack bool
	// packedW, with several samples: each (group, block)'s rows of Wᵀ
	// packed once for all samples, wStride floats apart, rather than
	// again for every sample (Wᵀ is read down its columns, 18 KB apart
	// at 512 channels: 3% of a 64x64 generator's time at batch 4).
	packedW []float32
	wStride int
}

// blockRows is the channels and col rows of item blk's block.
func (j *dgradJob) blockRows(blk int) (c0, nc, rows int) {
	c0 = blk * j.cb
	nc = min(j.cb, j.g.Cin/j.g.Groups-c0)
	return c0, nc, nc * j.g.KH * j.g.KW
}

// packedBlock is (group, block)'s rows of Wᵀ in packedW.
func (j *dgradJob) packedBlock(gi, blk int) PackedA {
	_, _, rows := j.blockRows(blk)
	i := gi*j.blocks + blk
	return PackedA{g: activeGemm, m: rows, k: j.g.Cout / j.g.Groups, data: j.packedW[i*j.wStride : (i+1)*j.wStride]}
}

// packWJob packs the (group, block) pairs [lo,hi) of a dgradJob's Wᵀ.
type packWJob dgradJob

func (p *packWJob) runRange(lo, hi int) {
	j := (*dgradJob)(p)
	g := j.g
	k, og, taps := g.colRows(), g.Cout/g.Groups, g.KH*g.KW
	for i := lo; i < hi; i++ {
		gi, blk := i/j.blocks, i%j.blocks
		c0, _, rows := j.blockRows(blk)
		pa := j.packedBlock(gi, blk)
		pa.pack(rows, og, j.w, gi*og*k+c0*taps, 1, k)
	}
}

func (j *dgradJob) runRange(lo, hi int) {
	g := j.g
	cg, og := g.Cin/g.Groups, g.Cout/g.Groups
	k, ohw, hw, taps := g.colRows(), g.OH*g.OW, g.H*g.W, g.KH*g.KW
	buf := convBufs.get(j.cb * taps * ohw)
	defer convBufs.put(buf)
	var packed PackedB // gy of (sample, group) packedFor
	packedFor := -1
	if j.prepack {
		pbuf := convBufs.get(packedBSize(og, ohw))
		defer convBufs.put(pbuf)
		packed.data = pbuf.data
	}
	for it := lo; it < hi; it++ {
		ng, blk := it/j.blocks, it%j.blocks
		n, gi := ng/g.Groups, ng%g.Groups
		c0, nc, rows := j.blockRows(blk)
		col := buf.data[:rows*ohw]
		if j.prepack && packedFor != ng {
			packed.pack(og, ohw, j.gy, (n*g.Cout+gi*og)*ohw, ohw, 1)
			packedFor = ng
		}
		// Rows c0·taps.. of Wᵀ: column o·k + c0·taps + r of w.
		switch {
		case j.packedW != nil && j.prepack:
			pa := j.packedBlock(gi, blk)
			gemmPackedAB(&pa, &packed, 1, 0, col, 0, ohw)
		case j.packedW != nil:
			pa := j.packedBlock(gi, blk)
			pa.Gemm(ohw, 1, j.gy, (n*g.Cout+gi*og)*ohw, ohw, 1, 0, col, 0, ohw)
		case j.prepack:
			packed.Gemm(rows, 1, j.w, gi*og*k+c0*taps, 1, k, 0, col, 0, ohw)
		default:
			Gemm(rows, ohw, og, 1, j.w, gi*og*k+c0*taps, 1, k, j.gy, (n*g.Cout+gi*og)*ohw, ohw, 1, 0, col, 0, ohw)
		}
		xOff := (n*g.Cin + gi*cg + c0) * hw
		clear(j.gx[xOff : xOff+nc*hw])
		sub := g
		sub.Cin, sub.Groups = nc, 1
		Col2im(sub, col, j.gx, xOff)
	}
}

// conv2dInputGradBlocked is conv2dInputGradGemm's computation for a
// convolution whose col is not x itself.
func conv2dInputGradBlocked(g ConvGeom, gy, w, gx []float32) {
	cb := g.dgradBlockChannels()
	blocks := ceilDiv(g.Cin/g.Groups, cb)
	og, ohw := g.Cout/g.Groups, g.OH*g.OW
	readsInPlace := activeGemm.readsBInPlace(cb*g.KH*g.KW, og, ohw)
	j := &dgradJob{g: g, gy: gy, w: w, gx: gx, cb: cb, blocks: blocks, prepack: blocks > 1 && !readsInPlace}
	if g.N > 1 && dgradShareW {
		j.wStride = packedASize(cb*g.KH*g.KW, og)
		buf := convBufs.get(g.Groups * blocks * j.wStride)
		defer convBufs.put(buf)
		j.packedW = buf.data
		parallelRange(g.Groups*blocks, 32*j.wStride, (*packWJob)(j))
	}
	parallelRange(g.N*g.Groups*blocks, cb*g.flopsPerSample()/g.Cin, j)
}

// dgradShareW: with several samples, pack Wᵀ once for all of them; a var
// so tests can compare.
var dgradShareW = true
