//go:build ignore

// This program writes rows_amd64.s: the row kernels of softmax, log-softmax
// and layer norm for AVX2+FMA (YMM, 8 lanes) and AVX-512 (ZMM, 16 lanes).
// Run it with `go generate ./kernels/cpu`. It also has the vector QuickGelu
// of the Unary kernels, which shares the exp.
//
// Every kernel takes whole rows of any length: full vectors in the loop, the
// last len%lanes elements with masked loads and stores (AVX-512 opmask K1,
// AVX2 VMASKMOVPS with the lane mask in Y15), so nothing is left to Go.
//
// exp is float32: n = round(d·log2e), r = d - n·ln2 (ln2 in two parts, with
// FMA), e^r by Cephes' expf polynomial, times 2^n (VSCALEFPS on AVX-512,
// exponent bits on AVX2). It is within about 1 ulp of the true exp on
// [-87, 0]; below the threshold (AVX-512: -104, where even denormals round to
// 0; AVX2: ln(FLT_MIN), normal results only) it gives +0, -Inf included, and
// NaN stays NaN (the threshold compare is NLT_UQ, true on NaN).
//
// Softmax's argument d = x - max is rounded to float32; its rounding error
// (TwoSum) is added to the reduced argument r, so the exp is of the exact
// difference as in the float64 reference. Sums of exps, layer-norm statistics
// and everything after the statistics are in float64 lanes.
package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
)

type isa struct {
	suffix string
	reg    string // Y or Z
	lanes  int
}

func (x isa) avx512() bool { return x.reg == "Z" }

func (x isa) R(i int) string { return fmt.Sprintf("%s%d", x.reg, i) }

// Y and X name the lower halves of register i.
func Y(i int) string { return fmt.Sprintf("Y%d", i) }
func X(i int) string { return fmt.Sprintf("X%d", i) }

var out bytes.Buffer

func p(format string, args ...any) { fmt.Fprintf(&out, format+"\n", args...) }

func header(name, args string, frame int) {
	p("")
	p("// func %s(%s)", name, args)
	p("TEXT ·%s(SB), NOSPLIT, $0-%d", name, frame)
}

func log2(n int) int {
	k := 0
	for 1<<k < n {
		k++
	}
	return k
}

// Constants, each replicated over 32 bytes in rowconst<> so AVX2 can use them
// as memory operands; AVX-512 broadcasts them into Z16 and up.
type constant struct {
	name     string
	bits     uint32
	avx2Only bool // not given a register on AVX-512
}

func f(v float64) uint32 { return math.Float32bits(float32(v)) }

var ln2hi = float32(math.Ln2)

var constants = []constant{
	{"log2e", f(math.Log2E), false},
	{"ln2hi", math.Float32bits(ln2hi), false},
	{"ln2lo", f(math.Ln2 - float64(ln2hi)), false},
	// Cephes expf: e^r ≈ 1 + r + r²·(c0 + c1·r + ... + c5·r⁵), c5 first here.
	{"c5", f(1.9875691500e-4), false},
	{"c4", f(1.3981999507e-3), false},
	{"c3", f(8.3334519073e-3), false},
	{"c2", f(4.1665795894e-2), false},
	{"c1", f(1.6666665459e-1), false},
	{"c0", f(5.0000001201e-1), false},
	{"one", f(1), false},
	{"thr512", f(-104), false},
	{"thr2", f(-87.33), true}, // > ln(FLT_MIN) = -87.3365: 2^n stays normal
	{"neginf", 0xff800000, false},
	{"bias", 127, true},
	// QuickGelu's 1.702 in two parts, and the sign bit.
	{"ghi", math.Float32bits(ghi), false},
	{"glo", f(1.702 - float64(ghi)), false},
	{"sign", 0x80000000, false},
}

var ghi = float32(1.702)

var constReg = map[string]int{} // AVX-512 register of each constant

func init() {
	r := 16
	for _, c := range constants {
		if !c.avx2Only {
			constReg[c.name] = r
			r++
		}
	}
	if r > 32 {
		panic("too many constants for Z16-Z31")
	}
}

