//go:build amd64

#include "textflag.h"

// Eight floats a step, as one multiply and FMAs into it; the Go wrappers
// (fir_rows_amd64.go) do the tail.

// func fir2AVX2(dst, a, b *float32, w0, w1 float32, n int)
TEXT ·fir2AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), R8
	VBROADCASTSS w0+24(FP), Y12
	VBROADCASTSS w1+28(FP), Y13
	MOVQ n+32(FP), CX
	SHRQ $3, CX
	JEQ  done2
loop2:
	VMULPS      0(SI), Y12, Y0
	VFMADD231PS 0(R8), Y13, Y0
	VMOVUPS     Y0, 0(DI)
	ADDQ        $32, SI
	ADDQ        $32, R8
	ADDQ        $32, DI
	DECQ        CX
	JNE         loop2
done2:
	VZEROUPPER
	RET

// func fir4AVX2(dst, a, b, c, d *float32, w *[4]float32, n int)
TEXT ·fir4AVX2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), R8
	MOVQ c+24(FP), R9
	MOVQ d+32(FP), R10
	MOVQ w+40(FP), AX
	VBROADCASTSS 0(AX), Y12
	VBROADCASTSS 4(AX), Y13
	VBROADCASTSS 8(AX), Y14
	VBROADCASTSS 12(AX), Y15
	MOVQ n+48(FP), CX
	SHRQ $3, CX
	JEQ  done4
loop4:
	VMULPS      0(SI), Y12, Y0
	VFMADD231PS 0(R8), Y13, Y0
	VFMADD231PS 0(R9), Y14, Y0
	VFMADD231PS 0(R10), Y15, Y0
	VMOVUPS     Y0, 0(DI)
	ADDQ        $32, SI
	ADDQ        $32, R8
	ADDQ        $32, R9
	ADDQ        $32, R10
	ADDQ        $32, DI
	DECQ        CX
	JNE         loop4
done4:
	VZEROUPPER
	RET

// Sixteen outputs a step: the even ones (taps w0, w1) and the odd ones (w2,
// w3) of eight inputs and their right neighbours, each product rounded
// before the add (no FMA: the bits of the scalar loop), then interleaved; a
// last step of eight outputs from four inputs in X registers.
// func firPairsAVX2asm(dst, src *float32, w *[4]float32, n int)
TEXT ·firPairsAVX2asm(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ w+16(FP), AX
	VBROADCASTSS 0(AX), Y12
	VBROADCASTSS 4(AX), Y13
	VBROADCASTSS 8(AX), Y14
	VBROADCASTSS 12(AX), Y15
	MOVQ n+24(FP), CX
	MOVQ CX, DX
	SHRQ $3, CX
	JEQ  quadPairs
loopPairs:
	VMOVUPS     0(SI), Y0
	VMOVUPS     4(SI), Y1
	VMULPS      Y0, Y12, Y2
	VMULPS      Y1, Y13, Y3
	VADDPS      Y3, Y2, Y2 // even: in[k]·w0 + in[k+1]·w1
	VMULPS      Y0, Y14, Y4
	VMULPS      Y1, Y15, Y5
	VADDPS      Y5, Y4, Y4 // odd: in[k]·w2 + in[k+1]·w3
	VUNPCKLPS   Y4, Y2, Y6 // e0 o0 e1 o1 | e4 o4 e5 o5
	VUNPCKHPS   Y4, Y2, Y7 // e2 o2 e3 o3 | e6 o6 e7 o7
	VPERM2F128  $0x20, Y7, Y6, Y8
	VPERM2F128  $0x31, Y7, Y6, Y9
	VMOVUPS     Y8, 0(DI)
	VMOVUPS     Y9, 32(DI)
	ADDQ        $32, SI
	ADDQ        $64, DI
	DECQ        CX
	JNE         loopPairs
quadPairs:
	TESTQ $4, DX
	JEQ   donePairs
	VMOVUPS     0(SI), X0
	VMOVUPS     4(SI), X1
	VMULPS      X0, X12, X2
	VMULPS      X1, X13, X3
	VADDPS      X3, X2, X2
	VMULPS      X0, X14, X4
	VMULPS      X1, X15, X5
	VADDPS      X5, X4, X4
	VUNPCKLPS   X4, X2, X6 // e0 o0 e1 o1
	VUNPCKHPS   X4, X2, X7 // e2 o2 e3 o3
	VMOVUPS     X6, 0(DI)
	VMOVUPS     X7, 16(DI)
donePairs:
	VZEROUPPER
	RET

// func fir4ShiftedAVX2(dst *float32, dstPitch int, src *float32, srcPitch int, w *[4]float32, n, rows int)
// fir4AVX2 on rows rows at once, the four inputs of each being its source
// row shifted by 0 to 3: dst[r*dstPitch + i] = w0*s[i] + w1*s[i+1] +
// w2*s[i+2] + w3*s[i+3] with s the row at src + r*srcPitch (pitches in
// floats; n a multiple of 4). Each multiple of 8 takes the same multiply
// and FMAs as fir4AVX2; a last 4 (n mod 8 = 4: the 4x4 layers' whole rows)
// takes firRows4Generic's products rounded apart and added in order, as
// firRows4AVX2 computes its tail, so every row keeps firRows4's bits.
TEXT ·fir4ShiftedAVX2(SB), NOSPLIT, $0-56
	MOVQ  dst+0(FP), DI
	MOVQ  dstPitch+8(FP), R8
	SHLQ  $2, R8
	MOVQ  src+16(FP), SI
	MOVQ  srcPitch+24(FP), R9
	SHLQ  $2, R9
	MOVQ  w+32(FP), AX
	VBROADCASTSS 0(AX), Y12
	VBROADCASTSS 4(AX), Y13
	VBROADCASTSS 8(AX), Y14
	VBROADCASTSS 12(AX), Y15
	MOVQ  n+40(FP), R10
	MOVQ  R10, R12
	ANDQ  $4, R12
	SHRQ  $3, R10
	MOVQ  rows+48(FP), R11
	TESTQ R11, R11
	JEQ   doneShifted
rowShifted:
	MOVQ  DI, DX
	MOVQ  SI, BX
	MOVQ  R10, CX
	TESTQ CX, CX
	JEQ   tailShifted
loopShifted:
	VMULPS      0(BX), Y12, Y0
	VFMADD231PS 4(BX), Y13, Y0
	VFMADD231PS 8(BX), Y14, Y0
	VFMADD231PS 12(BX), Y15, Y0
	VMOVUPS     Y0, 0(DX)
	ADDQ        $32, BX
	ADDQ        $32, DX
	DECQ        CX
	JNE         loopShifted
tailShifted:
	TESTQ  R12, R12
	JEQ    nextShifted
	VMULPS 0(BX), X12, X0
	VMULPS 4(BX), X13, X1
	VADDPS X1, X0, X0
	VMULPS 8(BX), X14, X1
	VADDPS X1, X0, X0
	VMULPS 12(BX), X15, X1
	VADDPS X1, X0, X0
	VMOVUPS X0, 0(DX)
nextShifted:
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ R11
	JNE  rowShifted
doneShifted:
	VZEROUPPER
	RET
