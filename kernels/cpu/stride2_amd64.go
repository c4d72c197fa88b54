//go:build amd64

package cpu

//go:noescape
func gather2RowsAVX2(dst *float32, dstPitch int, src *float32, srcPitch int, n, rows int)

//go:noescape
func scatterAdd2RowsAVX2(dst *float32, dstPitch int, v *float32, vPitch int, n, rows int)

// vectorRows splits rows rows of n values, the span of row r starting
// r·pitch into a slice of length length, into the whole blocks of 8 the
// assembly takes (n8 values of the first vrows rows: a block spans 16
// entries, the last one past what the row needs, which must still lie in
// the slice) and the rest, for the scalar loops.
func vectorRows(n, rows, pitch, length int) (n8, vrows int) {
	n8, vrows = n&^7, rows
	for vrows > 0 && (vrows-1)*pitch+2*n8 > length {
		vrows--
	}
	if n8 == 0 {
		vrows = 0
	}
	return n8, vrows
}

// gatherStride2RowsAVX2 is gatherStride2RowsScalar with whole blocks of 8 in
// YMM registers.
func gatherStride2RowsAVX2(dst []float32, dstPitch int, src []float32, srcPitch, n, rows int) {
	n8, vrows := vectorRows(n, rows, srcPitch, len(src))
	if vrows > 0 {
		_ = dst[(vrows-1)*dstPitch+n8-1]
		gather2RowsAVX2(&dst[0], dstPitch, &src[0], srcPitch, n8, vrows)
	}
	for r := 0; r < rows; r++ {
		lo := 0
		if r < vrows {
			lo = n8
		}
		gatherStride2Scalar(dst[r*dstPitch+lo:r*dstPitch+n], src[r*srcPitch+2*lo:])
	}
}

// scatterAddStride2RowsAVX2 is scatterAddStride2RowsScalar with whole
// blocks of 8: a block rewrites the 16 entries it spans, the odd ones plus
// zero, all inside dst.
func scatterAddStride2RowsAVX2(dst []float32, dstPitch int, v []float32, vPitch, n, rows int) {
	n8, vrows := vectorRows(n, rows, dstPitch, len(dst))
	if vrows > 0 {
		_ = v[(vrows-1)*vPitch+n8-1]
		scatterAdd2RowsAVX2(&dst[0], dstPitch, &v[0], vPitch, n8, vrows)
	}
	for r := 0; r < rows; r++ {
		lo := 0
		if r < vrows {
			lo = n8
		}
		scatterAddStride2Scalar(dst[r*dstPitch+2*lo:], v[r*vPitch+lo:r*vPitch+n])
	}
}