func constOff(name string) int {
	for i, c := range constants {
		if c.name == name {
			return 32 * i
		}
	}
	panic(name)
}

// K is the operand of a constant: a register on AVX-512, memory on AVX2.
func (x isa) K(name string) string {
	if x.avx512() {
		return fmt.Sprintf("Z%d", constReg[name])
	}
	return fmt.Sprintf("rowconst<>+%d(SB)", constOff(name))
}

func (x isa) loadConstants() {
	if !x.avx512() {
		return
	}
	for _, c := range constants {
		if !c.avx2Only {
			p("\tVBROADCASTSS rowconst<>+%d(SB), Z%d", constOff(c.name), constReg[c.name])
		}
	}
}

func data() {
	p("")
	for i, c := range constants {
		for j := 0; j < 4; j++ {
			p("DATA rowconst<>+%d(SB)/8, $0x%08x%08x", 32*i+8*j, c.bits, c.bits)
		}
	}
	p("GLOBL rowconst<>(SB), RODATA|NOPTR, $%d", 32*len(constants))
	p("")
	// 8 all-ones lanes then 8 zero lanes: the 8 lanes at byte 32-4·rem have
	// the first rem set.
	for j := 0; j < 4; j++ {
		p("DATA rowmask<>+%d(SB)/8, $-1", 8*j)
	}
	for j := 4; j < 8; j++ {
		p("DATA rowmask<>+%d(SB)/8, $0", 8*j)
	}
	p("GLOBL rowmask<>(SB), RODATA|NOPTR, $64")
}

// tailMask sets R10 = cols % lanes (cols in R9) and the tail lane mask: K1
// on AVX-512 (with K2 its upper 8 lanes, for float64 halves), Y15 on AVX2.
func (x isa) tailMask() {
	p("\tMOVQ R9, R10")
	p("\tANDQ $%d, R10", x.lanes-1)
	if x.avx512() {
		p("\tMOVL $1, AX")
		p("\tMOVQ R10, CX")
		p("\tSHLL CX, AX")
		p("\tDECL AX")
		p("\tKMOVW AX, K1")
		p("\tKSHIFTRW $8, K1, K2")
		return
	}
	p("\tLEAQ rowmask<>+32(SB), AX")
	p("\tMOVQ R10, CX")
	p("\tSHLQ $2, CX")
	p("\tSUBQ CX, AX")
	p("\tVMOVDQU (AX), Y15")
}

// vecLoop emits a loop over the full vectors of a row (count R9>>log2(lanes)
// in CX) with body(false), then body(true) once if R10 != 0. The body
// addresses its vector at BX (and whatever else it advances in step).
func (x isa) vecLoop(l string, ptrs []string, body func(tail bool)) {
	p("\tMOVQ R9, CX")
	p("\tSHRQ $%d, CX", log2(x.lanes))
	p("\tJEQ  %s_tail", l)
	p("%s_loop:", l)
	body(false)
	for _, r := range ptrs {
		p("\tADDQ $%d, %s", 4*x.lanes, r)
	}
	p("\tDECQ CX")
	p("\tJNE  %s_loop", l)
	p("%s_tail:", l)
	p("\tTESTQ R10, R10")
	p("\tJEQ  %s_done", l)
	body(true)
	p("%s_done:", l)
}

