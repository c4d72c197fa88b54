//go:build amd64

#include "textflag.h"

// Winograd F(2x2,3x3) transforms, 16 tiles a step. A row of tiles reads
// input columns 2tx .. 2tx+3: the even and odd columns of a 32-column run
// (and of the run two columns on) come out of two-table permutes, so that
// every transform is an add or subtract of whole vectors. The operations
// and their order are the Go code's (conv_winograd.go), so results are
// bit-identical to it.

// Indices of the even and odd elements of a 32-float pair of tables.
DATA winoidx<>+0(SB)/4, $0
DATA winoidx<>+4(SB)/4, $2
DATA winoidx<>+8(SB)/4, $4
DATA winoidx<>+12(SB)/4, $6
DATA winoidx<>+16(SB)/4, $8
DATA winoidx<>+20(SB)/4, $10
DATA winoidx<>+24(SB)/4, $12
DATA winoidx<>+28(SB)/4, $14
DATA winoidx<>+32(SB)/4, $16
DATA winoidx<>+36(SB)/4, $18
DATA winoidx<>+40(SB)/4, $20
DATA winoidx<>+44(SB)/4, $22
DATA winoidx<>+48(SB)/4, $24
DATA winoidx<>+52(SB)/4, $26
DATA winoidx<>+56(SB)/4, $28
DATA winoidx<>+60(SB)/4, $30
DATA winoidx<>+64(SB)/4, $1
DATA winoidx<>+68(SB)/4, $3
DATA winoidx<>+72(SB)/4, $5
DATA winoidx<>+76(SB)/4, $7
DATA winoidx<>+80(SB)/4, $9
DATA winoidx<>+84(SB)/4, $11
DATA winoidx<>+88(SB)/4, $13
DATA winoidx<>+92(SB)/4, $15
DATA winoidx<>+96(SB)/4, $17
DATA winoidx<>+100(SB)/4, $19
DATA winoidx<>+104(SB)/4, $21
DATA winoidx<>+108(SB)/4, $23
DATA winoidx<>+112(SB)/4, $25
DATA winoidx<>+116(SB)/4, $27
DATA winoidx<>+120(SB)/4, $29
DATA winoidx<>+124(SB)/4, $31
DATA winoidx<>+128(SB)/4, $0x80000000
GLOBL winoidx<>(SB), RODATA|NOPTR, $132

// Indices that interleave two 16-float tables: a0 b0 a1 b1 .. a7 b7, then
// a8 b8 .. a15 b15.
DATA winozip<>+0(SB)/4, $0
DATA winozip<>+4(SB)/4, $16
DATA winozip<>+8(SB)/4, $1
DATA winozip<>+12(SB)/4, $17
DATA winozip<>+16(SB)/4, $2
DATA winozip<>+20(SB)/4, $18
DATA winozip<>+24(SB)/4, $3
DATA winozip<>+28(SB)/4, $19
DATA winozip<>+32(SB)/4, $4
DATA winozip<>+36(SB)/4, $20
DATA winozip<>+40(SB)/4, $5
DATA winozip<>+44(SB)/4, $21
DATA winozip<>+48(SB)/4, $6
DATA winozip<>+52(SB)/4, $22
DATA winozip<>+56(SB)/4, $7
DATA winozip<>+60(SB)/4, $23
DATA winozip<>+64(SB)/4, $8
DATA winozip<>+68(SB)/4, $24
DATA winozip<>+72(SB)/4, $9
DATA winozip<>+76(SB)/4, $25
DATA winozip<>+80(SB)/4, $10
DATA winozip<>+84(SB)/4, $26
DATA winozip<>+88(SB)/4, $11
DATA winozip<>+92(SB)/4, $27
DATA winozip<>+96(SB)/4, $12
DATA winozip<>+100(SB)/4, $28
DATA winozip<>+104(SB)/4, $13
DATA winozip<>+108(SB)/4, $29
DATA winozip<>+112(SB)/4, $14
DATA winozip<>+116(SB)/4, $30
DATA winozip<>+120(SB)/4, $15
DATA winozip<>+124(SB)/4, $31
GLOBL winozip<>(SB), RODATA|NOPTR, $128

// PLANES: with plane 0 at DI and DX bytes a plane, R9 = 3 planes and
// R10, R11, R12 = planes 4, 8 and 12, so that plane 4q+i is (base)(DX*i)
// (R9 for i = 3). NEXTPLANES moves all four bases on by 16 floats.
#define PLANES \
	LEAQ (DX)(DX*2), R9 \
	LEAQ (DI)(DX*4), R10 \
	LEAQ (R10)(DX*4), R11 \
	LEAQ (R11)(DX*4), R12

