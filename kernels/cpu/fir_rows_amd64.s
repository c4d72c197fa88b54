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
