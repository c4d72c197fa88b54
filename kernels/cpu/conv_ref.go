package cpu

import "sync"

// ConvGeom describes a 2-D convolution over contiguous NCHW tensors:
// x [N, Cin, H, W], weight [Cout, Cin/Groups, KH, KW], y [N, Cout, OH, OW],
// y[n,o,oy,ox] = Σ x[n, g·Cin/G + c, oy·SH − PH + ky·DH, ox·SW − PW + kx·DW] ·
// w[o, c, ky, kx] over c, ky, kx, with g the group of o. OH and OW are given
// rather than derived; they may be below the window count (trailing windows
// dropped), which a transposed convolution with output_padding ≥ stride needs.
type ConvGeom struct {
	N, Cin, H, W int
	Cout, OH, OW int
	KH, KW       int
	SH, SW       int
	PH, PW       int
	DH, DW       int
	Groups       int
}

// colRows is the reduction length of one group: Cin/Groups·KH·KW.
func (g ConvGeom) colRows() int { return g.Cin / g.Groups * g.KH * g.KW }

// identityCol reports whether im2col would copy x unchanged (1x1 kernel,
// unit stride, no padding), so the GEMMs can read or write x directly.
func (g ConvGeom) identityCol() bool {
	return g.KH == 1 && g.KW == 1 && g.SH == 1 && g.SW == 1 && g.PH == 0 && g.PW == 0 &&
		g.OH == g.H && g.OW == g.W
}

// flopsPerSample is the multiply-adds of one sample, the cost ParallelFor
// uses to decide how many goroutines a batch deserves.
func (g ConvGeom) flopsPerSample() int { return g.Cout * g.OH * g.OW * g.colRows() }

// Conv2dForwardRef computes y = conv2d(x, w) + bias (bias may be nil) by
// im2col and one GEMM per (sample, group), samples in parallel.
func Conv2dForwardRef(g ConvGeom, x, w, bias, y []float32) {
	conv2dForwardSamples(g, x, w, bias, y, nil)
}

// conv2dForwardSamples is Conv2dForwardRef's schedule; with pas (W of each
// group packed beforehand, packConvWeights) the products read it instead of
// packing W again for every sample.
func conv2dForwardSamples(g ConvGeom, x, w, bias, y []float32, pas []PackedA) {
	cg, og := g.Cin/g.Groups, g.Cout/g.Groups
	k, ohw, hw := g.colRows(), g.OH*g.OW, g.H*g.W
	ParallelFor(g.N, g.flopsPerSample(), func(lo, hi int) {
		col, buf := g.colBuffer()
		defer convBufs.put(buf)
		for n := lo; n < hi; n++ {
			for gi := 0; gi < g.Groups; gi++ {
				xOff := (n*g.Cin + gi*cg) * hw
				yOff := (n*g.Cout + gi*og) * ohw
				b, bOff := col, 0
				if col == nil {
					b, bOff = x, xOff
				} else {
					Im2col(g, x, xOff, col)
				}
				if pas != nil {
					pas[gi].Gemm(ohw, 1, b, bOff, ohw, 1, 0, y, yOff, ohw)
					continue
				}
				Gemm(og, ohw, k, 1, w, gi*og*k, k, 1, b, bOff, ohw, 1, 0, y, yOff, ohw)
			}
			g.addBias(y, bias, n, n+1)
		}
	})
}

// colBuffer is one worker's col buffer (nil, with a nil box, for an
// identity col); convBufs.put(buf) gives it back.
func (g ConvGeom) colBuffer() ([]float32, *packBuffer) {
	if g.identityCol() {
		return nil, nil
	}
	buf := convBufs.get(g.colRows() * g.OH * g.OW) // kept across GCs, unlike make's garbage
	return buf.data, buf
}

// addBias adds bias[o] to every output of channel o of samples [n0,n1) of
// y (nothing when bias is nil).
func (g ConvGeom) addBias(y, bias []float32, n0, n1 int) {
	if bias == nil {
		return
	}
	ohw := g.OH * g.OW
	for n := n0; n < n1; n++ {
		for o := 0; o < g.Cout; o++ {
			row := y[(n*g.Cout+o)*ohw : (n*g.Cout+o+1)*ohw]
			bv := bias[o]
			for i := range row {
				row[i] += bv
			}
		}
	}
}

