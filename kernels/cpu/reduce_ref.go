package cpu

import "math"

// ReduceOp names a row reduction.
type ReduceOp int

const (
	ReduceSum ReduceOp = iota
	ReduceMax
	ReduceMin
	ReduceArgmax
	ReduceArgmin
)

// ReduceRowsRef reduces each of rows contiguous rows of length cols in src into
// dst[r]. Sums accumulate in float64. Argmax/argmin return the first index of
// the extreme value, as a float32.
func ReduceRowsRef(op ReduceOp, rows, cols int, dst, src []float32) {
	ParallelFor(rows, cols, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := src[r*cols : (r+1)*cols]
			switch op {
			case ReduceSum:
				var s float64
				for _, v := range row {
					s += float64(v)
				}
				dst[r] = float32(s)
			case ReduceMax, ReduceMin, ReduceArgmax, ReduceArgmin:
				best, bi := float32(math.NaN()), 0
				if cols > 0 {
					best = row[0]
				}
				wantMax := op == ReduceMax || op == ReduceArgmax
				for i, v := range row {
					if best != best { // NaN wins, as in torch
						break
					}
					if v != v || (wantMax && v > best) || (!wantMax && v < best) {
						best, bi = v, i
					}
				}
				if op == ReduceArgmax || op == ReduceArgmin {
					dst[r] = float32(bi)
				} else {
					dst[r] = best
				}
			}
		}
	})
}

// ReduceRows is the dispatch point for row reductions.
var ReduceRows = ReduceRowsRef
