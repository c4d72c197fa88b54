//go:build amd64

#include "textflag.h"

// TRANSPOSE8X8 transposes the 8x8 block in Y0-Y7 (row i in Yi) into
// Y8-Y15 (column j in Y(8+j)): pairs of rows interleaved (unpacks), then
// quads (shuffles), then the 128-bit halves swapped; clobbers Y0-Y7.
#define TRANSPOSE8X8 \
	VUNPCKLPS Y1, Y0, Y8; \
	VUNPCKHPS Y1, Y0, Y9; \
	VUNPCKLPS Y3, Y2, Y10; \
	VUNPCKHPS Y3, Y2, Y11; \
	VUNPCKLPS Y5, Y4, Y12; \
	VUNPCKHPS Y5, Y4, Y13; \
	VUNPCKLPS Y7, Y6, Y14; \
	VUNPCKHPS Y7, Y6, Y15; \
	VSHUFPS $0x44, Y10, Y8, Y0; \
	VSHUFPS $0xEE, Y10, Y8, Y1; \
	VSHUFPS $0x44, Y11, Y9, Y2; \
	VSHUFPS $0xEE, Y11, Y9, Y3; \
	VSHUFPS $0x44, Y14, Y12, Y4; \
	VSHUFPS $0xEE, Y14, Y12, Y5; \
	VSHUFPS $0x44, Y15, Y13, Y6; \
	VSHUFPS $0xEE, Y15, Y13, Y7; \
	VPERM2F128 $0x20, Y4, Y0, Y8; \
	VPERM2F128 $0x20, Y5, Y1, Y9; \
	VPERM2F128 $0x20, Y6, Y2, Y10; \
	VPERM2F128 $0x20, Y7, Y3, Y11; \
	VPERM2F128 $0x31, Y4, Y0, Y12; \
	VPERM2F128 $0x31, Y5, Y1, Y13; \
	VPERM2F128 $0x31, Y6, Y2, Y14; \
	VPERM2F128 $0x31, Y7, Y3, Y15

// func transpose8x8AVX2(dst *float32, dstStride int, src *float32, srcStride int, blocks int)
//
// Block b transposes the 8x8 floats src[i*srcStride + 8b + j] (i, j < 8)
// into dst[(8b+j)*dstStride + i]: eight rows in, unpacks, shuffles and
// 128-bit lane swaps (24 shuffles), eight rows out. Strides in floats.
TEXT ·transpose8x8AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), DX
	SHLQ $2, DX
	MOVQ src+16(FP), SI
	MOVQ srcStride+24(FP), BX
	SHLQ $2, BX
	MOVQ blocks+32(FP), CX
	LEAQ (BX)(BX*2), R9
	LEAQ (DX)(DX*2), R10
	TESTQ CX, CX
	JEQ   done
loop:
	LEAQ    (SI)(BX*4), R8
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(BX*1), Y1
	VMOVUPS (SI)(BX*2), Y2
	VMOVUPS (SI)(R9*1), Y3
	VMOVUPS (R8), Y4
	VMOVUPS (R8)(BX*1), Y5
	VMOVUPS (R8)(BX*2), Y6
	VMOVUPS (R8)(R9*1), Y7
	TRANSPOSE8X8
	LEAQ    (DI)(DX*4), R11
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, (DI)(DX*1)
	VMOVUPS Y10, (DI)(DX*2)
	VMOVUPS Y11, (DI)(R10*1)
	VMOVUPS Y12, (R11)
	VMOVUPS Y13, (R11)(DX*1)
	VMOVUPS Y14, (R11)(DX*2)
	VMOVUPS Y15, (R11)(R10*1)
	ADDQ    $32, SI
	LEAQ    (DI)(DX*8), DI
	DECQ    CX
	JNE     loop
done:
	VZEROUPPER
	RET

// func pack6RowsAVX2(dst *float32, src *float32, srcStride int, blocks int)
//
// The AVX2 kernel's A panel (6 rows): block b writes src[i*srcStride + 8b + j]
// (i < 6, j < 8) to dst[(8b+j)*6 + i]. Two zero rows make it an 8x8
// transpose; each column then goes out as one 32-byte store 24 bytes after
// the last, whose two padding floats the next store overwrites, and the
// block's last column as 16 + 8 bytes so nothing past the block is written.
TEXT ·pack6RowsAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ srcStride+16(FP), BX
	SHLQ $2, BX
	MOVQ blocks+24(FP), CX
	LEAQ (BX)(BX*2), R9
	TESTQ CX, CX
	JEQ   done6
