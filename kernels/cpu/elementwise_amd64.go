//go:build amd64

package cpu

//go:generate go run elementwise_amd64_gen.go

// Vector loops of elementwise_amd64.s; see vecKernels for the contract.

//go:noescape
func vvAddAVX2(dst, a, b *float32, n int)

//go:noescape
func vvSubAVX2(dst, a, b *float32, n int)

//go:noescape
func vvMulAVX2(dst, a, b *float32, n int)

//go:noescape
func vvDivAVX2(dst, a, b *float32, n int)

//go:noescape
func vsAddAVX2(dst, a *float32, s float32, n int)

//go:noescape
func vsSubAVX2(dst, a *float32, s float32, n int)

//go:noescape
func vsMulAVX2(dst, a *float32, s float32, n int)

//go:noescape
func vsDivAVX2(dst, a *float32, s float32, n int)

//go:noescape
func svSubAVX2(dst, a *float32, s float32, n int)

//go:noescape
func svDivAVX2(dst, a *float32, s float32, n int)

//go:noescape
func reluAVX2(dst, a *float32, n int)

//go:noescape
func lreluAVX2(dst, a *float32, slope float32, n int)

//go:noescape
func vvAddAVX512(dst, a, b *float32, n int)

//go:noescape
func vvSubAVX512(dst, a, b *float32, n int)

//go:noescape
func vvMulAVX512(dst, a, b *float32, n int)

//go:noescape
func vvDivAVX512(dst, a, b *float32, n int)

//go:noescape
func vsAddAVX512(dst, a *float32, s float32, n int)

//go:noescape
func vsSubAVX512(dst, a *float32, s float32, n int)

//go:noescape
func vsMulAVX512(dst, a *float32, s float32, n int)

//go:noescape
func vsDivAVX512(dst, a *float32, s float32, n int)

//go:noescape
func svSubAVX512(dst, a *float32, s float32, n int)

//go:noescape
func svDivAVX512(dst, a *float32, s float32, n int)

//go:noescape
func reluAVX512(dst, a *float32, n int)

//go:noescape
func lreluAVX512(dst, a *float32, slope float32, n int)

//go:noescape
func biasLreluAVX2(y, x *float32, n int, bias, slope, gain, lo, hi float32)

//go:noescape
func biasLreluGradAVX2(dx, dy, x *float32, n int, bias, slope, gain, lo, hi float32)

//go:noescape
func biasLreluAVX512(y, x *float32, n int, bias, slope, gain, lo, hi float32)

//go:noescape
func biasLreluGradAVX512(dx, dy, x *float32, n int, bias, slope, gain, lo, hi float32)

//go:noescape
func sumF64AVX2(x *float32, n int, acc *float64)

//go:noescape
func sumF64AVX512(x *float32, n int, acc *float64)

//go:noescape
func sumF64LanesAVX2(x *float32, n int, lanes *float64)

//go:noescape
func sumF64LanesAVX512(x *float32, n int, lanes *float64)

var (
	avx2Vec = &vecKernels{
		block:   8,
		vv:      [OpDiv + 1]func(dst, a, b *float32, n int){vvAddAVX2, vvSubAVX2, vvMulAVX2, vvDivAVX2},
		vs:      [OpDiv + 1]func(dst, a *float32, s float32, n int){vsAddAVX2, vsSubAVX2, vsMulAVX2, vsDivAVX2},
		sv:      [OpDiv + 1]func(dst, a *float32, s float32, n int){OpSub: svSubAVX2, OpDiv: svDivAVX2},
		relu:    reluAVX2,
		lrelu:   lreluAVX2,
		qgelu:   quickGeluAVX2,
		biasAct: biasActKernels{fwdBlock: 8, gradBlock: 8, fwd: biasLreluAVX2, grad: biasLreluGradAVX2},
		sum:     sumKernel{block: 16, accs: 4, sum: sumF64AVX2, lanes: sumF64LanesAVX2},
	}
	avx512Vec = &vecKernels{
		block:   16,
		vv:      [OpDiv + 1]func(dst, a, b *float32, n int){vvAddAVX512, vvSubAVX512, vvMulAVX512, vvDivAVX512},
		vs:      [OpDiv + 1]func(dst, a *float32, s float32, n int){vsAddAVX512, vsSubAVX512, vsMulAVX512, vsDivAVX512},
		sv:      [OpDiv + 1]func(dst, a *float32, s float32, n int){OpSub: svSubAVX512, OpDiv: svDivAVX512},
		relu:    reluAVX512,
		lrelu:   lreluAVX512,
		qgelu:   quickGeluAVX512,
		biasAct: biasActKernels{fwdBlock: 16, gradBlock: 16, fwd: biasLreluAVX512, grad: biasLreluGradAVX512},
		sum:     sumKernel{block: 32, accs: 8, sum: sumF64AVX512, lanes: sumF64LanesAVX512},
	}
)
