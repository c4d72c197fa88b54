package cpu

// Sums over axes that are not the innermost, read in place. A tensor summed
// over its batch and spatial axes, or over its channels, would otherwise be
// transposed into a copy so that the summed axes come last (ReduceRows).
// Each variant's in-place sums give exactly what its ReduceRows gives on that
// copy: the scalar ones accumulate in the copy's row order, the vector ones
// reproduce the vector loop's lanes, chunks and order of combination, so that
// a training run's bits do not depend on which path a sum took (the demo's
// bundled models are reproduced bit for bit).

// SumMiddle sums the middle axis of src viewed as [outer, mid, inner]:
// dst[a·inner+b] = Σ_r src[(a·mid+r)·inner+b].
var SumMiddle = SumMiddleRef

// SumMiddleRef sums in order of r.
func SumMiddleRef(outer, mid, inner int, dst, src []float32) {
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

// sumOuterInner sums, for each k, the row the transposed copy would hold
// (the runs of inner values of every a, in order): in order, one value at a
// time, for k nil or rows too short for the vector loop (ReduceRowsRef's
// case); else as k.reduceRows sums the copy's rows, the runs in place when
// they are whole loop steps and chunks whole runs (a bias gradient over
// power-of-two planes), otherwise gathered chunk by chunk into scratch.
func sumOuterInner(k *sumKernel, outer, mid, inner int, dst, src []float32) {
	dst, src = dst[:mid], src[:outer*mid*inner]
	n := outer * inner // the copy's row length
	if k == nil || n < k.block {
		ParallelFor(mid, outer*inner, func(lo, hi int) {
			acc := make([]float64, hi-lo)
			for a := 0; a < outer; a++ {
				slab := src[(a*mid+lo)*inner : (a*mid+hi)*inner]
				for j := range acc {
					s := acc[j]
					for _, v := range slab[j*inner : (j+1)*inner] {
						s += float64(v)
					}
					acc[j] = s
				}
			}
			for j, s := range acc {
				dst[lo+j] = float32(s)
			}
		})
		return
	}
	if k.lanes != nil && inner%k.block == 0 && sumChunk%inner == 0 {
		// Runs of whole loop steps, chunks of whole runs: each run goes
		// through the loop in place, its registers carried to the next.
		ParallelFor(mid, n, func(lo, hi int) {
			lanes := new([32]float64)
			for j := lo; j < hi; j++ {
				var total float64
				for c0 := 0; c0 < n; c0 += sumChunk {
					*lanes = [32]float64{}
					for a := c0 / inner; a < min(c0+sumChunk, n)/inner; a++ {
						k.lanes(&src[(a*mid+j)*inner], inner, &lanes[0])
					}
					total += k.combineLanes(lanes)
				}
				dst[j] = float32(total)
			}
		})
		return
	}
	ParallelFor(mid, n, func(lo, hi int) {
		chunk := make([]float32, min(n, sumChunk))
		var lanes [8]float64
		for j := lo; j < hi; j++ {
			var total float64
			for c0 := 0; c0 < n; c0 += sumChunk {
				c1 := min(c0+sumChunk, n)
				// Row positions [c0, c1) are a tail of run c0/inner, whole
				// runs, then a head of run (c1-1)/inner.
				for pos := c0; pos < c1; {
					a, b := pos/inner, pos%inner
					run := src[(a*mid+j)*inner+b : (a*mid+j+1)*inner]
					pos += copy(chunk[pos-c0:c1-c0], run)
				}
				total += k.sumRange(chunk[:c1-c0], &lanes)
			}
			dst[j] = float32(total)
		}
	})
}

// sumMiddle is a SumMiddle kernel: for mid at least a vector block, each
// output is what the vector loop makes of its column (the copy's row): lane
// r mod block of 4 registers of accs doubles per chunk, the registers
// combined as (R0 + R1) + (R2 + R3), their accs values and then the chunk's
// last mid mod block values added in order, chunks added in order. Shorter
// columns go to SumMiddleRef, as ReduceRows sends short rows to the
// reference.
func (k *sumKernel) sumMiddle(outer, mid, inner int, dst, src []float32) {
	if mid < k.block {
		SumMiddleRef(outer, mid, inner, dst, src)
		return
	}
	dst, src = dst[:outer*inner], src[:outer*mid*inner]
	const block = 64 // columns a task: block·k.block lanes stay in L1
	blocks := ceilDiv(inner, block)
	nl, na := k.block, k.accs
	ParallelFor(outer*blocks, mid*min(inner, block), func(lo, hi int) {
		lanes := make([]float64, nl*block) // lane l of column i at l·block + i
		var total [block]float64
		for t := lo; t < hi; t++ {
			a, b0 := t/blocks, t%blocks*block
			w := min(block, inner-b0)
			clear(total[:w])
			for c0 := 0; c0 < mid; c0 += sumChunk {
				c1 := min(c0+sumChunk, mid)
				m := c0 + (c1-c0)/nl*nl
				clear(lanes)
				for r := c0; r < m; r++ {
					row := src[(a*mid+r)*inner+b0:][:w]
					lane := lanes[(r-c0)%nl*block:][:w]
					for i, v := range row {
						lane[i] += float64(v)
					}
				}
				for i := 0; i < w; i++ {
					var s float64
					for p := 0; p < na; p++ {
						s += (lanes[p*block+i] + lanes[(na+p)*block+i]) + (lanes[(2*na+p)*block+i] + lanes[(3*na+p)*block+i])
					}
					for r := m; r < c1; r++ {
						s += float64(src[(a*mid+r)*inner+b0+i])
					}
					total[i] += s
				}
			}
			out := dst[a*inner+b0:][:w]
			for i, s := range total[:w] {
				out[i] = float32(s)
			}
		}
	})
}
