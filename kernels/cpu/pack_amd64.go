//go:build amd64

package cpu

//go:noescape
func transpose8x8AVX2(dst *float32, dstStride int, src *float32, srcStride int, blocks int)

//go:noescape
func gatherRowsAVX2(dst *float32, nr int, src *float32, rows *int, n int)

//go:noescape
func pack6RowsAVX2(dst *float32, src *float32, srcStride int, blocks int)

//go:noescape
func scatterRowAVX2(dst *float32, dstStride int, src *float32, nr int, n int)

//go:noescape
func transpose8x8RowsAVX2(dst *float32, dstStride int, src *float32, offs *int, blocks int)
