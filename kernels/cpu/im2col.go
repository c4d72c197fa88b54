package cpu

// ceilDiv rounds a/b up for b > 0 and any sign of a (Go's / truncates).
func ceilDiv(a, b int) int {
	if a >= 0 {
		return (a + b - 1) / b
	}
	return -((-a) / b)
}

// validOutputs returns [lo, hi): the output positions o whose input tap
// o*stride - pad + tap lies inside [0, in). Computing the range once per
// kernel tap keeps bounds checks out of the innermost loops.
func validOutputs(tap, stride, pad, in, out int) (lo, hi int) {
	first := pad - tap // o*stride >= first
	last := in - 1 + pad - tap
	lo = max(0, ceilDiv(first, stride))
	if last < 0 {
		return lo, lo
	}
	hi = min(out, last/stride+1)
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// Im2col unfolds one sample's group of channels, x[xOff:] laid out [C, H, W]
// with C = g.Cin/g.Groups, into col [C*KH*KW, OH*OW]: row (c, ky, kx) holds the
// input value each output position multiplies with that weight tap (zero where
// the tap falls in the padding).
func Im2col(g ConvGeom, x []float32, xOff int, col []float32) {
	cg := g.Cin / g.Groups
	ohw := g.OH * g.OW
	row := 0
	for c := 0; c < cg; c++ {
		plane := xOff + c*g.H*g.W
		for ky := 0; ky < g.KH; ky++ {
			yLo, yHi := validOutputs(ky*g.DH, g.SH, g.PH, g.H, g.OH)
			for kx := 0; kx < g.KW; kx++ {
				xLo, xHi := validOutputs(kx*g.DW, g.SW, g.PW, g.W, g.OW)
				dst := col[row*ohw : (row+1)*ohw]
				row++
				if yLo >= yHi || xLo >= xHi {
					clear(dst)
					continue
				}
				clear(dst[:yLo*g.OW])
				clear(dst[yHi*g.OW:])
				for oy := yLo; oy < yHi; oy++ {
					d := dst[oy*g.OW : (oy+1)*g.OW]
					clear(d[:xLo])
					clear(d[xHi:])
					src := plane + (oy*g.SH-g.PH+ky*g.DH)*g.W - g.PW + kx*g.DW
					if g.SW == 1 {
						copy(d[xLo:xHi], x[src+xLo:src+xHi])
						continue
					}
					for ox := xLo; ox < xHi; ox++ {
						d[ox] = x[src+ox*g.SW]
					}
				}
			}
		}
	}
}

// Col2im is the adjoint of Im2col: it adds every entry of col back onto the
// input position it was read from, accumulating into x[xOff:] (which the
// caller zeroes first).
func Col2im(g ConvGeom, col []float32, x []float32, xOff int) {
	cg := g.Cin / g.Groups
	ohw := g.OH * g.OW
	row := 0
	for c := 0; c < cg; c++ {
		plane := xOff + c*g.H*g.W
		for ky := 0; ky < g.KH; ky++ {
			yLo, yHi := validOutputs(ky*g.DH, g.SH, g.PH, g.H, g.OH)
			for kx := 0; kx < g.KW; kx++ {
				xLo, xHi := validOutputs(kx*g.DW, g.SW, g.PW, g.W, g.OW)
				src := col[row*ohw : (row+1)*ohw]
				row++
				for oy := yLo; oy < yHi; oy++ {
					s := src[oy*g.OW : (oy+1)*g.OW]
					dst := plane + (oy*g.SH-g.PH+ky*g.DH)*g.W - g.PW + kx*g.DW
					for ox := xLo; ox < xHi; ox++ {
						x[dst+ox*g.SW] += s[ox]
					}
				}
			}
		}
	}
}
