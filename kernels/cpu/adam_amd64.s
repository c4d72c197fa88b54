//go:build amd64

#include "textflag.h"

// func adamAVX2(w, grad, m, v *float32, n int, c *AdamCoefs, clean bool)
// n is a multiple of 8. Each operation matches one rounding of
// AdamUpdateRef: products and sums in float32 for the moments, the step in
// float64 (square root, division and the float32 rounding are IEEE-exact in
// both forms).
TEXT ·adamAVX2(SB), NOSPLIT, $0-49
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), AX
	MOVBLZX clean+48(FP), BX
	VBROADCASTSS 0(AX), Y8   // GradScale
	VBROADCASTSS 8(AX), Y9   // B1
	VBROADCASTSS 12(AX), Y10 // B2
	VBROADCASTSS 16(AX), Y11 // C1
	VBROADCASTSS 20(AX), Y12 // C2
	VBROADCASTSD 24(AX), Y13 // StepSize
	VBROADCASTSD 32(AX), Y14 // SqrtBC2
	VBROADCASTSD 40(AX), Y15 // Eps
	MOVL $0x7fffffff, DX
	VMOVD DX, X5
	VBROADCASTSS X5, Y5      // |x| mask
	MOVL $0x7f800000, DX
	VMOVD DX, X6
	VBROADCASTSS X6, Y6      // +Inf
	VBROADCASTSS 4(AX), Y7   // InfTo
	SHRQ $3, CX
	JEQ  done

loop:
	VMOVUPS (SI), Y0
	VMULPS  Y8, Y0, Y0       // g' = GradScale·g
	TESTQ   BX, BX
	JEQ     moments
	VCMPPS  $3, Y0, Y0, Y1   // NaN lanes
	VANDNPS Y0, Y1, Y0       // NaN -> +0
	VANDPS  Y5, Y0, Y3       // |g'|
	VCMPPS  $0, Y6, Y3, Y1   // |g'| == Inf
	VXORPS  Y3, Y0, Y3       // sign of g'
	VORPS   Y7, Y3, Y3       // ±InfTo
	VBLENDVPS Y1, Y3, Y0, Y0

moments:
	VMOVUPS (R8), Y1
	VMULPS  Y9, Y1, Y1       // β1·m
	VMULPS  Y11, Y0, Y3      // (1−β1)·g'
	VADDPS  Y3, Y1, Y1
	VMOVUPS Y1, (R8)
	VMOVUPS (R9), Y2
	VMULPS  Y10, Y2, Y2      // β2·v
	VMULPS  Y12, Y0, Y3      // (1−β2)·g'
	VMULPS  Y0, Y3, Y3       // ·g'
	VADDPS  Y3, Y2, Y2
	VMOVUPS Y2, (R9)

	// Lanes 0-3 in float64.
	VCVTPS2PD X2, Y0
	VSQRTPD Y0, Y0
	VDIVPD  Y14, Y0, Y0
	VADDPD  Y15, Y0, Y0      // den
	VCVTPS2PD X1, Y3
	VMULPD  Y13, Y3, Y3
	VDIVPD  Y0, Y3, Y3
	VCVTPD2PSY Y3, X3

	// Lanes 4-7.
	VEXTRACTF128 $1, Y2, X2
	VCVTPS2PD X2, Y2
	VSQRTPD Y2, Y2
	VDIVPD  Y14, Y2, Y2
	VADDPD  Y15, Y2, Y2
	VEXTRACTF128 $1, Y1, X1
	VCVTPS2PD X1, Y1
	VMULPD  Y13, Y1, Y1
	VDIVPD  Y2, Y1, Y1
	VCVTPD2PSY Y1, X1
	VINSERTF128 $1, X1, Y3, Y3

	VMOVUPS (DI), Y4
	VSUBPS  Y3, Y4, Y4
	VMOVUPS Y4, (DI)

	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $32, DI
	DECQ CX
	JNE  loop

done:
	VZEROUPPER
	RET

// func emaAVX2(avg, src *float32, n int, beta float32)
// n is a multiple of 8: avg = src + β·(avg − src), each step rounded.
TEXT ·emaAVX2(SB), NOSPLIT, $0-28
	MOVQ avg+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS beta+24(FP), Y2
	SHRQ $3, CX
	JEQ  edone

eloop:
	VMOVUPS (DI), Y0
	VMOVUPS (SI), Y1
	VSUBPS  Y1, Y0, Y0       // avg − src
	VMULPS  Y2, Y0, Y0       // β·
	VADDPS  Y0, Y1, Y0       // src +
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNE  eloop

edone:
	VZEROUPPER
	RET
