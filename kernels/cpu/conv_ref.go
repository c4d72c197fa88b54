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
	cg, og := g.Cin/g.Groups, g.Cout/g.Groups
	k, ohw, hw := g.colRows(), g.OH*g.OW, g.H*g.W
	ParallelFor(g.N, g.flopsPerSample(), func(lo, hi int) {
		var col []float32
		if !g.identityCol() {
			buf := convBufs.get(k * ohw) // kept across GCs, unlike make's garbage
			defer convBufs.put(buf)
			col = buf.data
		}
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
				Gemm(og, ohw, k, 1, w, gi*og*k, k, 1, b, bOff, ohw, 1, 0, y, yOff, ohw)
			}
			g.addBias(y, bias, n, n+1)
		}
	})
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
	cg, og := g.Cin/g.Groups, g.Cout/g.Groups
	k, ohw, hw := g.colRows(), g.OH*g.OW, g.H*g.W
	ParallelFor(g.N, g.flopsPerSample(), func(lo, hi int) {
		var col []float32
		if !g.identityCol() {
			buf := convBufs.get(k * ohw) // kept across GCs, unlike make's garbage
			defer convBufs.put(buf)
			col = buf.data
		}
		for n := lo; n < hi; n++ {
			for gi := 0; gi < g.Groups; gi++ {
				xOff := (n*g.Cin + gi*cg) * hw
				gyOff := (n*g.Cout + gi*og) * ohw
				if col == nil {
					Gemm(k, ohw, og, 1, w, gi*og*k, 1, k, gy, gyOff, ohw, 1, 0, gx, xOff, ohw)
					continue
				}
				Gemm(k, ohw, og, 1, w, gi*og*k, 1, k, gy, gyOff, ohw, 1, 0, col, 0, ohw)
				clear(gx[xOff : xOff+cg*hw])
				Col2im(g, col, gx, xOff)
			}
		}
	})
}

// Conv2dWeightGradRef computes gw = ∂⟨conv2d(x, w), gy⟩/∂w = Σ_n gy_n·colᵀ_n per
// group. Each chunk of samples (ParallelForSums: the same chunks whatever
// the thread count) is summed into a private buffer; the buffers are added
// in a fixed order so results depend neither on scheduling nor on the
// machine. gw is overwritten.
func Conv2dWeightGradRef(g ConvGeom, x, gy, gw []float32) {
	cg, og := g.Cin/g.Groups, g.Cout/g.Groups
	k, ohw, hw := g.colRows(), g.OH*g.OW, g.H*g.W
	var mu sync.Mutex
	partial := map[int][]float32{}
	ParallelForSums(g.N, g.flopsPerSample(), func(lo, hi int) {
		acc := gw
		if lo != 0 {
			acc = convBufs.get(len(gw)).data // overwritten: beta is 0 for the first sample
		}
		// The GEMM reads col transposed through its strides (its packing
		// reorders it anyway).
		var col []float32
		if !g.identityCol() {
			buf := convBufs.get(k * ohw) // kept across GCs, unlike make's garbage
			defer convBufs.put(buf)
			col = buf.data
		}
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
		if lo != 0 {
			mu.Lock()
			partial[lo] = acc
			mu.Unlock()
		}
	})
	if g.N == 0 {
		clear(gw)
		return
	}
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
