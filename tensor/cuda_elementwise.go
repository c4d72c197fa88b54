package tensor

import (
	"github.com/lafite-go/lafite/kernels/cpu"
	"github.com/lafite-go/lafite/kernels/cuda"
)

// ewUnaryOp maps a host unary op to elementwise.cu's code and parameters.
func ewUnaryOp(op cpu.UnaryOp, p float32) (code int32, alpha, beta float32, ok bool) {
	switch op {
	case cpu.OpNeg:
		return cuda.EwNeg, 0, 0, true
	case cpu.OpExp:
		return cuda.EwExp, 0, 0, true
	case cpu.OpLog:
		return cuda.EwLog, 0, 0, true
	case cpu.OpSqrt:
		return cuda.EwSqrt, 0, 0, true
	case cpu.OpRsqrt:
		return cuda.EwRsqrt, 0, 0, true
	case cpu.OpAbs:
		return cuda.EwAbs, 0, 0, true
	case cpu.OpSign:
		return cuda.EwSign, 0, 0, true
	case cpu.OpSquare:
		return cuda.EwSquare, 0, 0, true
	case cpu.OpRelu:
		return cuda.EwRelu, 0, 0, true
	case cpu.OpSigmoid:
		return cuda.EwSigmoid, 0, 0, true
	case cpu.OpTanh:
		return cuda.EwTanh, 0, 0, true
	case cpu.OpSoftplus:
		return cuda.EwSoftplus, 0, 0, true
	case cpu.OpGeluErf:
		return cuda.EwGelu, 0, 0, true
	case cpu.OpGeluTanh:
		return cuda.EwGeluTanh, 0, 0, true
	case cpu.OpQuickGelu:
		return cuda.EwQuickGelu, 0, 0, true
	case cpu.OpPowScalar:
		return cuda.EwPow, p, 0, true
	case cpu.OpAddScalar:
		return cuda.EwAffine, 1, p, true
	case cpu.OpMulScalar:
		return cuda.EwAffine, p, 0, true
	case cpu.OpRsubScalar:
		return cuda.EwAffine, -1, p, true
	case cpu.OpLeakyRelu:
		return cuda.EwLrelu, p, 0, true
	case cpu.OpRecip:
		return cuda.EwRecip, 0, 0, true
	case cpu.OpStep:
		return cuda.EwStep, 0, 0, true
	case cpu.OpCos:
		return cuda.EwCos, 0, 0, true
	case cpu.OpSin:
		return cuda.EwSin, 0, 0, true
	case cpu.OpErf:
		return cuda.EwErf, 0, 0, true
	case cpu.OpFloor:
		return cuda.EwFloor, 0, 0, true
	}
	return 0, 0, 0, false
}

// ewBinaryOp maps a host binary op to elementwise.cu's code.
func ewBinaryOp(op cpu.BinaryOp) (int32, bool) {
	switch op {
	case cpu.OpAdd:
		return cuda.EwAdd, true
	case cpu.OpSub:
		return cuda.EwSub, true
	case cpu.OpMul:
		return cuda.EwMul, true
	case cpu.OpDiv:
		return cuda.EwDiv, true
	case cpu.OpMaximum:
		return cuda.EwMax, true
	case cpu.OpMinimum:
		return cuda.EwMin, true
	case cpu.OpPow:
		return cuda.EwPowB, true
	case cpu.OpGreater:
		return cuda.EwGt, true
	case cpu.OpGreaterEqual:
		return cuda.EwGe, true
	case cpu.OpLess:
		return cuda.EwLt, true
	case cpu.OpLessEqual:
		return cuda.EwLe, true
	case cpu.OpEqual:
		return cuda.EwEq, true
	case cpu.OpNotEqual:
		return cuda.EwNe, true
	}
	return 0, false
}

func cudaUnary(op cpu.UnaryOp, p float32, x *Tensor) *Tensor {
	code, alpha, beta, ok := ewUnaryOp(op, p)
	if !ok {
		return viaHost("unary", func(h []*Tensor) *Tensor { return unary(op, p, h[0]) }, x)
	}
	return cudaUnaryCode("unary", code, alpha, beta, onGPU(x))
}

// cudaUnaryCode applies elementwise.cu's unary op code to x into a fresh
// contiguous tensor.
func cudaUnaryCode(op string, code int32, alpha, beta float32, x *Tensor) *Tensor {
	out := emptyCUDA(x.shape...)
	n := out.Numel()
	if n == 0 {
		return out
	}
	g := theGPU()
	if x.IsContiguous() {
		g.launch("elementwise.cu", "ew_unary_f32", g.grid1(int64(n)), cuda.D1(256), 0,
			code, int64(n), alpha, beta, x.ptr(), out.ptr())
		return out
	}
	sh, sts := coalesce(x.shape, x.strides, out.strides)
	if len(sh) > cuda.MaxDims {
		xc := x.Contiguous()
		defer g.free(xc.storage)
		return cudaUnaryCode(op, code, alpha, beta, xc)
	}
	s := ewShape(op, sh, sts[0], nil, sts[1])
	g.launch("elementwise.cu", "ew_unary_strided_f32", g.grid1(int64(n)), cuda.D1(256), 0,
		code, s, alpha, beta, x.ptr(), out.ptr())
	return out
}