#define NEXTPLANES \
	ADDQ $64, DI \
	ADDQ $64, R10 \
	ADDQ $64, R11 \
	ADDQ $64, R12

// LOADROW(src, off, e, o): e, o = the even and odd floats of src[off/4 ..
// off/4+31].
#define LOADROW(src, off, e, o) \
	VMOVUPS      off(src), e \
	VMOVUPS      off(src), o \
	VPERMT2PS    off+64(src), Z30, e \
	VPERMT2PS    off+64(src), Z31, o

// ROWPASS(c0, c1, c2, c3): Bᵀ d down the four rows c0..c3 of one column
// set: r0-r2, r1+r2, r2-r1, r1-r3 (in place, via Z20..Z23).
#define ROWPASS(c0, c1, c2, c3) \
	VSUBPS c2, c0, Z20 \
	VADDPS c2, c1, Z21 \
	VSUBPS c1, c2, Z22 \
	VSUBPS c3, c1, Z23 \
	VMOVAPS Z20, c0 \
	VMOVAPS Z21, c1 \
	VMOVAPS Z22, c2 \
	VMOVAPS Z23, c3

// COLPASS(e, o, e2, o2, base): the column half of one transformed row
// (even, odd, and both two columns on) into planes base+0..3:
// e-e2, o+e2, e2-o, o-o2.
#define COLPASS(e, o, e2, o2, base) \
	VSUBPS e2, e, Z20 \
	VADDPS e2, o, Z21 \
	VSUBPS o, e2, Z22 \
	VSUBPS o2, o, Z23 \
	VMOVUPS Z20, (base) \
	VMOVUPS Z21, (base)(DX*1) \
	VMOVUPS Z22, (base)(DX*2) \
	VMOVUPS Z23, (base)(R9*1)

// func winoInput16AVX512(v *float32, planeBytes int, r0, r1, r2, r3 *float32, blocks int)
//
// v is tile 0's element of transformed plane 0; plane ξ is planeBytes
// further per ξ. Row k of the (zero-padded) input rows is rk; block b
// covers tiles 16b .. 16b+15, reading columns 32b .. 32b+33.
TEXT ·winoInput16AVX512(SB), NOSPLIT, $0-56
	MOVQ v+0(FP), DI
	MOVQ planeBytes+8(FP), DX
	MOVQ r0+16(FP), SI
	MOVQ r1+24(FP), R8
	MOVQ r2+32(FP), BX
	MOVQ r3+40(FP), AX
	MOVQ blocks+48(FP), CX
	PLANES
	VMOVUPS winoidx<>+0(SB), Z30
	VMOVUPS winoidx<>+64(SB), Z31
	TESTQ CX, CX
	JEQ   indone
inloop:
	// Z(4k+0..3): row k's even, odd, even two on, odd two on.
	LOADROW(SI, 0, Z0, Z1)
	LOADROW(SI, 8, Z2, Z3)
	LOADROW(R8, 0, Z4, Z5)
	LOADROW(R8, 8, Z6, Z7)
	LOADROW(BX, 0, Z8, Z9)
	LOADROW(BX, 8, Z10, Z11)
	LOADROW(AX, 0, Z12, Z13)
	LOADROW(AX, 8, Z14, Z15)
	ROWPASS(Z0, Z4, Z8, Z12)
	ROWPASS(Z1, Z5, Z9, Z13)
	ROWPASS(Z2, Z6, Z10, Z14)
	ROWPASS(Z3, Z7, Z11, Z15)
	COLPASS(Z0, Z1, Z2, Z3, DI)
	COLPASS(Z4, Z5, Z6, Z7, R10)
	COLPASS(Z8, Z9, Z10, Z11, R11)
	COLPASS(Z12, Z13, Z14, Z15, R12)
	ADDQ $128, SI
	ADDQ $128, R8
	ADDQ $128, BX
	ADDQ $128, AX
	NEXTPLANES
	DECQ CX
	JNE  inloop
indone:
	VZEROUPPER
	RET

// GRADROW(a, b, base): one row (a, b) of A ȳ times Aᵀ into planes
// base+0..3: a, a+b, a-b, -b (negation by the sign bit, as Go's).
#define GRADROW(a, b, base) \
	VADDPS b, a, Z20 \
	VSUBPS b, a, Z21 \
	VXORPS b, Z29, Z22 \
	VMOVUPS a, (base) \
	VMOVUPS Z20, (base)(DX*1) \
	VMOVUPS Z21, (base)(DX*2) \
	VMOVUPS Z22, (base)(R9*1)

