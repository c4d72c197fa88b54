package tensor

import "github.com/lafite-go/lafite/kernels/cpu"

// Strided iteration: the outer dimensions are walked with an odometer and the
// innermost dimension is handed to a callback as (length, offset, stride) per
// operand, so that inner loops stay tight and closures are called once per row.

// coalesce merges adjacent dimensions that are contiguous in every operand.
// The merged shape and strides share one allocation, each with room for
// every dimension, so the appends below never grow them (this runs for
// every strided op, thousands of times a training step).
func coalesce(shape []int, strides ...[]int) ([]int, [][]int) {
	c := max(len(shape), 1)
	buf := make([]int, c*(1+len(strides)))
	sh := buf[:0:c]
	sts := make([][]int, len(strides))
	for j := range sts {
		sts[j] = buf[(j+1)*c : (j+1)*c : (j+2)*c]
	}
	for i, s := range shape {
		if s == 1 {
			continue
		}
		if k := len(sh) - 1; k >= 0 {
			mergeable := true
			for j, st := range strides {
				if sts[j][k] != st[i]*s {
					mergeable = false
					break
				}
			}
			if mergeable {
				sh[k] *= s
				for j, st := range strides {
					sts[j][k] = st[i]
				}
				continue
			}
		}
		sh = append(sh, s)
		for j, st := range strides {
			sts[j] = append(sts[j], st[i])
		}
	}
	if len(sh) == 0 {
		sh = append(sh, 1)
		for j := range sts {
			sts[j] = append(sts[j], 0)
		}
	}
	return sh, sts
}

