//go:build amd64

package cpu

//go:noescape
func winoInput16AVX512(v *float32, planeBytes int, r0, r1, r2, r3 *float32, blocks int)

//go:noescape
func winoGradOutput16AVX512(m *float32, planeBytes int, g0, g1 *float32, blocks int)

//go:noescape
func winoOutput16AVX512(m *float32, planeBytes int, y0, y1 *float32, bias float32, blocks int)

// The AVX2 transforms: the AVX-512 kernels' contracts and bits in blocks of
// 8 tiles.

//go:noescape
func winoInput8AVX2(v *float32, planeBytes int, r0, r1, r2, r3 *float32, blocks int)

//go:noescape
func winoGradOutput8AVX2(m *float32, planeBytes int, g0, g1 *float32, blocks int)

//go:noescape
func winoOutput8AVX2(m *float32, planeBytes int, y0, y1 *float32, bias float32, blocks int)