// rowMax leaves the maximum of the row at BX broadcast in register m. Lanes
// of NaN are dropped or kept in any order: with a NaN in the row the exp
// sum is NaN either way, which is all the callers need.
func (x isa) rowMax(l string, m int) {
	acc, t, ninf := x.R(0), x.R(1), x.R(2)
	if x.avx512() {
		p("\tVMOVAPS %s, %s", x.K("neginf"), acc)
	} else {
		p("\tVMOVUPS %s, %s", x.K("neginf"), acc)
		p("\tVMOVUPS %s, %s", x.K("neginf"), ninf)
	}
	x.vecLoop(l, []string{"BX"}, func(tail bool) {
		switch {
		case !tail:
			p("\tVMAXPS (BX), %s, %s", acc, acc)
		case x.avx512():
			p("\tVMAXPS (BX), %s, K1, %s", acc, acc)
		default:
			p("\tVMASKMOVPS (BX), Y15, %s", t)
			p("\tVBLENDVPS Y15, %s, %s, %s", t, ninf, t) // t = mask ? t : -Inf
			p("\tVMAXPS %s, %s, %s", t, acc, acc)
		}
	})
	if x.avx512() {
		p("\tVEXTRACTF64X4 $1, Z0, Y1")
		p("\tVMAXPS Y1, Y0, Y0")
	}
	p("\tVEXTRACTF128 $1, Y0, X1")
	p("\tVMAXPS X1, X0, X0")
	p("\tVPERMILPS $0x4e, X0, X1")
	p("\tVMAXPS X1, X0, X0")
	p("\tVPERMILPS $0xb1, X0, X1")
	p("\tVMAXPS X1, X0, X0")
	p("\tVBROADCASTSS X0, %s", x.R(m))
}

// Registers of the exp-sum loop.
const (
	rAcc0, rAcc1 = 0, 1
	rX, rS       = 2, 3
	rBB, rT      = 4, 5
	rLo          = 6
	rK           = 8 // AVX2 mask
	rR2, rP      = 9, 10
	rW0, rW1     = 11, 12
	rM, rNegM    = 13, 14
)

// exp writes e^(S + LO) to P (lo nil: e^S), as described at the top. S and
// T are clobbered; the mask of lanes kept is K3 (AVX-512) or rK (AVX2).
func (x isa) exp(tail, lo bool) {
	S, T, N, R2, P := x.R(rS), x.R(rT), x.R(rT), x.R(rR2), x.R(rP)
	if x.avx512() {
		if tail {
			p("\tVCMPPS $5, %s, %s, K1, K3", x.K("thr512"), S) // K3 = tail & !(S < thr)
		} else {
			p("\tVCMPPS $5, %s, %s, K3", x.K("thr512"), S)
		}
	} else {
		p("\tVCMPPS $5, %s, %s, %s", x.K("thr2"), S, x.R(rK))
		if tail {
			p("\tVANDPS Y15, %s, %s", x.R(rK), x.R(rK))
		}
	}
	p("\tVMULPS %s, %s, %s", x.K("log2e"), S, T)
	if x.avx512() {
		p("\tVRNDSCALEPS $0, %s, %s", T, N)
	} else {
		p("\tVROUNDPS $0, %s, %s", T, N)
	}
	p("\tVFNMADD231PS %s, %s, %s", x.K("ln2hi"), N, S) // S -= N·ln2hi
	p("\tVFNMADD231PS %s, %s, %s", x.K("ln2lo"), N, S)
	if lo {
		// LO is NaN where S is -Inf; those lanes are dropped by the mask.
		if x.avx512() {
			p("\tVADDPS %s, %s, K3, %s", x.R(rLo), S, S)
		} else {
			p("\tVANDPS %s, %s, %s", x.R(rK), x.R(rLo), x.R(rLo))
			p("\tVADDPS %s, %s, %s", x.R(rLo), S, S)
		}
	}
	p("\tVMULPS %s, %s, %s", S, S, R2)
	if x.avx512() {
		p("\tVMOVAPS %s, %s", x.K("c4"), P)
	} else {
		p("\tVMOVUPS %s, %s", x.K("c4"), P)
	}
	p("\tVFMADD231PS %s, %s, %s", x.K("c5"), S, P) // P = S·c5 + c4
	for _, c := range []string{"c3", "c2", "c1", "c0"} {
		p("\tVFMADD213PS %s, %s, %s", x.K(c), S, P) // P = S·P + c
	}
	p("\tVFMADD213PS %s, %s, %s", S, R2, P) // P = r²·P + r
	p("\tVADDPS %s, %s, %s", x.K("one"), P, P)
	if x.avx512() {
		p("\tVSCALEFPS.Z %s, %s, K3, %s", N, P, P)
		return
	}
	p("\tVCVTPS2DQ %s, %s", N, N)
	p("\tVPADDD %s, %s, %s", x.K("bias"), N, N)
	p("\tVPSLLD $23, %s, %s", N, N)
	p("\tVMULPS %s, %s, %s", N, P, P)
	p("\tVANDPS %s, %s, %s", x.R(rK), P, P)
}