// func winoGradOutput16AVX512(m *float32, planeBytes int, g0, g1 *float32, blocks int)
//
// The weight gradient's m = A ȳ Aᵀ for a row of 2x2 tiles of the output
// gradient: g0 and g1 are its two rows, m tile 0's element of plane 0.
// Block b covers tiles 16b .. 16b+15, reading columns 32b .. 32b+31.
TEXT ·winoGradOutput16AVX512(SB), NOSPLIT, $0-40
	MOVQ m+0(FP), DI
	MOVQ planeBytes+8(FP), DX
	MOVQ g0+16(FP), SI
	MOVQ g1+24(FP), R8
	MOVQ blocks+32(FP), CX
	PLANES
	VMOVUPS winoidx<>+0(SB), Z30
	VMOVUPS winoidx<>+64(SB), Z31
	VPBROADCASTD winoidx<>+128(SB), Z29
	TESTQ CX, CX
	JEQ   gdone
gloop:
	LOADROW(SI, 0, Z0, Z1) // g00, g01
	LOADROW(R8, 0, Z2, Z3) // g10, g11
	VADDPS Z2, Z0, Z4      // g00+g10
	VADDPS Z3, Z1, Z5      // g01+g11
	VSUBPS Z2, Z0, Z6      // g00-g10
	VSUBPS Z3, Z1, Z7      // g01-g11
	VXORPS Z2, Z29, Z8     // -g10
	VXORPS Z3, Z29, Z9     // -g11
	GRADROW(Z0, Z1, DI)
	GRADROW(Z4, Z5, R10)
	GRADROW(Z6, Z7, R11)
	GRADROW(Z8, Z9, R12)
	ADDQ $128, SI
	ADDQ $128, R8
	NEXTPLANES
	DECQ CX
	JNE  gloop
gdone:
	VZEROUPPER
	RET

// OUTROW(p0, p1, p2, p3, row): the two outputs of each of 16 tiles from
// the column sums p0..p3 (bias in Z28): p0+p1+p2+b and p1-p2-p3+b,
// interleaved into 32 floats at row.
#define OUTROW(p0, p1, p2, p3, row) \
	VADDPS p1, p0, Z20 \
	VADDPS p2, Z20, Z20 \
	VADDPS Z28, Z20, Z20 \
	VSUBPS p2, p1, Z21 \
	VSUBPS p3, Z21, Z21 \
	VADDPS Z28, Z21, Z21 \
	VMOVAPS Z20, Z22 \
	VPERMT2PS Z21, Z26, Z20 \
	VPERMT2PS Z21, Z27, Z22 \
	VMOVUPS Z20, (row) \
	VMOVUPS Z22, 64(row)

// COLSUMS(off, s0, s1): for column off (0..3) of the 4x4 products, the
// rows of Aᵀ m: s0 = m[off]+m[4+off]+m[8+off], s1 = m[4+off]-m[8+off]-m[12+off].
// Planes 4..15 are read through R10 (plane 4), R11 (8), R12 (12).
#define COLSUMS(a, b, c, d, s0, s1) \
	VMOVUPS a, Z16 \
	VMOVUPS b, Z17 \
	VMOVUPS c, Z18 \
	VADDPS Z17, Z16, s0 \
	VADDPS Z18, s0, s0 \
	VSUBPS Z18, Z17, s1 \
	VSUBPS d, s1, s1

// func winoOutput16AVX512(m *float32, planeBytes int, y0, y1 *float32, bias float32, blocks int)
//
// Y = Aᵀ M A (+ bias) for a row of 2x2 tiles: m is tile 0's element of
// product plane 0, y0 and y1 the two output rows. Block b covers tiles
// 16b .. 16b+15, writing columns 32b .. 32b+31 of both rows.
TEXT ·winoOutput16AVX512(SB), NOSPLIT, $0-48
	MOVQ m+0(FP), DI
	MOVQ planeBytes+8(FP), DX
	MOVQ y0+16(FP), SI
	MOVQ y1+24(FP), R8
	VBROADCASTSS bias+32(FP), Z28
	MOVQ blocks+40(FP), CX
	PLANES
	VMOVUPS winozip<>+0(SB), Z26
	VMOVUPS winozip<>+64(SB), Z27
	TESTQ CX, CX
	JEQ   odone
