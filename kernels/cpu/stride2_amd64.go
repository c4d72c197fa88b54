//go:build amd64

package cpu

//go:noescape
func gather2AVX2(dst, src *float32, n int)

//go:noescape
func scatterAdd2AVX2(dst, v *float32, n int)

// gatherStride2AVX2 is gatherStride2Scalar with whole blocks of 8 in YMM
// registers; a block reads 16 entries, the last of which, one past what the
// row needs, must still lie in src.
func gatherStride2AVX2(dst, src []float32) {
	n := min(len(dst), len(src)/2) &^ 7
	if n > 0 {
		gather2AVX2(&dst[0], &src[0], n)
	}
	gatherStride2Scalar(dst[n:], src[2*n:])
}

// scatterAddStride2AVX2 is scatterAddStride2Scalar with whole blocks of 8:
// a block rewrites the 16 entries it spans, the odd ones plus zero.
func scatterAddStride2AVX2(dst, v []float32) {
	n := min(len(v), len(dst)/2) &^ 7
	if n > 0 {
		scatterAdd2AVX2(&dst[0], &v[0], n)
	}
	scatterAddStride2Scalar(dst[2*n:], v[n:])
}
