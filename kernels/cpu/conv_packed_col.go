package cpu

// A forward convolution on im2col (strided, or unit-stride ones the implicit
// path leaves) whose col the kernel would pack: the col was written whole
// (19 MB a sample for a 512-channel 3x3 layer at 32x32), read back to be
// packed and written again. Here each tap's row is unfolded into a buffer
// that stays in L1 and copied from there into the packed-B layout, and W is
// packed once for all the samples. The products read the same packed values
// in the same order, so the bits do not change.

// packColFirst switches the path; a var so tests can compare.
var packColFirst = true

// packsCol reports whether conv2dForwardGemm takes this path: one group, a
// col that is not x itself, and a product that would pack its B.
func packsCol(g ConvGeom) bool {
	return packColFirst && g.Groups == 1 && !g.identityCol() && g.OH*g.OW > 0 &&
		!activeGemm.readsBInPlace(g.Cout, g.colRows(), g.OH*g.OW)
}

// conv2dForwardPackedCol is conv2dForwardGemm's product (without the bias)
// for packsCol geometries.
func conv2dForwardPackedCol(g ConvGeom, x, w, y []float32) {
	k, ohw, hw := g.colRows(), g.OH*g.OW, g.H*g.W
	abuf := convBufs.get(packedASize(g.Cout, k))
	defer convBufs.put(abuf)
	pa := PackedA{data: abuf.data}
	pa.packParallel(g.Cout, k, w, 0, k, 1)
	bbuf := convBufs.get(packedBSize(k, ohw))
	defer convBufs.put(bbuf)
	pb := PackedB{g: activeGemm, k: k, n: ohw, data: bbuf.data}
	j := &packedColJob{g: g, x: x, pb: &pb}
	for n := 0; n < g.N; n++ {
		j.xOff = n * g.Cin * hw
		parallelRange(g.Cin, g.KH*g.KW*ohw, j)
		gemmPackedAB(&pa, &pb, 1, 0, y, n*g.Cout*ohw, ohw)
	}
}

// packedColJob unfolds channels [lo,hi) of the sample at x[xOff:] into pb,
// a tap's row at a time.
type packedColJob struct {
	g    ConvGeom
	x    []float32
	xOff int
	pb   *PackedB
}

func (j *packedColJob) runRange(lo, hi int) {
	g := j.g
	buf := convBufs.get(g.OH * g.OW)
	defer convBufs.put(buf)
	taps := g.KH * g.KW
	for c := lo; c < hi; c++ {
		for t := 0; t < taps; t++ {
			g.unfoldTap(j.x, j.xOff+c*g.H*g.W, t/g.KW, t%g.KW, buf.data)
			j.pb.setRow(c*taps+t, buf.data)
		}
	}
}