oloop:
	COLSUMS((DI), (R10), (R11), (R12), Z0, Z4)
	COLSUMS((DI)(DX*1), (R10)(DX*1), (R11)(DX*1), (R12)(DX*1), Z1, Z5)
	COLSUMS((DI)(DX*2), (R10)(DX*2), (R11)(DX*2), (R12)(DX*2), Z2, Z6)
	COLSUMS((DI)(R9*1), (R10)(R9*1), (R11)(R9*1), (R12)(R9*1), Z3, Z7)
	OUTROW(Z0, Z1, Z2, Z3, SI)
	OUTROW(Z4, Z5, Z6, Z7, R8)
	NEXTPLANES
	ADDQ $128, SI
	ADDQ $128, R8
	DECQ CX
	JNE  oloop
odone:
	VZEROUPPER
	RET

// ---------------------------------------------------------------------------
// AVX2: the same three transforms in blocks of 8 tiles (the AVX-512
// kernels' contracts otherwise). Even and odd columns come out of a
// shuffle within 128-bit lanes and a permute of 64-bit pairs; the input
// transform's row pass is recomputed for each column run (it is elementwise,
// so each value is the same), which keeps a step within 16 registers.

// DEINT(lo, hi, e, o): e, o = the even and odd floats of the 16 in lo
// (first 8) and hi; e and o must differ from lo and hi.
#define DEINT(lo, hi, e, o) \
	VSHUFPS $0x88, hi, lo, e; \
	VSHUFPS $0xDD, hi, lo, o; \
	VPERMPD $0xD8, e, e;      \
	VPERMPD $0xD8, o, o

// TROW(op, x, y): Y0..Y3 = x op y on the columns 0-7, 8-15, 2-9 and 10-17
// of rows x and y (x - y for VSUBPS).
#define TROW(op, x, y) \
	VMOVUPS (x), Y0;       \
	op      (y), Y0, Y0;   \
	VMOVUPS 32(x), Y1;     \
	op      32(y), Y1, Y1; \
	VMOVUPS 8(x), Y2;      \
	op      8(y), Y2, Y2;  \
	VMOVUPS 40(x), Y3;     \
	op      40(y), Y3, Y3

// COLPASS8(base): the column half of one row pass (Y0..Y3 from TROW) into
// planes base+0..3: e-e2, o+e2, e2-o, o-o2.
#define COLPASS8(base) \
	DEINT(Y0, Y1, Y4, Y5);      \
	DEINT(Y2, Y3, Y6, Y7);      \
	VSUBPS  Y6, Y4, Y8;         \
	VADDPS  Y6, Y5, Y9;         \
	VSUBPS  Y5, Y6, Y10;        \
	VSUBPS  Y7, Y5, Y11;        \
	VMOVUPS Y8, (base);         \
	VMOVUPS Y9, (base)(DX*1);   \
	VMOVUPS Y10, (base)(DX*2);  \
	VMOVUPS Y11, (base)(R9*1)

#define NEXTPLANES8 \
	ADDQ $32, DI;  \
	ADDQ $32, R10; \
	ADDQ $32, R11; \
	ADDQ $32, R12

// func winoInput8AVX2(v *float32, planeBytes int, r0, r1, r2, r3 *float32, blocks int)
// winoInput16AVX512's contract, blocks of 8 tiles.
TEXT ·winoInput8AVX2(SB), NOSPLIT, $0-56
	MOVQ v+0(FP), DI
	MOVQ planeBytes+8(FP), DX
	MOVQ r0+16(FP), SI
	MOVQ r1+24(FP), R8
	MOVQ r2+32(FP), BX
	MOVQ r3+40(FP), AX
	MOVQ blocks+48(FP), CX
	PLANES
	TESTQ CX, CX
	JEQ   in8done
in8loop:
	TROW(VSUBPS, SI, BX) // r0 - r2
	COLPASS8(DI)
	TROW(VADDPS, R8, BX) // r1 + r2
	COLPASS8(R10)
	TROW(VSUBPS, BX, R8) // r2 - r1
	COLPASS8(R11)
	TROW(VSUBPS, R8, AX) // r1 - r3
	COLPASS8(R12)
	ADDQ $64, SI
	ADDQ $64, R8
	ADDQ $64, BX
	ADDQ $64, AX
	NEXTPLANES8
	DECQ CX
	JNE  in8loop
in8done:
	VZEROUPPER
	RET

// GRADROW8(a, b, base): one row (a, b) of A ȳ times Aᵀ into planes
// base+0..3: a, a+b, a-b, -b (Y15 = the sign bit).
#define GRADROW8(a, b, base) \
	VADDPS  b, a, Y12;          \
	VSUBPS  b, a, Y13;          \
	VXORPS  b, Y15, Y14;        \
	VMOVUPS a, (base);          \
	VMOVUPS Y12, (base)(DX*1);  \
	VMOVUPS Y13, (base)(DX*2);  \
	VMOVUPS Y14, (base)(R9*1)

