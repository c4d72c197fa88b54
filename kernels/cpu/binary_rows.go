package cpu

import "sync"

// BinaryRows applies op to rows × n elements, row r's element i being
// dst[d + r·drs + i·ds] = a[ao + r·ars + i·as] op b[bo + r·brs + i·bs]:
// a broadcast operand's rows, such as a weight times one value per filter
// (n = kh·kw) or activations times a style per plane. Walked one row per
// call, such a broadcast ran on one thread, a kernel call a row; here the
// rows are split between the workers. Short rows (a few elements) in the common
// forms (a row op one value of b, or two contiguous rows) get loops of
// their own, rows of a vector block or more the variant's Binary, and rows
// long enough to split on their own (vecParallelElems) keep Binary's
// parallel split, a row at a time. Each element is the one operation of
// BinaryRef, so results are identical to it.
func BinaryRows(op BinaryOp, rows, n int, dst []float32, d, drs, ds int, a []float32, ao, ars, as int, b []float32, bo, brs, bs int) {
	if n >= vecParallelElems {
		for r := range rows {
			Binary(op, n, dst, d+r*drs, ds, a, ao+r*ars, as, b, bo+r*brs, bs)
		}
		return
	}
	j := binaryRowsJobs.Get().(*binaryRowsJob)
	*j = binaryRowsJob{op: op, n: n, dst: dst, d: d, drs: drs, ds: ds, a: a, ao: ao, ars: ars, as: as, b: b, bo: bo, brs: brs, bs: bs}
	parallelRange(rows, n, j)
	*j = binaryRowsJob{}
	binaryRowsJobs.Put(j)
}

type binaryRowsJob struct {
	op                       BinaryOp
	n                        int
	dst, a, b                []float32
	d, drs, ds               int
	ao, ars, as, bo, brs, bs int
}

var binaryRowsJobs = sync.Pool{New: func() any { return new(binaryRowsJob) }}

// vectorRowElems: from this row length BinaryRows hands each row to the
// variant's vector kernel (whose loops start at 64 elements, 32 on AVX2).
const vectorRowElems = 64

func (j *binaryRowsJob) runRange(lo, hi int) {
	n := j.n
	switch {
	case n >= vectorRowElems:
		for r := lo; r < hi; r++ {
			Binary(j.op, n, j.dst, j.d+r*j.drs, j.ds, j.a, j.ao+r*j.ars, j.as, j.b, j.bo+r*j.brs, j.bs)
		}
	case j.ds == 1 && j.as == 1 && j.bs == 0 && (j.op == OpMul || j.op == OpAdd):
		for r := lo; r < hi; r++ {
			out, x, v := j.dst[j.d+r*j.drs:][:n], j.a[j.ao+r*j.ars:][:n], j.b[j.bo+r*j.brs]
			if j.op == OpMul {
				for i := range out {
					out[i] = x[i] * v
				}
			} else {
				for i := range out {
					out[i] = x[i] + v
				}
			}
		}
	case j.ds == 1 && j.as == 1 && j.bs == 1 && (j.op == OpMul || j.op == OpAdd):
		for r := lo; r < hi; r++ {
			out, x, y := j.dst[j.d+r*j.drs:][:n], j.a[j.ao+r*j.ars:][:n], j.b[j.bo+r*j.brs:][:n]
			if j.op == OpMul {
				for i := range out {
					out[i] = x[i] * y[i]
				}
			} else {
				for i := range out {
					out[i] = x[i] + y[i]
				}
			}
		}
	default:
		for r := lo; r < hi; r++ {
			BinaryRef(j.op, n, j.dst, j.d+r*j.drs, j.ds, j.a, j.ao+r*j.ars, j.as, j.b, j.bo+r*j.brs, j.bs)
		}
	}
}
