package cpu

// Sums over axes that are not the innermost, read in place. A tensor summed
// over its batch and spatial axes, or over its channels, would otherwise be
// transposed into a copy so that the summed axes come last (ReduceRows).
// Both sums accumulate each output in float64 in the order of the copy's
// rows, so the scalar versions give exactly ReduceRowsRef's results.

// SumMiddle sums the middle axis of src viewed as [outer, mid, inner]:
// dst[a·inner+b] = Σ_r src[(a·mid+r)·inner+b].
func SumMiddle(outer, mid, inner int, dst, src []float32) {
	dst, src = dst[:outer*inner], src[:outer*mid*inner]
	// Tasks are a column block of one outer slice, so the float64
	// accumulators of a task stay in L1.
	const block = 512
	blocks := ceilDiv(inner, block)
	ParallelFor(outer*blocks, mid*min(inner, block), func(lo, hi int) {
		var acc [block]float64
		for t := lo; t < hi; t++ {
			a, b0 := t/blocks, t%blocks*block
			w := min(block, inner-b0)
			sums := acc[:w]
			clear(sums)
			for r := 0; r < mid; r++ {
				row := src[(a*mid+r)*inner+b0:][:w]
				for i, v := range row {
					sums[i] += float64(v)
				}
			}
			out := dst[a*inner+b0:][:w]
			for i, s := range sums {
				out[i] = float32(s)
			}
		}
	})
}

// SumOuterInner sums every axis but the middle of src viewed as
// [outer, mid, inner]: dst[k] = Σ_a Σ_b src[(a·mid+k)·inner+b].
var SumOuterInner = SumOuterInnerRef

// SumOuterInnerRef sums in order of a, then b.
func SumOuterInnerRef(outer, mid, inner int, dst, src []float32) {
	sumOuterInner(nil, outer, mid, inner, dst, src)
}

// sumOuterInner sums the runs of inner values with k's vector loop where
// they are long enough for it (nil: in order, one value at a time).
func sumOuterInner(k *sumKernel, outer, mid, inner int, dst, src []float32) {
	dst, src = dst[:mid], src[:outer*mid*inner]
	vector := k != nil && inner >= k.block
	ParallelFor(mid, outer*inner, func(lo, hi int) {
		acc := make([]float64, hi-lo)
		var lanes [8]float64
		for a := 0; a < outer; a++ {
			slab := src[(a*mid+lo)*inner : (a*mid+hi)*inner]
			for j := range acc {
				run := slab[j*inner : (j+1)*inner]
				if vector {
					acc[j] += k.sumRange(run, &lanes)
					continue
				}
				s := acc[j]
				for _, v := range run {
					s += float64(v)
				}
				acc[j] = s
			}
		}
		for j, s := range acc {
			dst[lo+j] = float32(s)
		}
	})
}