// func winoGradOutput8AVX2(m *float32, planeBytes int, g0, g1 *float32, blocks int)
// winoGradOutput16AVX512's contract, blocks of 8 tiles.
TEXT ·winoGradOutput8AVX2(SB), NOSPLIT, $0-40
	MOVQ m+0(FP), DI
	MOVQ planeBytes+8(FP), DX
	MOVQ g0+16(FP), SI
	MOVQ g1+24(FP), R8
	MOVQ blocks+32(FP), CX
	PLANES
	VBROADCASTSS winoidx<>+128(SB), Y15
	TESTQ CX, CX
	JEQ   g8done
g8loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	DEINT(Y0, Y1, Y2, Y3) // g00, g01
	VMOVUPS (R8), Y0
	VMOVUPS 32(R8), Y1
	DEINT(Y0, Y1, Y4, Y5) // g10, g11
	VADDPS Y4, Y2, Y6     // g00+g10
	VADDPS Y5, Y3, Y7     // g01+g11
	VSUBPS Y4, Y2, Y8     // g00-g10
	VSUBPS Y5, Y3, Y9     // g01-g11
	VXORPS Y4, Y15, Y10   // -g10
	VXORPS Y5, Y15, Y11   // -g11
	GRADROW8(Y2, Y3, DI)
	GRADROW8(Y6, Y7, R10)
	GRADROW8(Y8, Y9, R11)
	GRADROW8(Y10, Y11, R12)
	ADDQ $64, SI
	ADDQ $64, R8
	NEXTPLANES8
	DECQ CX
	JNE  g8loop
g8done:
	VZEROUPPER
	RET

// COLSUMS8(a, b, c, d, s0, s1): s0 = a+b+c, s1 = b-c-d, for one column of
// the 4x4 products of 8 tiles.
#define COLSUMS8(a, b, c, d, s0, s1) \
	VMOVUPS a, s0;       \
	VADDPS  b, s0, s0;   \
	VADDPS  c, s0, s0;   \
	VMOVUPS b, s1;       \
	VSUBPS  c, s1, s1;   \
	VSUBPS  d, s1, s1

// OUTROW8(p0, p1, p2, p3, row): the two outputs of each of 8 tiles,
// p0+p1+p2+b and p1-p2-p3+b (bias in Y15), interleaved into 16 floats at row.
#define OUTROW8(p0, p1, p2, p3, row) \
	VADDPS     p1, p0, Y8;        \
	VADDPS     p2, Y8, Y8;        \
	VADDPS     Y15, Y8, Y8;       \
	VSUBPS     p2, p1, Y9;        \
	VSUBPS     p3, Y9, Y9;        \
	VADDPS     Y15, Y9, Y9;       \
	VUNPCKLPS  Y9, Y8, Y10;       \
	VUNPCKHPS  Y9, Y8, Y11;       \
	VPERM2F128 $0x20, Y11, Y10, Y12; \
	VPERM2F128 $0x31, Y11, Y10, Y13; \
	VMOVUPS    Y12, (row);        \
	VMOVUPS    Y13, 32(row)

// func winoOutput8AVX2(m *float32, planeBytes int, y0, y1 *float32, bias float32, blocks int)
// winoOutput16AVX512's contract, blocks of 8 tiles.
TEXT ·winoOutput8AVX2(SB), NOSPLIT, $0-48
	MOVQ m+0(FP), DI
	MOVQ planeBytes+8(FP), DX
	MOVQ y0+16(FP), SI
	MOVQ y1+24(FP), R8
	VBROADCASTSS bias+32(FP), Y15
	MOVQ blocks+40(FP), CX
	PLANES
	TESTQ CX, CX
	JEQ   o8done
o8loop:
	COLSUMS8((DI), (R10), (R11), (R12), Y0, Y4)
	COLSUMS8((DI)(DX*1), (R10)(DX*1), (R11)(DX*1), (R12)(DX*1), Y1, Y5)
	COLSUMS8((DI)(DX*2), (R10)(DX*2), (R11)(DX*2), (R12)(DX*2), Y2, Y6)
	COLSUMS8((DI)(R9*1), (R10)(R9*1), (R11)(R9*1), (R12)(R9*1), Y3, Y7)
	OUTROW8(Y0, Y1, Y2, Y3, SI)
	OUTROW8(Y4, Y5, Y6, Y7, R8)
	NEXTPLANES8
	ADDQ $64, SI
	ADDQ $64, R8
	DECQ CX
	JNE  o8loop
o8done:
	VZEROUPPER
	RET