func iterate2(shape, s0 []int, o0 int, s1 []int, o1 int, inner func(n, off0, st0, off1, st1 int)) {
	if numel(shape) == 0 {
		return
	}
	sh, sts := coalesce(shape, s0, s1)
	d := len(sh) - 1
	idx := make([]int, d)
	a, b := o0, o1
	for {
		inner(sh[d], a, sts[0][d], b, sts[1][d])
		k := d - 1
		for ; k >= 0; k-- {
			idx[k]++
			a += sts[0][k]
			b += sts[1][k]
			if idx[k] < sh[k] {
				break
			}
			a -= sts[0][k] * sh[k]
			b -= sts[1][k] * sh[k]
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

// parallelCopyElems: from this many elements iterate2Parallel splits the
// walk between the workers (a strided copy of a 512x512x3x3 weight's
// transpose is 262144 rows of 9, call-bound on one thread).
const parallelCopyElems = 1 << 16

// iterate2Parallel is iterate2 with the outermost coalesced dimension split
// between the workers when the shape is large: for callbacks whose rows
// write disjoint places (each row's own part of a contiguous output).
func iterate2Parallel(shape, s0 []int, o0 int, s1 []int, o1 int, inner func(n, off0, st0, off1, st1 int)) {
	total := numel(shape)
	sh, sts := coalesce(shape, s0, s1)
	if total < parallelCopyElems || len(sh) < 2 {
		iterate2(sh, sts[0], o0, sts[1], o1, inner)
		return
	}
	cpu.ParallelRange(sh[0], total/sh[0], func(lo, hi int) {
		sub := append([]int{hi - lo}, sh[1:]...)
		iterate2(sub, sts[0], o0+lo*sts[0][0], sts[1], o1+lo*sts[1][0], inner)
	})
}

func iterate3(shape, s0 []int, o0 int, s1 []int, o1 int, s2 []int, o2 int, inner func(n, off0, st0, off1, st1, off2, st2 int)) {
	if numel(shape) == 0 {
		return
	}
	sh, sts := coalesce(shape, s0, s1, s2)
	d := len(sh) - 1
	idx := make([]int, d)
	a, b, c := o0, o1, o2
	for {
		inner(sh[d], a, sts[0][d], b, sts[1][d], c, sts[2][d])
		k := d - 1
		for ; k >= 0; k-- {
			idx[k]++
			a += sts[0][k]
			b += sts[1][k]
			c += sts[2][k]
			if idx[k] < sh[k] {
				break
			}
			a -= sts[0][k] * sh[k]
			b -= sts[1][k] * sh[k]
			c -= sts[2][k] * sh[k]
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

// copyStrided copies the elements of src, in row-major order, into dst.
func copyStrided(dst []float32, src *Tensor) {
	if copySwapped(dst, src) {
		return
	}
	iterate2Parallel(src.shape, contiguousStrides(src.shape), 0, src.strides, src.offset, func(n, o, os, a, as int) {
		s := src.storage.data
		if as == 1 {
			copy(dst[o:o+n], s[a:a+n])
			return
		}
		if as == 0 { // a broadcast row (the gradient of a sum): fill by doubling copies
			fill(dst[o:o+n], s[a])
			return
		}
		for i := 0; i < n; i++ {
			dst[o+i] = s[a+i*as]
		}
	})
}

// swapBlock is the side of copySwapped's blocks: 16 rows read and 16
// written at a time, so each block touches 32 pages rather than a new one
// per row.
const swapBlock = 16

// copySwapped copies src into dst where src is, after coalescing, [A, B, n]
// with rows of n contiguous and its two outer dimensions swapped in memory
// (B's stride below A's): a transposed convolution's weight, [Cin, Cout,
// kh·kw] viewed from [Cout, Cin, kh·kw]. Row by row in dst's order reads
// each row from a new page (rows of 9 at 512 channels: 18 KB apart); it
// goes by blocks of swapBlock x swapBlock rows instead. Reports false,
// copying nothing, for any other layout.
func copySwapped(dst []float32, src *Tensor) bool {
	total := numel(src.shape)
	if total < parallelCopyElems {
		return false
	}
	sh, sts := coalesce(src.shape, contiguousStrides(src.shape), src.strides)
	if len(sh) != 3 || sts[1][2] != 1 || sts[1][0] >= sts[1][1] || sh[0] < swapBlock || sh[1] < swapBlock {
		return false
	}
	na, nb, n := sh[0], sh[1], sh[2]
	sa, sb := sts[1][0], sts[1][1]
	s := src.storage.data
	cpu.ParallelRange((na+swapBlock-1)/swapBlock, swapBlock*nb*n, func(lo, hi int) {
		for a0 := lo * swapBlock; a0 < min(hi*swapBlock, na); a0 += swapBlock {
			for b0 := 0; b0 < nb; b0 += swapBlock {
				for b := b0; b < min(b0+swapBlock, nb); b++ {
					for a := a0; a < min(a0+swapBlock, na); a++ {
						from := src.offset + a*sa + b*sb
						copy(dst[(a*nb+b)*n:][:n], s[from:from+n])
					}
				}
			}
		}
	})
	return true
}

// fill sets every element of d to v, at memmove speed for long rows.
func fill(d []float32, v float32) {
	if len(d) == 0 {
		return
	}
	d[0] = v
	for k := 1; k < len(d); k *= 2 {
		copy(d[k:], d[:k])
	}
}

// iterate3Rows is iterate3 handing the two innermost dimensions to the
// callback at once, as rows of n with a stride between rows per operand
// (rows = 1 when the operands coalesce to one dimension): for kernels that
// do better with many short rows in one call.
func iterate3Rows(shape, s0 []int, o0 int, s1 []int, o1 int, s2 []int, o2 int,
	inner func(rows, n, off0, rs0, st0, off1, rs1, st1, off2, rs2, st2 int)) {
	if numel(shape) == 0 {
		return
	}
	sh, sts := coalesce(shape, s0, s1, s2)
	if len(sh) == 1 {
		inner(1, sh[0], o0, 0, sts[0][0], o1, 0, sts[1][0], o2, 0, sts[2][0])
		return
	}
	// The outer dimensions, walked by iterate3, whose innermost is the rows.
	d := len(sh) - 1
	iterate3(sh[:d], sts[0][:d], o0, sts[1][:d], o1, sts[2][:d], o2, func(rows, a, as, b, bs, c, cs int) {
		inner(rows, sh[d], a, as, sts[0][d], b, bs, sts[1][d], c, cs, sts[2][d])
	})
}