// Conv2dInputGradRef computes gx = ∂⟨conv2d(x, w), gy⟩/∂x, the transposed
// convolution of gy: col = wᵀ·gy per (sample, group), then Col2im. gx is
// overwritten.
func Conv2dInputGradRef(g ConvGeom, gy, w, gx []float32) {
	conv2dInputGradSamples(g, gy, w, gx, nil)
}

// conv2dInputGradSamples is Conv2dInputGradRef's schedule; with pas (Wᵀ of
// each group packed beforehand) the products read it instead of packing Wᵀ
// again for every sample.
func conv2dInputGradSamples(g ConvGeom, gy, w, gx []float32, pas []PackedA) {
	cg, og := g.Cin/g.Groups, g.Cout/g.Groups
	k, ohw, hw := g.colRows(), g.OH*g.OW, g.H*g.W
	ParallelFor(g.N, g.flopsPerSample(), func(lo, hi int) {
		col, buf := g.colBuffer()
		defer convBufs.put(buf)
		for n := lo; n < hi; n++ {
			for gi := 0; gi < g.Groups; gi++ {
				xOff := (n*g.Cin + gi*cg) * hw
				gyOff := (n*g.Cout + gi*og) * ohw
				c, cOff := col, 0
				if col == nil {
					c, cOff = gx, xOff
				}
				if pas != nil {
					pas[gi].Gemm(ohw, 1, gy, gyOff, ohw, 1, 0, c, cOff, ohw)
				} else {
					Gemm(k, ohw, og, 1, w, gi*og*k, 1, k, gy, gyOff, ohw, 1, 0, c, cOff, ohw)
				}
				if col != nil {
					clear(gx[xOff : xOff+cg*hw])
					Col2im(g, col, gx, xOff)
				}
			}
		}
	})
}

// Conv2dWeightGradRef computes gw = ∂⟨conv2d(x, w), gy⟩/∂w = Σ_n gy_n·colᵀ_n per
// group, by chunks of samples (sumSampleChunks). gw is overwritten.
func Conv2dWeightGradRef(g ConvGeom, x, gy, gw []float32) {
	cg, og := g.Cin/g.Groups, g.Cout/g.Groups
	k, ohw, hw := g.colRows(), g.OH*g.OW, g.H*g.W
	g.sumSampleChunks(gw, func(lo, hi int, acc []float32) {
		// The GEMM reads col transposed through its strides (its packing
		// reorders it anyway).
		col, buf := g.colBuffer()
		defer convBufs.put(buf)
		for n := lo; n < hi; n++ {
			beta := float32(1)
			if n == lo {
				beta = 0
			}
			for gi := 0; gi < g.Groups; gi++ {
				xOff := (n*g.Cin + gi*cg) * hw
				gyOff := (n*g.Cout + gi*og) * ohw
				src, srcOff := col, 0
				if col == nil {
					src, srcOff = x, xOff
				} else {
					Im2col(g, x, xOff, col)
				}
				Gemm(og, k, ohw, 1, gy, gyOff, ohw, 1, src, srcOff, 1, ohw, beta, acc, gi*og*k, k)
			}
		}
	})
}

// sumSampleChunks runs body over the chunks of samples ParallelForSums
// makes (the same whatever the thread count); body sets acc to its chunk's
// sum (the first sample with beta 0): gw itself for the first chunk, a
// private buffer for each other, added to gw in order, so the result
// depends neither on scheduling nor on the machine. With no samples gw is
// cleared.
func (g ConvGeom) sumSampleChunks(gw []float32, body func(lo, hi int, acc []float32)) {
	if g.N == 0 {
		clear(gw)
		return
	}
	var mu sync.Mutex
	partial := map[int][]float32{}
	ParallelForSums(g.N, g.flopsPerSample(), func(lo, hi int) {
		acc := gw
		if lo != 0 {
			acc = convBufs.get(len(gw)).data // overwritten: beta is 0 for the first sample
		}
		body(lo, hi, acc)
		if lo != 0 {
			mu.Lock()
			partial[lo] = acc
			mu.Unlock()
		}
	})
	for lo := 1; lo < g.N; lo++ {
		if p, ok := partial[lo]; ok {
			for i, v := range p {
				gw[i] += v
			}
			convBufs.put(&packBuffer{data: p})
		}
	}
}

// Conv2dForward, Conv2dInputGrad and Conv2dWeightGrad are the dispatch points
// of the convolution kernels.
var (
	Conv2dForward    = Conv2dForwardRef
	Conv2dInputGrad  = Conv2dInputGradRef
	Conv2dWeightGrad = Conv2dWeightGradRef
)