// load and store of a vector at off(base), masked for the tail.
func (x isa) load(tail bool, src string, dst int) {
	switch {
	case !tail:
		p("\tVMOVUPS %s, %s", src, x.R(dst))
	case x.avx512():
		p("\tVMOVUPS.Z %s, K1, %s", src, x.R(dst))
	default:
		p("\tVMASKMOVPS %s, Y15, %s", src, x.R(dst))
	}
}

func (x isa) store(tail bool, src int, dst string) {
	switch {
	case !tail:
		p("\tVMOVUPS %s, %s", x.R(src), dst)
	case x.avx512():
		p("\tVMOVUPS %s, K1, %s", x.R(src), dst)
	default:
		p("\tVMASKMOVPS %s, Y15, %s", x.R(src), dst)
	}
}

// widen adds the float32 lanes of register v, as float64, to acc0 and acc1.
// tmp is clobbered.
func (x isa) widen(v, tmp, acc0, acc1 int) {
	if x.avx512() {
		p("\tVEXTRACTF64X4 $1, Z%d, Y%d", v, tmp)
		p("\tVCVTPS2PD Y%d, Z%d", tmp, tmp)
		p("\tVCVTPS2PD Y%d, Z%d", v, v)
	} else {
		p("\tVEXTRACTF128 $1, Y%d, X%d", v, tmp)
		p("\tVCVTPS2PD X%d, Y%d", tmp, tmp)
		p("\tVCVTPS2PD X%d, Y%d", v, v)
	}
	p("\tVADDPD %s, %s, %s", x.R(v), x.R(acc0), x.R(acc0))
	p("\tVADDPD %s, %s, %s", x.R(tmp), x.R(acc1), x.R(acc1))
}

// hsum leaves Σ of the float64 lanes of acc0 and acc1 in X0 (acc0 = 0).
func (x isa) hsum() {
	p("\tVADDPD %s, %s, %s", x.R(1), x.R(0), x.R(0))
	if x.avx512() {
		p("\tVEXTRACTF64X4 $1, Z0, Y1")
		p("\tVADDPD Y1, Y0, Y0")
	}
	p("\tVEXTRACTF128 $1, Y0, X1")
	p("\tVADDPD X1, X0, X0")
	p("\tVPERMILPD $1, X0, X1")
	p("\tVADDSD X1, X0, X0")
}

// expSum runs over the row at BX: P = e^(x - M) with the TwoSum correction,
// stored at DX when store is set, and summed in float64 into X0.
func (x isa) expSum(l string, store bool) {
	p("\tVXORPD %s, %s, %s", x.R(rAcc0), x.R(rAcc0), x.R(rAcc0))
	p("\tVXORPD %s, %s, %s", x.R(rAcc1), x.R(rAcc1), x.R(rAcc1))
	ptrs := []string{"BX"}
	if store {
		ptrs = append(ptrs, "DX")
	}
	x.vecLoop(l, ptrs, func(tail bool) {
		Xr, S, BB, T, M, NegM := x.R(rX), x.R(rS), x.R(rBB), x.R(rT), x.R(rM), x.R(rNegM)
		x.load(tail, "(BX)", rX)
		p("\tVSUBPS %s, %s, %s", M, Xr, S)        // S = x - m, rounded
		p("\tVSUBPS %s, %s, %s", Xr, S, BB)       // TwoSum(x, -m): BB = S - x
		p("\tVSUBPS %s, %s, %s", BB, S, T)        // T = S - BB
		p("\tVSUBPS %s, %s, %s", T, Xr, T)        // T = x - T
		p("\tVSUBPS %s, %s, %s", BB, NegM, BB)    // BB = -m - BB
		p("\tVADDPS %s, %s, %s", BB, T, x.R(rLo)) // LO = T + BB, the error of S
		x.exp(tail, true)
		if store {
			x.store(tail, rP, "(DX)")
		}
		x.widen(rP, rW0, rAcc0, rAcc1)
	})
	x.hsum()
}

