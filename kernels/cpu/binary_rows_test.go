package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BinaryRows equals BinaryRef row by row, bit for bit, in its own loops (a
// row op one value, two contiguous rows), the general one, the vector
// kernel's rows and rows long enough to split alone, split between workers
// or not, with padded rows and every side broadcast.
func TestBinaryRowsMatchesRefRowByRow(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	ops := []BinaryOp{OpAdd, OpSub, OpMul, OpDiv, OpMaximum}
	// (as, bs, ds) within a row, and whether b has one value per row (brs 1)
	// or repeats one row for all (brs 0).
	forms := []struct{ as, bs, ds, brs int }{
		{1, 0, 1, 1}, {1, 1, 1, -1}, {0, 1, 1, -1}, {1, 1, 2, -1}, {2, 0, 1, 1}, {1, 1, 1, 0},
	}
	// Short rows in every count; rows for the vector kernel (64+) in fewer;
	// rows that Binary splits on its own (vecParallelElems+) in one or two.
	var sizes [][2]int
	for _, rows := range []int{1, 3, 200, 9000} {
		for _, n := range []int{1, 4, 9, 16, 63} {
			sizes = append(sizes, [2]int{rows, n})
		}
	}
	for _, rows := range []int{1, 3, 200} {
		for _, n := range []int{64, 100, 1024} {
			sizes = append(sizes, [2]int{rows, n})
		}
	}
	sizes = append(sizes, [2]int{1, vecParallelElems + 7}, [2]int{2, vecParallelElems})
	for _, sz := range sizes {
		rows, n := sz[0], sz[1]
		for _, op := range ops {
			for _, f := range forms {
				// Rows padded by 3 elements, so a row stride is not n.
				drs, ars := f.ds*n+3, max(f.as*n, 1)+3
				brs := f.brs
				if brs < 0 {
					brs = max(f.bs*n, 1) + 3
				}
				a := specialSlice(r, 2+rows*ars+n*f.as)
				b := specialSlice(r, 4+rows*brs+n*f.bs+1)
				got := specialSlice(r, 1+rows*drs)
				want := append([]float32(nil), got...)
				BinaryRows(op, rows, n, got, 1, drs, f.ds, a, 2, ars, f.as, b, 4, brs, f.bs)
				for row := 0; row < rows; row++ {
					BinaryRef(op, n, want, 1+row*drs, f.ds, a, 2+row*ars, f.as, b, 4+row*brs, f.bs)
				}
				compareRows(t, fmt.Sprintf("op %d rows %d n %d form %+v", op, rows, n, f), got, want)
			}
		}
	}
}
