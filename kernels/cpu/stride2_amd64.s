//go:build amd64

#include "textflag.h"

// func gather2AVX2(dst, src *float32, n int)
// dst[i] = src[2i] for i < n, n a multiple of 8; reads src[0:2n].
TEXT ·gather2AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JEQ  gdone

gloop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VSHUFPS $0x88, Y1, Y0, Y2 // per 128-bit lane: s0 s2 s8 s10 | s4 s6 s12 s14
	VPERMPD $0xD8, Y2, Y2     // s0 s2 s4 s6 s8 s10 s12 s14
	VMOVUPS Y2, (DI)
	ADDQ $64, SI
	ADDQ $32, DI
	DECQ CX
	JNE  gloop

gdone:
	VZEROUPPER
	RET

// func scatterAdd2AVX2(dst, v *float32, n int)
// dst[2i] += v[i] for i < n, n a multiple of 8; dst[2i+1] is rewritten as
// dst[2i+1] + 0, the same bits for every value but -0.
TEXT ·scatterAdd2AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ v+8(FP), SI
	MOVQ n+16(FP), CX
	VXORPS Y3, Y3, Y3
	SHRQ $3, CX
	JEQ  sdone

sloop:
	VMOVUPS (SI), Y0
	VPERMPD $0xD8, Y0, Y0     // v0 v1 v4 v5 | v2 v3 v6 v7
	VUNPCKLPS Y3, Y0, Y1      // v0 0 v1 0 | v2 0 v3 0
	VUNPCKHPS Y3, Y0, Y2      // v4 0 v5 0 | v6 0 v7 0
	VADDPS (DI), Y1, Y1       // v first, as the compiled loop's +=: a NaN in both keeps v's
	VADDPS 32(DI), Y2, Y2
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	ADDQ $32, SI
	ADDQ $64, DI
	DECQ CX
	JNE  sloop

sdone:
	VZEROUPPER
	RET