func softmax(x isa) {
	header("softmaxRows"+x.suffix, "dst, src *float32, rows, cols int", 32)
	p("\tMOVQ dst+0(FP), DI")
	p("\tMOVQ src+8(FP), SI")
	p("\tMOVQ rows+16(FP), R8")
	p("\tMOVQ cols+24(FP), R9")
	p("\tTESTQ R8, R8")
	p("\tJEQ  done")
	p("\tTESTQ R9, R9")
	p("\tJEQ  done")
	x.tailMask()
	x.loadConstants()
	p("row:")
	p("\tMOVQ SI, BX")
	x.rowMax("max", rM)
	p("\tVXORPS %s, %s, %s", x.R(rNegM), x.R(rNegM), x.R(rNegM))
	p("\tVSUBPS %s, %s, %s", x.R(rM), x.R(rNegM), x.R(rNegM))
	p("\tMOVQ SI, BX")
	p("\tMOVQ DI, DX")
	x.expSum("exp", true)
	// inv = float32(1/sum), broadcast.
	p("\tMOVQ $0x3ff0000000000000, AX")
	p("\tVMOVQ AX, X1")
	p("\tVDIVSD X0, X1, X1")
	p("\tVCVTSD2SS X1, X1, X1")
	inv := x.R(1)
	p("\tVBROADCASTSS X1, %s", inv)
	p("\tMOVQ DI, BX")
	x.vecLoop("scale", []string{"BX"}, func(tail bool) {
		x.load(tail, "(BX)", 2)
		p("\tVMULPS %s, %s, %s", inv, x.R(2), x.R(2))
		x.store(tail, 2, "(BX)")
	})
	p("\tLEAQ (SI)(R9*4), SI")
	p("\tLEAQ (DI)(R9*4), DI")
	p("\tDECQ R8")
	p("\tJNE  row")
	p("done:")
	p("\tVZEROUPPER")
	p("\tRET")
}

func maxExpSum(x isa) {
	header("maxExpSum"+x.suffix, "src *float32, n int) (m float32, s float64", 32)
	p("\tMOVQ src+0(FP), SI")
	p("\tMOVQ n+8(FP), R9")
	x.tailMask()
	x.loadConstants()
	p("\tMOVQ SI, BX")
	x.rowMax("max", rM)
	p("\tVMOVSS X0, m+16(FP)")
	p("\tVXORPS %s, %s, %s", x.R(rNegM), x.R(rNegM), x.R(rNegM))
	p("\tVSUBPS %s, %s, %s", x.R(rM), x.R(rNegM), x.R(rNegM))
	p("\tMOVQ SI, BX")
	x.expSum("exp", false)
	p("\tVMOVSD X0, s+24(FP)")
	p("\tVZEROUPPER")
	p("\tRET")
}

// cvtIn loads the lanes floats at src as float64, the first half into
// register a and the second into b (zero beyond the tail). src is an
// address without displacement, such as (SI)(AX*1).
func (x isa) cvtIn(tail bool, src string, a, b int) {
	half := x.lanes / 2
	if !tail {
		p("\tVCVTPS2PD %s, %s", src, x.R(a))
		p("\tVCVTPS2PD %d%s, %s", 4*half, src, x.R(b))
		return
	}
	if x.avx512() {
		p("\tVCVTPS2PD.Z %s, K1, %s", src, x.R(a))
		p("\tVCVTPS2PD.Z %d%s, K2, %s", 4*half, src, x.R(b))
		return
	}
	p("\tVMASKMOVPS %s, Y15, Y%d", src, b)
	p("\tVCVTPS2PD X%d, Y%d", b, a)
	p("\tVEXTRACTF128 $1, Y%d, X%d", b, b)
	p("\tVCVTPS2PD X%d, Y%d", b, b)
}

