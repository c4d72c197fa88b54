//go:build amd64

package cpu

//go:noescape
func winoInput16AVX512(v *float32, planeBytes int, r0, r1, r2, r3 *float32, blocks int)

//go:noescape
func winoGradOutput16AVX512(m *float32, planeBytes int, g0, g1 *float32, blocks int)

//go:noescape
func winoOutput16AVX512(m *float32, planeBytes int, y0, y1 *float32, bias float32, blocks int)

// The AVX2 transforms: the AVX-512 kernels' contracts (blocks of 16 tiles)
// and bits, 8 tiles a step.

//go:noescape
func winoInput16AVX2(v *float32, planeBytes int, r0, r1, r2, r3 *float32, blocks int)

//go:noescape
func winoGradOutput16AVX2(m *float32, planeBytes int, g0, g1 *float32, blocks int)

//go:noescape
func winoOutput16AVX2(m *float32, planeBytes int, y0, y1 *float32, bias float32, blocks int)
