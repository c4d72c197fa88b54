package cpu

import "sync"

// The convolution kernels of the SIMD variants. The references parallelise
// over samples and give each its own GEMM and col buffer; with a GEMM that is
// itself parallel that oversubscribes the cores and allocates per call. Here,
// for convolutions big enough, samples run one after another, each step
// (im2col, GEMM, col2im) parallel inside, and the col buffer is reused.

// convGemmMinFlops is the multiply-adds per sample and group from which the
// sequential-samples schedule pays; smaller convolutions take the references'.
// A var so tests can send every shape through this schedule.
var convGemmMinFlops = 1 << 22

var convBufs bufferStack

func useConvGemm(g ConvGeom) bool { return g.flopsPerSample()/g.Groups >= convGemmMinFlops }

// colJob runs Im2col over a range of one group's channels, which touch
// disjoint rows of col and disjoint planes of x.
type colJob struct {
	g    ConvGeom
	x    []float32
	xOff int
	col  []float32
}

func (j *colJob) runRange(lo, hi int) {
	sub := j.g
	sub.Cin, sub.Groups = hi-lo, 1
	rows, hw := j.g.KH*j.g.KW*j.g.OH*j.g.OW, j.g.H*j.g.W
	Im2col(sub, j.x, j.xOff+lo*hw, j.col[lo*rows:])
}

var colJobs = sync.Pool{New: func() any { return new(colJob) }}

// unfold runs Im2col for one group of one sample, split over its channels.
func unfold(g ConvGeom, x []float32, xOff int, col []float32) {
	j := colJobs.Get().(*colJob)
	j.g, j.x, j.xOff, j.col = g, x, xOff, col
	cg := g.Cin / g.Groups
	parallelRange(cg, g.colRows()/cg*g.OH*g.OW, j)
	j.x, j.col = nil, nil
	colJobs.Put(j)
}

// convBatchCols bounds the col buffer (in floats) of a batch of samples.
const convBatchCols = 8 << 20

// samplesPerGemm is how many samples share one batched GEMM: with small
// images one sample's GEMM is narrow and repacking the weight for each would
// cost as much as the multiply, so several go together while their col
// buffers stay within convBatchCols.
func samplesPerGemm(g ConvGeom) int {
	per := g.colRows() * g.OH * g.OW
	if g.OH*g.OW >= 2048 || per == 0 {
		return 1
	}
	return max(1, min(g.N, convBatchCols/per))
}

// conv2dForwardGemm is Conv2dForwardRef's computation: y = W·im2col(x) per
// sample and group, plus the bias.
func conv2dForwardGemm(g ConvGeom, x, w, bias, y []float32) {
	if !useConvGemm(g) {
		if g.N > 1 && smallConvShareW {
			conv2dForwardSmall(g, x, w, bias, y)
			return
		}
		Conv2dForwardRef(g, x, w, bias, y)
		return
	}
	if useWinograd(g) {
		conv2dForwardWinograd(g, x, w, bias, y)
		return
	}
	if g.implicitIm2col() {
		conv2dForwardImplicit(g, x, w, bias, y)
		return
	}
	if packsCol(g) {
		conv2dForwardPackedCol(g, x, w, y)
	} else {
		conv2dForwardCol(g, x, w, y)
	}
	g.addBias(y, bias, 0, g.N)
}

// conv2dForwardCol is conv2dForwardGemm's product (without the bias) on a
// col buffer: batches of samples share one GEMM and so one packing of W.
func conv2dForwardCol(g ConvGeom, x, w, y []float32) {
	cg, og := g.Cin/g.Groups, g.Cout/g.Groups
	k, ohw, hw := g.colRows(), g.OH*g.OW, g.H*g.W
	sb := samplesPerGemm(g)
	var buf *packBuffer
	if !g.identityCol() {
		buf = convBufs.get(sb * k * ohw)
		defer convBufs.put(buf)
	}
	for n0 := 0; n0 < g.N; n0 += sb {
		nb := min(sb, g.N-n0)
		for gi := 0; gi < g.Groups; gi++ {
			xOff := (n0*g.Cin + gi*cg) * hw
			yOff := (n0*g.Cout + gi*og) * ohw
			b, bOff, bStride := x, xOff, g.Cin*hw
			if buf != nil {
				for s := 0; s < nb; s++ {
					unfold(g, x, xOff+s*g.Cin*hw, buf.data[s*k*ohw:(s+1)*k*ohw])
				}
				b, bOff, bStride = buf.data, 0, k*ohw
			}
			GemmBatched(nb, og, ohw, k, 1, w, gi*og*k, k, 1, b, bOff, ohw, 1, bStride, 0, y, yOff, ohw, g.Cout*ohw)
		}
	}
}