// cvtOut rounds the float64 lanes of a and b to float32 and stores them.
func (x isa) cvtOut(tail bool, a, b int, dst string) {
	if x.avx512() {
		p("\tVCVTPD2PS Z%d, Y%d", a, a)
		p("\tVCVTPD2PS Z%d, Y%d", b, b)
		p("\tVINSERTF64X4 $1, Y%d, Z%d, Z%d", b, a, a)
	} else {
		p("\tVCVTPD2PSY Y%d, X%d", a, a)
		p("\tVCVTPD2PSY Y%d, X%d", b, b)
		p("\tVINSERTF128 $1, X%d, Y%d, Y%d", b, a, a)
	}
	x.store(tail, a, dst)
}

// logShift: dst = float32(float64(src) - shift), as LogSoftmaxRowsRef's last loop.
func logShift(x isa) {
	header("logShift"+x.suffix, "dst, src *float32, n int, shift float64", 32)
	p("\tMOVQ dst+0(FP), DI")
	p("\tMOVQ src+8(FP), SI")
	p("\tMOVQ n+16(FP), R9")
	x.tailMask()
	p("\tVBROADCASTSD shift+24(FP), %s", x.R(8))
	p("\tXORQ AX, AX")
	x.vecLoop("shift", []string{"AX"}, func(tail bool) {
		x.cvtIn(tail, "(SI)(AX*1)", 2, 3)
		p("\tVSUBPD %s, %s, %s", x.R(8), x.R(2), x.R(2))
		p("\tVSUBPD %s, %s, %s", x.R(8), x.R(3), x.R(3))
		x.cvtOut(tail, 2, 3, "(DI)(AX*1)")
	})
	p("\tVZEROUPPER")
	p("\tRET")
}

// zeroTail clears the float64 lanes of a and b beyond the tail.
func (x isa) zeroTail(a, b int) {
	if x.avx512() {
		p("\tVMOVAPD.Z Z%d, K1, Z%d", a, a)
		p("\tVMOVAPD.Z Z%d, K2, Z%d", b, b)
		return
	}
	p("\tVANDPD Y13, Y%d, Y%d", a, a)
	p("\tVANDPD Y14, Y%d, Y%d", b, b)
}