func cudaBinary(name string, op cpu.BinaryOp, a, b *Tensor) *Tensor {
	code, ok := ewBinaryOp(op)
	if !ok {
		return viaHost(name, func(h []*Tensor) *Tensor { return binary(name, op, h[0], h[1]) }, a, b)
	}
	a, b = onGPU(a), onGPU(b)
	shape := mustBroadcast(name, a.shape, b.shape)
	ab, bb := a.BroadcastTo(shape...), b.BroadcastTo(shape...)
	out := emptyCUDA(shape...)
	n := out.Numel()
	if n == 0 {
		return out
	}
	g := theGPU()
	if ab.IsContiguous() && bb.IsContiguous() {
		g.launch("elementwise.cu", "ew_binary_f32", g.grid1(int64(n)), cuda.D1(256), 0,
			code, int64(n), ab.ptr(), bb.ptr(), out.ptr())
		return out
	}
	sh, sts := coalesce(shape, ab.strides, bb.strides, out.strides)
	if len(sh) > cuda.MaxDims {
		ac, bc := ab.Contiguous(), bb.Contiguous()
		defer g.free(ac.storage)
		defer g.free(bc.storage)
		g.launch("elementwise.cu", "ew_binary_f32", g.grid1(int64(n)), cuda.D1(256), 0,
			code, int64(n), ac.ptr(), bc.ptr(), out.ptr())
		return out
	}
	if k, ok := rowBroadcast(sh, sts); ok {
		x, v := ab, bb // the dense operand, the per-row one
		if k == 0 {
			x, v = bb, ab
		}
		rows, cols := sh[0], sh[1]
		entry, units := "ew_binary_rows_f32", cols
		if cols%4 == 0 && x.ptr()%16 == 0 && out.ptr()%16 == 0 {
			entry, units = "ew_binary_rows4_f32", cols/4
		}
		if rp, err := cuda.NewEwRows(rows, units, k == 0); err == nil {
			g.launch("elementwise.cu", entry, g.grid1(rp.N), cuda.D1(256), 0, code, rp, x.ptr(), v.ptr(), out.ptr())
			return out
		}
	}
	s := ewShape(name, sh, sts[0], sts[1], sts[2])
	g.launch("elementwise.cu", "ew_binary_strided_f32", g.grid1(int64(n)), cuda.D1(256), 0,
		code, s, ab.ptr(), bb.ptr(), out.ptr())
	return out
}

// rowBroadcast reports whether a binary op's coalesced shape sh (strides of
// a, b and the output in sts) is [rows, cols] with the output and one
// operand dense and the other one value per row (strides [1, 0]), and which
// operand that is (0: a, 1: b): the row-broadcast kernels' case.
func rowBroadcast(sh []int, sts [][]int) (perRow int, ok bool) {
	if len(sh) != 2 {
		return 0, false
	}
	dense := func(st []int) bool { return st[0] == sh[1] && st[1] == 1 }
	oneARow := func(st []int) bool { return st[0] == 1 && st[1] == 0 }
	switch {
	case !dense(sts[2]):
	case dense(sts[0]) && oneARow(sts[1]):
		return 1, true
	case oneARow(sts[0]) && dense(sts[1]):
		return 0, true
	}
	return 0, false
}

func cudaWhere(cond, a, b *Tensor) *Tensor {
	cond, a, b = onGPU(cond), onGPU(a), onGPU(b)
	shape := mustBroadcast("Where", cond.shape, a.shape, b.shape)
	g := theGPU()
	// cond is read in the output's (contiguous) layout, as on the host.
	c := cond.BroadcastTo(shape...)
	if !c.IsContiguous() {
		c = c.Contiguous()
		defer g.free(c.storage)
	}
	ab, bb := a.BroadcastTo(shape...), b.BroadcastTo(shape...)
	out := emptyCUDA(shape...)
	n := out.Numel()
	if n == 0 {
		return out
	}
	sh, sts := coalesce(shape, ab.strides, bb.strides, out.strides)
	if len(sh) > cuda.MaxDims {
		ab, bb = ab.Contiguous(), bb.Contiguous()
		defer g.free(ab.storage)
		defer g.free(bb.storage)
		sh, sts = []int{n}, [][]int{{1}, {1}, {1}}
	}
	s := ewShape("Where", sh, sts[0], sts[1], sts[2])
	g.launch("elementwise.cu", "ew_where_strided_f32", g.grid1(int64(n)), cuda.D1(256), 0,
		s, c.ptr(), ab.ptr(), bb.ptr(), out.ptr())
	return out
}

func cudaClamp(x *Tensor, lo, hi float32) *Tensor {
	return cudaUnaryCode("Clamp", cuda.EwClamp, lo, hi, x)
}

func cudaInRange(x *Tensor, lo, hi float32) *Tensor {
	return cudaUnaryCode("InRange", cuda.EwInRange, lo, hi, x)
}

func cudaNanToNum(x *Tensor, nan, posinf, neginf float32) *Tensor {
	y := cudaUnaryCode("NanToNum", cuda.EwNanTo, nan, 0, x)
	out := cudaUnaryCode("NanToNum", cuda.EwInfTo, posinf, neginf, y)
	theGPU().free(y.storage)
	return out
}

func cudaMapFunc(x *Tensor, f func(float32) float32) *Tensor {
	return viaHost("MapFunc", func(h []*Tensor) *Tensor { return MapFunc(h[0], f) }, x)
}
