//go:build amd64

package bench

import "github.com/lafite-go/lafite/kernels/cpu"

//go:noescape
func fmaLoopAVX512(iters int)

//go:noescape
func fmaLoopAVX2(iters int)

func fmaLoops() []fmaLoop {
	loops := []fmaLoop{{isa: "scalar", flopsPerIter: 16, run: scalarFMALoop}}
	for _, v := range cpu.Variants() {
		switch v {
		case cpu.VariantAVX512:
			loops = append(loops, fmaLoop{isa: v, flopsPerIter: 12 * 16 * 2, run: fmaLoopAVX512})
		case cpu.VariantAVX2:
			loops = append(loops, fmaLoop{isa: v, flopsPerIter: 12 * 8 * 2, run: fmaLoopAVX2})
		}
	}
	return loops
}