// layerNorm: LayerNormRowsRef's arithmetic in float64 lanes; pass three does
// the reference's operations in its order, so given the same mean and rstd
// (which differ only by the order of the float64 sums) it is bit-identical.
func layerNorm(x isa) {
	header("layerNormRows"+x.suffix, "dst, src, w, b, mean, rstd *float32, rows, cols int, eps float32", 68)
	p("\tMOVQ dst+0(FP), DI")
	p("\tMOVQ src+8(FP), SI")
	p("\tMOVQ w+16(FP), R11")
	p("\tMOVQ b+24(FP), R12")
	p("\tMOVQ mean+32(FP), R13")
	p("\tMOVQ rstd+40(FP), DX")
	p("\tMOVQ rows+48(FP), R8")
	p("\tMOVQ cols+56(FP), R9")
	p("\tTESTQ R8, R8")
	p("\tJEQ  done")
	p("\tTESTQ R9, R9")
	p("\tJEQ  done")
	x.tailMask()
	if !x.avx512() { // float64 lane masks of the two halves
		p("\tVPMOVSXDQ X15, Y13")
		p("\tVEXTRACTF128 $1, Y15, X14")
		p("\tVPMOVSXDQ X14, Y14")
	}
	const mu, rs = 8, 9
	p("row:")
	// Pass 1: mean.
	p("\tVXORPD %s, %s, %s", x.R(0), x.R(0), x.R(0))
	p("\tVXORPD %s, %s, %s", x.R(1), x.R(1), x.R(1))
	p("\tXORQ AX, AX")
	x.vecLoop("sum", []string{"AX"}, func(tail bool) {
		x.cvtIn(tail, "(SI)(AX*1)", 4, 5)
		p("\tVADDPD %s, %s, %s", x.R(4), x.R(0), x.R(0))
		p("\tVADDPD %s, %s, %s", x.R(5), x.R(1), x.R(1))
	})
	x.hsum()
	p("\tVCVTSI2SDQ R9, X1, X1")
	p("\tVDIVSD X1, X0, X0")
	p("\tVCVTSD2SS X0, X2, X2")
	p("\tVMOVSS X2, (R13)")
	p("\tVBROADCASTSD X0, %s", x.R(mu))
	// Pass 2: biased variance, rstd.
	p("\tVXORPD %s, %s, %s", x.R(0), x.R(0), x.R(0))
	p("\tVXORPD %s, %s, %s", x.R(1), x.R(1), x.R(1))
	p("\tXORQ AX, AX")
	x.vecLoop("var", []string{"AX"}, func(tail bool) {
		x.cvtIn(tail, "(SI)(AX*1)", 4, 5)
		p("\tVSUBPD %s, %s, %s", x.R(mu), x.R(4), x.R(4))
		p("\tVSUBPD %s, %s, %s", x.R(mu), x.R(5), x.R(5))
		if tail {
			x.zeroTail(4, 5)
		}
		p("\tVFMADD231PD %s, %s, %s", x.R(4), x.R(4), x.R(0))
		p("\tVFMADD231PD %s, %s, %s", x.R(5), x.R(5), x.R(1))
	})
	x.hsum()
	p("\tVCVTSI2SDQ R9, X1, X1")
	p("\tVDIVSD X1, X0, X0")
	p("\tVCVTSS2SD eps+64(FP), X2, X2")
	p("\tVADDSD X2, X0, X0")
	p("\tVSQRTSD X0, X0, X0")
	p("\tMOVQ $0x3ff0000000000000, BX")
	p("\tVMOVQ BX, X3")
	p("\tVDIVSD X0, X3, X3")
	p("\tVCVTSD2SS X3, X2, X2")
	p("\tVMOVSS X2, (DX)")
	p("\tVBROADCASTSD X3, %s", x.R(rs))
	// Pass 3, one loop per affine case.
	p("\tXORQ AX, AX")
	p("\tTESTQ R11, R11")
	p("\tJEQ  nowt")
	p("\tTESTQ R12, R12")
	p("\tJEQ  pass3_w")
	p("\tJMP  pass3_wb")
	p("nowt:")
	p("\tTESTQ R12, R12")
	p("\tJEQ  pass3_plain")
	p("\tJMP  pass3_b")
	for _, c := range []struct {
		l    string
		w, b bool
	}{{"plain", false, false}, {"w", true, false}, {"b", false, true}, {"wb", true, true}} {
		p("pass3_%s:", c.l)
		x.vecLoop("y"+c.l, []string{"AX"}, func(tail bool) {
			x.cvtIn(tail, "(SI)(AX*1)", 4, 5)
			for _, r := range []int{4, 5} {
				p("\tVSUBPD %s, %s, %s", x.R(mu), x.R(r), x.R(r))
				p("\tVMULPD %s, %s, %s", x.R(rs), x.R(r), x.R(r))
			}
			if c.w {
				x.cvtIn(tail, "(R11)(AX*1)", 6, 7)
				p("\tVMULPD %s, %s, %s", x.R(6), x.R(4), x.R(4))
				p("\tVMULPD %s, %s, %s", x.R(7), x.R(5), x.R(5))
			}
			if c.b {
				x.cvtIn(tail, "(R12)(AX*1)", 6, 7)
				p("\tVADDPD %s, %s, %s", x.R(6), x.R(4), x.R(4))
				p("\tVADDPD %s, %s, %s", x.R(7), x.R(5), x.R(5))
			}
			x.cvtOut(tail, 4, 5, "(DI)(AX*1)")
		})
		p("\tJMP  next")
	}
	p("next:")
	p("\tLEAQ (SI)(R9*4), SI")
	p("\tLEAQ (DI)(R9*4), DI")
	p("\tADDQ $4, R13")
	p("\tADDQ $4, DX")
	p("\tDECQ R8")
	p("\tJNE  row")
	p("done:")
	p("\tVZEROUPPER")
	p("\tRET")
}

