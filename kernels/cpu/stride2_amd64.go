//go:build amd64

package cpu

//go:noescape
func gather2RowsAVX2(dst *float32, dstPitch int, src *float32, srcPitch int, n, rows int)

//go:noescape
func scatterAdd2RowsAVX2(dst *float32, dstPitch int, v *float32, vPitch int, n, rows int)

// gatherStride2RowsAVX2 is gatherStride2RowsScalar with whole blocks of 8 in
// YMM registers; a block reads 16 entries, the last of which, one past what
// the row needs, must still lie in src (rows where it would not go scalar).
func gatherStride2RowsAVX2(dst []float32, dstPitch int, src []float32, srcPitch, n, rows int) {
	n8, vrows := n&^7, rows
	for vrows > 0 && (vrows-1)*srcPitch+2*n8 > len(src) {
		vrows--
	}
	if n8 > 0 && vrows > 0 {
		_ = dst[(vrows-1)*dstPitch+n8-1]
		gather2RowsAVX2(&dst[0], dstPitch, &src[0], srcPitch, n8, vrows)
	} else {
		vrows = 0
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
// zero, all inside dst (rows where they would not go scalar).
func scatterAddStride2RowsAVX2(dst []float32, dstPitch int, v []float32, vPitch, n, rows int) {
	n8, vrows := n&^7, rows
	for vrows > 0 && (vrows-1)*dstPitch+2*n8 > len(dst) {
		vrows--
	}
	if n8 > 0 && vrows > 0 {
		_ = v[(vrows-1)*vPitch+n8-1]
		scatterAdd2RowsAVX2(&dst[0], dstPitch, &v[0], vPitch, n8, vrows)
	} else {
		vrows = 0
	}
	for r := 0; r < rows; r++ {
		lo := 0
		if r < vrows {
			lo = n8
		}
		scatterAddStride2Scalar(dst[r*dstPitch+2*lo:], v[r*vPitch+lo:r*vPitch+n])
	}
}

// gatherStride2AVX2 and scatterAddStride2AVX2 are the one-row cases.
func gatherStride2AVX2(dst, src []float32) { gatherStride2RowsAVX2(dst, 0, src, 0, len(dst), 1) }

func scatterAddStride2AVX2(dst, v []float32) { scatterAddStride2RowsAVX2(dst, 0, v, 0, len(v), 1) }
