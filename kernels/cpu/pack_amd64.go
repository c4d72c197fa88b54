//go:build amd64

package cpu

//go:noescape
func transpose8x8AVX2(dst *float32, dstStride int, src *float32, srcStride int, blocks int)