// expRow: dst = e^src for src <= 0 or NaN (the softmax exp alone, for tests).
func expRow(x isa) {
	header("expRow"+x.suffix, "dst, src *float32, n int", 24)
	p("\tMOVQ dst+0(FP), DI")
	p("\tMOVQ src+8(FP), SI")
	p("\tMOVQ n+16(FP), R9")
	x.tailMask()
	x.loadConstants()
	p("\tMOVQ SI, BX")
	p("\tMOVQ DI, DX")
	x.vecLoop("exp", []string{"BX", "DX"}, func(tail bool) {
		x.load(tail, "(BX)", rS)
		x.exp(tail, false)
		x.store(tail, rP, "(DX)")
	})
	p("\tVZEROUPPER")
	p("\tRET")
}

// quickGelu: dst = x·σ(1.702x) = x·(z >= 0 ? 1 : e)/(1 + e) with
// e = exp(-|z|), z = 1.702x taken exactly as z_hi + z_lo (FMA for the
// product's error, 1.702 in two parts) so that e is of the exact -|z|.
func quickGelu(x isa) {
	header("quickGelu"+x.suffix, "dst, src *float32, n int", 24)
	p("\tMOVQ dst+0(FP), DI")
	p("\tMOVQ src+8(FP), SI")
	p("\tMOVQ n+16(FP), R9")
	x.tailMask()
	x.loadConstants()
	p("\tMOVQ SI, BX")
	p("\tMOVQ DI, DX")
	zero := x.R(11)
	p("\tVXORPS %s, %s, %s", zero, zero, zero)
	x.vecLoop("qg", []string{"BX", "DX"}, func(tail bool) {
		Xr, S, ZH, T, LO, P, D := x.R(rX), x.R(rS), x.R(rBB), x.R(rT), x.R(rLo), x.R(rP), x.R(rR2)
		x.load(tail, "(BX)", rX)
		p("\tVMULPS %s, %s, %s", x.K("ghi"), Xr, ZH) // z_hi
		p("\tVMOVAPS %s, %s", ZH, LO)
		p("\tVFMSUB231PS %s, %s, %s", x.K("ghi"), Xr, LO) // LO = x·ghi - z_hi, exact
		p("\tVFMADD231PS %s, %s, %s", x.K("glo"), Xr, LO) // LO += x·glo
		p("\tVORPS %s, %s, %s", x.K("sign"), ZH, S)       // S = -|z_hi|
		p("\tVANDPS %s, %s, %s", x.K("sign"), ZH, T)      // sign of z_hi
		p("\tVXORPS %s, %s, %s", T, LO, LO)               // LO = z >= 0 ? -z_lo : z_lo
		p("\tVXORPS %s, %s, %s", x.K("sign"), LO, LO)
		x.exp(tail, true)                          // P = e
		p("\tVADDPS %s, %s, %s", x.K("one"), P, D) // D = 1 + e
		if x.avx512() {
			p("\tVCMPPS $0x1d, %s, %s, K4", zero, ZH) // z_hi >= 0 (GE_OQ)
			p("\tVMOVAPS %s, K4, %s", x.K("one"), P)
		} else {
			m := x.R(12)
			p("\tVCMPPS $0x1d, %s, %s, %s", zero, ZH, m)
			p("\tVBLENDVPS %s, %s, %s, %s", m, x.K("one"), P, P) // P = m ? 1 : e
		}
		p("\tVDIVPS %s, %s, %s", D, P, P)
		p("\tVMULPS %s, %s, %s", Xr, P, P)
		x.store(tail, rP, "(DX)")
	})
	p("\tVZEROUPPER")
	p("\tRET")
}

func main() {
	p("// Code generated by rows_amd64_gen.go; DO NOT EDIT.")
	p("")
	p("//go:build amd64")
	p("")
	p(`#include "textflag.h"`)
	data()
	for _, x := range []isa{{"AVX2", "Y", 8}, {"AVX512", "Z", 16}} {
		softmax(x)
		maxExpSum(x)
		logShift(x)
		layerNorm(x)
		expRow(x)
		quickGelu(x)
	}
	if err := os.WriteFile("rows_amd64.s", out.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