// conv2dInputGradGemm is Conv2dInputGradRef's computation: col = Wᵀ·gy per
// sample and group, scattered back by Col2im, a block of channels at a time
// (conv_dgrad_blocked.go); with an identity col, Wᵀ·gy is gx.
func conv2dInputGradGemm(g ConvGeom, gy, w, gx []float32) {
	if !useConvGemm(g) {
		if g.N > 1 && smallConvShareW {
			conv2dInputGradSmall(g, gy, w, gx)
			return
		}
		Conv2dInputGradRef(g, gy, w, gx)
		return
	}
	if useWinograd(g) {
		conv2dInputGradWinograd(g, gy, w, gx)
		return
	}
	if !g.identityCol() {
		conv2dInputGradBlocked(g, gy, w, gx)
		return
	}
	cg, og := g.Cin/g.Groups, g.Cout/g.Groups
	k, ohw, hw := g.colRows(), g.OH*g.OW, g.H*g.W
	sb := samplesPerGemm(g)
	for n0 := 0; n0 < g.N; n0 += sb {
		nb := min(sb, g.N-n0)
		for gi := 0; gi < g.Groups; gi++ {
			xOff := (n0*g.Cin + gi*cg) * hw
			gyOff := (n0*g.Cout + gi*og) * ohw
			GemmBatched(nb, k, ohw, og, 1, w, gi*og*k, 1, k, gy, gyOff, ohw, 1, g.Cout*ohw, 0, gx, xOff, ohw, g.Cin*hw)
		}
	}
}

// conv2dWeightGradGemm is Conv2dWeightGradRef's computation: gw = Σ_n
// gy_n·colᵀ_n per group, accumulated by the GEMM (beta = 1) in sample order,
// reading col transposed through its strides.
func conv2dWeightGradGemm(g ConvGeom, x, gy, gw []float32) {
	if !useConvGemm(g) {
		if g.channelsLastWeightGrad() {
			conv2dWeightGradSmallLast(g, x, gy, gw)
			return
		}
		if g.implicitWeightGrad() {
			conv2dWeightGradSmall(g, x, gy, gw)
			return
		}
		Conv2dWeightGradRef(g, x, gy, gw)
		return
	}
	if useWinograd(g) && g.N > 0 {
		conv2dWeightGradWinograd(g, x, gy, gw)
		return
	}
	if g.channelsLastWeightGrad() {
		conv2dWeightGradLast(g, x, gy, gw)
		return
	}
	if g.implicitWeightGrad() {
		conv2dWeightGradImplicit(g, x, gy, gw)
		return
	}
	cg, og := g.Cin/g.Groups, g.Cout/g.Groups
	k, ohw, hw := g.colRows(), g.OH*g.OW, g.H*g.W
	var buf *packBuffer
	if !g.identityCol() {
		buf = convBufs.get(k * ohw)
		defer convBufs.put(buf)
	}
	if g.N == 0 {
		clear(gw)
		return
	}
	for n := 0; n < g.N; n++ {
		beta := float32(1)
		if n == 0 {
			beta = 0
		}
		for gi := 0; gi < g.Groups; gi++ {
			xOff := (n*g.Cin + gi*cg) * hw
			gyOff := (n*g.Cout + gi*og) * ohw
			src, srcOff := x, xOff
			if buf != nil {
				unfold(g, x, xOff, buf.data)
				src, srcOff = buf.data, 0
			}
			Gemm(og, k, ohw, 1, gy, gyOff, ohw, 1, src, srcOff, 1, ohw, beta, gw, gi*og*k, k)
		}
	}
}
