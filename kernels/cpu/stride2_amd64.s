//go:build amd64

#include "textflag.h"

// func gather2RowsAVX2(dst *float32, dstPitch int, src *float32, srcPitch int, n, rows int)
// dst[r*dstPitch + i] = src[r*srcPitch + 2i] for i < n, r < rows, n a
// multiple of 8 (pitches in floats); reads src[r*srcPitch:][0:2n].
TEXT ·gather2RowsAVX2(SB), NOSPLIT, $0-48
	MOVQ  dst+0(FP), DI
	MOVQ  dstPitch+8(FP), R8
	SHLQ  $2, R8
	MOVQ  src+16(FP), SI
	MOVQ  srcPitch+24(FP), R9
	SHLQ  $2, R9
	MOVQ  n+32(FP), R10
	SHRQ  $3, R10
	JEQ   gdone
	MOVQ  rows+40(FP), R11
	TESTQ R11, R11
	JEQ   gdone

grow:
	MOVQ DI, AX
	MOVQ SI, BX
	MOVQ R10, CX

gloop:
	VMOVUPS (BX), Y0
	VMOVUPS 32(BX), Y1
	VSHUFPS $0x88, Y1, Y0, Y2 // per 128-bit lane: s0 s2 s8 s10 | s4 s6 s12 s14
	VPERMPD $0xD8, Y2, Y2     // s0 s2 s4 s6 s8 s10 s12 s14
	VMOVUPS Y2, (AX)
	ADDQ    $64, BX
	ADDQ    $32, AX
	DECQ    CX
	JNE     gloop
	ADDQ    R8, DI
	ADDQ    R9, SI
	DECQ    R11
	JNE     grow

gdone:
	VZEROUPPER
	RET

// func scatterAdd2RowsAVX2(dst *float32, dstPitch int, v *float32, vPitch int, n, rows int)
// dst[r*dstPitch + 2i] += v[r*vPitch + i] for i < n, r < rows, n a multiple
// of 8; dst[r*dstPitch + 2i+1] is rewritten as itself + 0, the same bits for
// every value but -0.
TEXT ·scatterAdd2RowsAVX2(SB), NOSPLIT, $0-48
	MOVQ   dst+0(FP), DI
	MOVQ   dstPitch+8(FP), R8
	SHLQ   $2, R8
	MOVQ   v+16(FP), SI
	MOVQ   vPitch+24(FP), R9
	SHLQ   $2, R9
	MOVQ   n+32(FP), R10
	SHRQ   $3, R10
	JEQ    sdone
	MOVQ   rows+40(FP), R11
	TESTQ  R11, R11
	JEQ    sdone
	VXORPS Y3, Y3, Y3

srow:
	MOVQ DI, AX
	MOVQ SI, BX
	MOVQ R10, CX

sloop:
	VMOVUPS   (BX), Y0
	VPERMPD   $0xD8, Y0, Y0 // v0 v1 v4 v5 | v2 v3 v6 v7
	VUNPCKLPS Y3, Y0, Y1    // v0 0 v1 0 | v2 0 v3 0
	VUNPCKHPS Y3, Y0, Y2    // v4 0 v5 0 | v6 0 v7 0
	VADDPS    (AX), Y1, Y1  // v first, as the compiled loop's +=: a NaN in both keeps v's
	VADDPS    32(AX), Y2, Y2
	VMOVUPS   Y1, (AX)
	VMOVUPS   Y2, 32(AX)
	ADDQ      $32, BX
	ADDQ      $64, AX
	DECQ      CX
	JNE       sloop
	ADDQ      R8, DI
	ADDQ      R9, SI
	DECQ      R11
	JNE       srow

sdone:
	VZEROUPPER
	RET