loop6:
	LEAQ    (SI)(BX*4), R8
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(BX*1), Y1
	VMOVUPS (SI)(BX*2), Y2
	VMOVUPS (SI)(R9*1), Y3
	VMOVUPS (R8), Y4
	VMOVUPS (R8)(BX*1), Y5
	VXORPS  Y6, Y6, Y6
	VXORPS  Y7, Y7, Y7
	TRANSPOSE8X8
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, 24(DI)
	VMOVUPS Y10, 48(DI)
	VMOVUPS Y11, 72(DI)
	VMOVUPS Y12, 96(DI)
	VMOVUPS Y13, 120(DI)
	VMOVUPS Y14, 144(DI)
	VMOVUPS X15, 168(DI)
	VEXTRACTF128 $1, Y15, X0
	VMOVQ   X0, 184(DI)
	ADDQ    $32, SI
	ADDQ    $192, DI
	DECQ    CX
	JNE     loop6
done6:
	VZEROUPPER
	RET

// func gatherRowsAVX2(dst *float32, nr int, src *float32, rows *int, n int)
//
// For p < n (n > 0) copies the nr floats (16 or 32) at src + rows[p] floats
// to dst + p*nr: the packing of a B panel whose rows are a table of offsets.
TEXT ·gatherRowsAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ nr+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ rows+24(FP), BX
	MOVQ n+32(FP), CX
	CMPQ DX, $32
	JNE  rows16
rows32:
	MOVQ    (BX), AX
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VMOVUPS 64(SI)(AX*4), Y2
	VMOVUPS 96(SI)(AX*4), Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $8, BX
	ADDQ    $128, DI
	DECQ    CX
	JNE     rows32
	VZEROUPPER
	RET
rows16:
	MOVQ    (BX), AX
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    $8, BX
	ADDQ    $64, DI
	DECQ    CX
	JNE     rows16
	VZEROUPPER
	RET

// func scatterRowAVX2(dst *float32, dstStride int, src *float32, nr int, n int)
//
// For q < n (n > 0) copies the nr floats (16 or 32) at src + q*nr to
// dst + q*dstStride: one row of B spread over n packed micro-panels.
TEXT ·scatterRowAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), BX
	SHLQ $2, BX
	MOVQ src+16(FP), SI
	MOVQ nr+24(FP), DX
	MOVQ n+32(FP), CX
	CMPQ DX, $32
	JNE  scatter16
scatter32:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    BX, DI
	DECQ    CX
	JNE     scatter32
	VZEROUPPER
	RET
scatter16:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    $64, SI
	ADDQ    BX, DI
	DECQ    CX
	JNE     scatter16
	VZEROUPPER
	RET

// func transpose8x8RowsAVX2(dst *float32, dstStride int, src *float32, offs *int, blocks int)
//
// transpose8x8AVX2 with the eight source lines at src + offs[i] floats (any
// offsets) instead of one stride apart: block b transposes src[offs[i] + 8b
// + j] into dst[(8b+j)*dstStride + i]. The weight gradient packs the taps of
// a convolution from its padded input with it (packBTransposed).
TEXT ·transpose8x8RowsAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), DX
	SHLQ $2, DX
	MOVQ src+16(FP), SI
	MOVQ offs+24(FP), CX
	MOVQ 0(CX), AX
	MOVQ 8(CX), BX
	MOVQ 16(CX), R8
	MOVQ 24(CX), R9
	MOVQ 32(CX), R10
	MOVQ 40(CX), R11
	MOVQ 48(CX), R12
	MOVQ 56(CX), R13
	MOVQ blocks+32(FP), CX
	TESTQ CX, CX
	JEQ   rowsdone
rowsloop:
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS (SI)(BX*4), Y1
	VMOVUPS (SI)(R8*4), Y2
	VMOVUPS (SI)(R9*4), Y3
	VMOVUPS (SI)(R10*4), Y4
	VMOVUPS (SI)(R11*4), Y5
	VMOVUPS (SI)(R12*4), Y6
	VMOVUPS (SI)(R13*4), Y7
	TRANSPOSE8X8
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, (DI)(DX*1)
	VMOVUPS Y10, (DI)(DX*2)
	LEAQ    (DI)(DX*2), DI
	VMOVUPS Y11, (DI)(DX*1)
	VMOVUPS Y12, (DI)(DX*2)
	LEAQ    (DI)(DX*2), DI
	VMOVUPS Y13, (DI)(DX*1)
	VMOVUPS Y14, (DI)(DX*2)
	LEAQ    (DI)(DX*2), DI
	VMOVUPS Y15, (DI)(DX*1)
	LEAQ    (DI)(DX*2), DI
	ADDQ    $32, SI
	DECQ    CX
	JNE     rowsloop
rowsdone:
	VZEROUPPER
	RET
