//go:build amd64

#include "textflag.h"

// SGEMM micro-kernels. Both compute one register tile
//	C = alpha * Apanel @ Bpanel + beta * C   (beta == 0: C is not read)
// from packed panels: per step of k, MR values of A (one per row, broadcast)
// and NR values of B (loaded as vectors). Each row of the tile is a few
// vector accumulators, so every FMA of one step is independent.

// ---------------------------------------------------------------------------
// AVX-512: 14x32 tile. Row r lives in Z(2r) (columns 0-15) and Z(2r+1)
// (columns 16-31): 28 accumulators, B in Z28/Z29, broadcasts alternate in
// Z30/Z31 so consecutive rows do not wait on one register.

#define ROW512(aoff, bc, lo, hi) \
	VBROADCASTSS aoff(AX), bc; \
	VFMADD231PS  Z28, bc, lo;  \
	VFMADD231PS  Z29, bc, hi

// Z30 = alpha, Z31 = beta, DI = row of C, SI = ldc in bytes.
#define STORE512(lo, hi) \
	VMULPS  Z30, lo, lo;    \
	VMULPS  Z30, hi, hi;    \
	VMOVUPS lo, (DI);       \
	VMOVUPS hi, 64(DI);     \
	ADDQ    SI, DI

#define STORE512BETA(lo, hi) \
	VMULPS      Z30, lo, lo;     \
	VMULPS      Z30, hi, hi;     \
	VFMADD231PS (DI), Z31, lo;   \
	VFMADD231PS 64(DI), Z31, hi; \
	VMOVUPS     lo, (DI);        \
	VMOVUPS     hi, 64(DI);      \
	ADDQ        SI, DI

// TILEPROLOGUE loads the full tiles' arguments with B's rows ldb apart
// (kc, a, b, c, ldc, ldb): CX = kc, AX = a, BX = b, DI = c, SI = ldc in
// bytes, R8 = ldb in bytes.
#define TILEPROLOGUE \
	MOVQ kc+0(FP), CX;   \
	MOVQ a+8(FP), AX;    \
	MOVQ b+16(FP), BX;   \
	MOVQ c+24(FP), DI;   \
	MOVQ ldc+32(FP), SI; \
	SHLQ $2, SI;         \
	MOVQ ldb+40(FP), R8; \
	SHLQ $2, R8

// TILEPROLOGUER loads the full tiles' arguments with B's rows from an
// offset table (kc, a, b, rows, c, ldc): CX = kc, AX = a, BX = b, R8 = rows,
// DI = c, SI = ldc in bytes.
#define TILEPROLOGUER \
	MOVQ kc+0(FP), CX;    \
	MOVQ a+8(FP), AX;     \
	MOVQ b+16(FP), BX;    \
	MOVQ rows+24(FP), R8; \
	MOVQ c+32(FP), DI;    \
	MOVQ ldc+40(FP), SI;  \
	SHLQ $2, SI

// EDGEPROLOGUE loads the edge tiles' arguments (kc, a, lda, b, c, ldc, ldb):
// CX = kc, AX = a, R9 = lda in bytes, BX = b, DI = c, SI = ldc in bytes,
// R8 = ldb in bytes.
#define EDGEPROLOGUE \
	MOVQ kc+0(FP), CX;     \
	MOVQ a+8(FP), AX;      \
	MOVQ lda+16(FP), R9;   \
	SHLQ $2, R9;           \
	MOVQ b+24(FP), BX;     \
	MOVQ c+32(FP), DI;     \
	MOVQ ldc+40(FP), SI;   \
	SHLQ $2, SI;           \
	MOVQ ldb+48(FP), R8;   \
	SHLQ $2, R8

// The edge tiles with B's rows from an offset table (the 14x32 BRows
// tile's B): arguments (kc, a, lda, b, rows, c, ldc, alpha, beta); CX = kc,
// AX = a, R9 = lda in bytes, BX = b, R8 = rows, DI = c, SI = ldc in bytes.
#define EDGEPROLOGUER \
	MOVQ kc+0(FP), CX;     \
	MOVQ a+8(FP), AX;      \
	MOVQ lda+16(FP), R9;   \
	SHLQ $2, R9;           \
	MOVQ b+24(FP), BX;     \
	MOVQ rows+32(FP), R8;  \
	MOVQ c+40(FP), DI;     \
	MOVQ ldc+48(FP), SI;   \
	SHLQ $2, SI

// EDGESCALE broadcasts alpha and beta (an edge tile's last arguments) into
// ra and rb and jumps to nobeta when beta is ±0 (C is then not read).
#define EDGESCALE(ra, rb, nobeta) \
	VBROADCASTSS alpha+56(FP), ra; \
	VBROADCASTSS beta+60(FP), rb;  \
	MOVL         beta+60(FP), DX;  \
	TESTL        $0x7fffffff, DX;  \
	JEQ          nobeta

// PAIRSTORE ends the AVX2 pair tiles (sgemm_amd64.s's last section; alpha
// and beta at +64 and +68): alpha and beta applied to rows Y0-Y7 and
// stored, C read only when beta is not ±0. Defined before any function, as
// every macro here that names the frame, so vet reads it with its users.
#define PAIRSTORE(nobeta) \
	VBROADCASTSS alpha+64(FP), Y14; \
	VBROADCASTSS beta+68(FP), Y15;  \
	MOVL         beta+68(FP), DX;   \
	TESTL        $0x7fffffff, DX;   \
	JEQ          nobeta;            \
	STORE2X16BETA(Y0, Y1, Y2, Y3);  \
	STORE2X16BETA(Y4, Y5, Y6, Y7);  \
	VZEROUPPER;                     \
	RET

// Two rows of an AVX2 edge tile (registers a..d): zeroing and the stores.
#define ZERO2X16(a, b, c, d) \
	VXORPS a, a, a; \
	VXORPS b, b, b; \
	VXORPS c, c, c; \
	VXORPS d, d, d

#define STORE2X16(a, b, c, d) \
	STORE256(a, b); \
	STORE256(c, d)

#define STORE2X16BETA(a, b, c, d) \
	STORE256BETA(a, b); \
	STORE256BETA(c, d)

// EDGESTORE4X16 and EDGESTORE2X16 end the AVX2 edge tiles as EDGESTORE8X32
// ends the AVX-512 ones: alpha and beta applied to the rows in Y0-Y7 (Y0-Y3)
// and stored, or, when beta is ±0, a jump to nobeta, where the ...NOBETA
// forms store without reading C.
#define EDGESTORE4X16(nobeta) \
	EDGESCALE(Y14, Y15, nobeta);   \
	STORE2X16BETA(Y0, Y1, Y2, Y3); \
	STORE2X16BETA(Y4, Y5, Y6, Y7); \
	VZEROUPPER;                    \
	RET

#define EDGESTORE4X16NOBETA \
	STORE2X16(Y0, Y1, Y2, Y3); \
	STORE2X16(Y4, Y5, Y6, Y7); \
	VZEROUPPER;                \
	RET

#define EDGESTORE2X16(nobeta) \
	EDGESCALE(Y14, Y15, nobeta);   \
	STORE2X16BETA(Y0, Y1, Y2, Y3); \
	VZEROUPPER;                    \
	RET

#define EDGESTORE2X16NOBETA \
	STORE2X16(Y0, Y1, Y2, Y3); \
	VZEROUPPER;                \
	RET

// TILESTORE6X16 and TILESTORE6X16NOBETA end the 6x16 tiles (alpha and beta
// at alpha+48 and beta+52), as EDGESTORE4X16 the edge tiles.
#define TILESTORE6X16(nobeta) \
	VBROADCASTSS alpha+48(FP), Y14;   \
	VBROADCASTSS beta+52(FP), Y15;    \
	MOVL         beta+52(FP), DX;     \
	TESTL        $0x7fffffff, DX;     \
	JEQ          nobeta;              \
	STORE2X16BETA(Y0, Y1, Y2, Y3);    \
	STORE2X16BETA(Y4, Y5, Y6, Y7);    \
	STORE2X16BETA(Y8, Y9, Y10, Y11);  \
	VZEROUPPER;                       \
	RET

#define TILESTORE6X16NOBETA \
	STORE2X16(Y0, Y1, Y2, Y3);   \
	STORE2X16(Y4, Y5, Y6, Y7);   \
	STORE2X16(Y8, Y9, Y10, Y11); \
	VZEROUPPER;                  \
	RET

// Four rows of an AVX-512 edge tile (registers a..h, two per row): one step
// of k from A at aoff(AX), zeroing, and the stores.
#define ROWS4X32(aoff, a, b, c, d, e, f, g, h) \
	ROW512(aoff+0, Z30, a, b);  \
	ROW512(aoff+4, Z31, c, d);  \
	ROW512(aoff+8, Z30, e, f);  \
	ROW512(aoff+12, Z31, g, h)

#define ZERO4X32(a, b, c, d, e, f, g, h) \
	VPXORD a, a, a; \
	VPXORD b, b, b; \
	VPXORD c, c, c; \
	VPXORD d, d, d; \
	VPXORD e, e, e; \
	VPXORD f, f, f; \
	VPXORD g, g, g; \
	VPXORD h, h, h

#define STORE4X32(a, b, c, d, e, f, g, h) \
	STORE512(a, b); \
	STORE512(c, d); \
	STORE512(e, f); \
	STORE512(g, h)

#define STORE4X32BETA(a, b, c, d, e, f, g, h) \
	STORE512BETA(a, b); \
	STORE512BETA(c, d); \
	STORE512BETA(e, f); \
	STORE512BETA(g, h)

// EDGESTORE8X32 and EDGESTORE4X32 end the AVX-512 edge tiles: alpha and
// beta applied to the rows in Z0-Z15 (Z0-Z7) and stored, or, when beta is
// ±0, a jump to nobeta, where the ...NOBETA forms store without reading C.
#define EDGESTORE8X32(nobeta) \
	EDGESCALE(Z30, Z31, nobeta);                         \
	STORE4X32BETA(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7);       \
	STORE4X32BETA(Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15); \
	VZEROUPPER;                                          \
	RET

#define EDGESTORE8X32NOBETA \
	STORE4X32(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7);       \
	STORE4X32(Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15); \
	VZEROUPPER;                                      \
	RET

#define EDGESTORE4X32(nobeta) \
	EDGESCALE(Z30, Z31, nobeta);                   \
	STORE4X32BETA(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7); \
	VZEROUPPER;                                    \
	RET

#define EDGESTORE4X32NOBETA \
	STORE4X32(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7); \
	VZEROUPPER;                                \
	RET

// The 14 rows of one step of k: A values broadcast from aoff(AX), B in Z28/Z29.
#define ROWS14X32(aoff) \
	ROW512(aoff+0, Z30, Z0, Z1);     \
	ROW512(aoff+4, Z31, Z2, Z3);     \
	ROW512(aoff+8, Z30, Z4, Z5);     \
	ROW512(aoff+12, Z31, Z6, Z7);    \
	ROW512(aoff+16, Z30, Z8, Z9);    \
	ROW512(aoff+20, Z31, Z10, Z11);  \
	ROW512(aoff+24, Z30, Z12, Z13);  \
	ROW512(aoff+28, Z31, Z14, Z15);  \
	ROW512(aoff+32, Z30, Z16, Z17);  \
	ROW512(aoff+36, Z31, Z18, Z19);  \
	ROW512(aoff+40, Z30, Z20, Z21);  \
	ROW512(aoff+44, Z31, Z22, Z23);  \
	ROW512(aoff+48, Z30, Z24, Z25);  \
	ROW512(aoff+52, Z31, Z26, Z27)

// One step of k: B's 32 values at BX (then BX += R8 = ldb in bytes), 14 A
// values broadcast from aoff(AX).
#define KSTEP512S(aoff) \
	VMOVUPS (BX), Z28;   \
	VMOVUPS 64(BX), Z29; \
	ROWS14X32(aoff);     \
	ADDQ    R8, BX

// PREFETCH14 touches the 14 rows of the C tile at DI (SI = ldc in bytes)
// so their lines arrive while the loop runs; clobbers DX.
#define PREFETCHROW \
	PREFETCHT0 (DX);   \
	PREFETCHT0 64(DX); \
	ADDQ       SI, DX

#define PREFETCH14 \
	MOVQ DI, DX; \
	PREFETCHROW; \
	PREFETCHROW; \
	PREFETCHROW; \
	PREFETCHROW; \
	PREFETCHROW; \
	PREFETCHROW; \
	PREFETCHROW; \
	PREFETCHROW; \
	PREFETCHROW; \
	PREFETCHROW; \
	PREFETCHROW; \
	PREFETCHROW; \
	PREFETCHROW; \
	PREFETCHROW

// ZERO28 clears the 14x32 tile's accumulators.
#define ZERO28 \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
	VPXORD Z2, Z2, Z2; \
	VPXORD Z3, Z3, Z3; \
	VPXORD Z4, Z4, Z4; \
	VPXORD Z5, Z5, Z5; \
	VPXORD Z6, Z6, Z6; \
	VPXORD Z7, Z7, Z7; \
	VPXORD Z8, Z8, Z8; \
	VPXORD Z9, Z9, Z9; \
	VPXORD Z10, Z10, Z10; \
	VPXORD Z11, Z11, Z11; \
	VPXORD Z12, Z12, Z12; \
	VPXORD Z13, Z13, Z13; \
	VPXORD Z14, Z14, Z14; \
	VPXORD Z15, Z15, Z15; \
	VPXORD Z16, Z16, Z16; \
	VPXORD Z17, Z17, Z17; \
	VPXORD Z18, Z18, Z18; \
	VPXORD Z19, Z19, Z19; \
	VPXORD Z20, Z20, Z20; \
	VPXORD Z21, Z21, Z21; \
	VPXORD Z22, Z22, Z22; \
	VPXORD Z23, Z23, Z23; \
	VPXORD Z24, Z24, Z24; \
	VPXORD Z25, Z25, Z25; \
	VPXORD Z26, Z26, Z26; \
	VPXORD Z27, Z27, Z27

// STORE14X32 and STORE14X32BETA write the 14x32 tile (Z30 = alpha, Z31 = beta).
#define STORE14X32 \
	STORE512(Z0, Z1); \
	STORE512(Z2, Z3); \
	STORE512(Z4, Z5); \
	STORE512(Z6, Z7); \
	STORE512(Z8, Z9); \
	STORE512(Z10, Z11); \
	STORE512(Z12, Z13); \
	STORE512(Z14, Z15); \
	STORE512(Z16, Z17); \
	STORE512(Z18, Z19); \
	STORE512(Z20, Z21); \
	STORE512(Z22, Z23); \
	STORE512(Z24, Z25); \
	STORE512(Z26, Z27)

#define STORE14X32BETA \
	STORE512BETA(Z0, Z1); \
	STORE512BETA(Z2, Z3); \
	STORE512BETA(Z4, Z5); \
	STORE512BETA(Z6, Z7); \
	STORE512BETA(Z8, Z9); \
	STORE512BETA(Z10, Z11); \
	STORE512BETA(Z12, Z13); \
	STORE512BETA(Z14, Z15); \
	STORE512BETA(Z16, Z17); \
	STORE512BETA(Z18, Z19); \
	STORE512BETA(Z20, Z21); \
	STORE512BETA(Z22, Z23); \
	STORE512BETA(Z24, Z25); \
	STORE512BETA(Z26, Z27)

// func sgemmTile14x32BStrideAVX512(kc int, a, b, c *float32, ldc, ldb int, alpha, beta float32)
// Row p of the 32-column B micro-panel is at b + p*ldb: ldb = 32 for a packed
// panel, the row stride of B for row-major B read in place (no packing).
TEXT ·sgemmTile14x32BStrideAVX512(SB), NOSPLIT, $0-56
	TILEPROLOGUE

	PREFETCH14
	ZERO28

	CMPQ CX, $4
	JLT  tail512s

loop512s:
	// A panel steps are 14*4 = 56 bytes, B steps 32*4 = 128 bytes.
	KSTEP512S(0)
	KSTEP512S(56)
	KSTEP512S(112)
	KSTEP512S(168)
	ADDQ $224, AX
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  loop512s

tail512s:
	TESTQ CX, CX
	JEQ   done512s

loop512ones:
	KSTEP512S(0)
	ADDQ $56, AX
	DECQ CX
	JNE  loop512ones

done512s:
	VBROADCASTSS alpha+48(FP), Z30
	VBROADCASTSS beta+52(FP), Z31
	MOVL         beta+52(FP), DX
	TESTL        $0x7fffffff, DX    // +0 and -0 both mean "do not read C"
	JEQ          nobeta512s

	STORE14X32BETA
	VZEROUPPER
	RET

nobeta512s:
	STORE14X32
	VZEROUPPER
	RET

// One step of k with B's row from the offset table at R8 (floats from BX).
#define KSTEP512R(aoff) \
	MOVQ    (R8), R10;           \
	VMOVUPS (BX)(R10*4), Z28;    \
	VMOVUPS 64(BX)(R10*4), Z29;  \
	ROWS14X32(aoff);             \
	ADDQ    $8, R8

// func sgemmTile14x32BRowsAVX512(kc int, a, b *float32, rows *int, c *float32, ldc int, alpha, beta float32)
// Row p of the 32-column B micro-panel is at b + rows[p] floats: a
// convolution's taps read in place from its padded input (gemmBatchedRows).
TEXT ·sgemmTile14x32BRowsAVX512(SB), NOSPLIT, $0-56
	TILEPROLOGUER
	PREFETCH14
	ZERO28

	CMPQ CX, $4
	JLT  tail512r

loop512r:
	KSTEP512R(0)
	KSTEP512R(56)
	KSTEP512R(112)
	KSTEP512R(168)
	ADDQ $224, AX
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  loop512r

tail512r:
	TESTQ CX, CX
	JEQ   done512r

loop512rone:
	KSTEP512R(0)
	ADDQ $56, AX
	DECQ CX
	JNE  loop512rone

done512r:
	VBROADCASTSS alpha+48(FP), Z30
	VBROADCASTSS beta+52(FP), Z31
	MOVL         beta+52(FP), DX
	TESTL        $0x7fffffff, DX
	JEQ          nobeta512r
	STORE14X32BETA
	VZEROUPPER
	RET

nobeta512r:
	STORE14X32
	VZEROUPPER
	RET

// ---------------------------------------------------------------------------
// AVX2+FMA: 6x16 tile. Row r lives in Y(2r) and Y(2r+1): 12 accumulators,
// B in Y12/Y13, broadcasts alternate in Y14/Y15.

#define ROW256(aoff, bc, lo, hi) \
	VBROADCASTSS aoff(AX), bc; \
	VFMADD231PS  Y12, bc, lo;  \
	VFMADD231PS  Y13, bc, hi

// Y14 = alpha, Y15 = beta, DI = row of C, SI = ldc in bytes.
#define STORE256(lo, hi) \
	VMULPS  Y14, lo, lo;    \
	VMULPS  Y14, hi, hi;    \
	VMOVUPS lo, (DI);       \
	VMOVUPS hi, 32(DI);     \
	ADDQ    SI, DI

#define STORE256BETA(lo, hi) \
	VMULPS      Y14, lo, lo;     \
	VMULPS      Y14, hi, hi;     \
	VFMADD231PS (DI), Y15, lo;   \
	VFMADD231PS 32(DI), Y15, hi; \
	VMOVUPS     lo, (DI);        \
	VMOVUPS     hi, 32(DI);      \
	ADDQ        SI, DI

// ---------------------------------------------------------------------------
// AVX-512 edge tile: 8x32, for the last rows of a product whose row count
// leaves at most 8 over a multiple of 14 (512 = 36·14 + 8, 1024 = 73·14 + 2:
// the 14-row tile would compute 14 rows for 8 or for 2). Row r of A is at
// a + r*4 + p*lda*4 (lda = 14 in a packed 14-row panel), B as in the 14x32
// tile. Rows in Z0-Z15, B in Z28/Z29.
#define KSTEP8X32 \
	VMOVUPS (BX), Z28;                                  \
	VMOVUPS 64(BX), Z29;                                \
	ROWS4X32(0, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7);        \
	ROWS4X32(16, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15); \
	ADDQ    R8, BX;                                     \
	ADDQ    R9, AX

// func sgemmTile8x32AVX512(kc int, a *float32, lda int, b, c *float32, ldc, ldb int, alpha, beta float32)
TEXT ·sgemmTile8x32AVX512(SB), NOSPLIT, $0-64
	EDGEPROLOGUE
	ZERO4X32(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7)
	ZERO4X32(Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15)

	CMPQ CX, $2
	JLT  tail8x32

loop8x32:
	KSTEP8X32
	KSTEP8X32
	SUBQ $2, CX
	CMPQ CX, $2
	JGE  loop8x32

tail8x32:
	TESTQ CX, CX
	JEQ   done8x32
	KSTEP8X32

done8x32:
	EDGESTORE8X32(nobeta8x32)

nobeta8x32:
	EDGESTORE8X32NOBETA

// ---------------------------------------------------------------------------
// AVX-512 edge tile: 4x32, for products that leave at most 4 rows over a
// multiple of 14 (32 = 2·14 + 4, the demo's channel count: the 8-row tile
// would compute 8 rows for 4). Same contract as the 8x32 tile; rows in Z0-Z7.
#define KSTEP4X32 \
	VMOVUPS (BX), Z28;                           \
	VMOVUPS 64(BX), Z29;                         \
	ROWS4X32(0, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7); \
	ADDQ    R8, BX;                              \
	ADDQ    R9, AX

// func sgemmTile4x32AVX512(kc int, a *float32, lda int, b, c *float32, ldc, ldb int, alpha, beta float32)
TEXT ·sgemmTile4x32AVX512(SB), NOSPLIT, $0-64
	EDGEPROLOGUE
	ZERO4X32(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7)

	CMPQ CX, $4
	JLT  tail4x32

loop4x32:
	KSTEP4X32
	KSTEP4X32
	KSTEP4X32
	KSTEP4X32
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  loop4x32

tail4x32:
	TESTQ CX, CX
	JEQ   done4x32
	KSTEP4X32
	DECQ  CX
	JMP   tail4x32

done4x32:
	EDGESTORE4X32(nobeta4x32)

nobeta4x32:
	EDGESTORE4X32NOBETA

// BROW512R loads B's row for one step of k from the offset table at R8
// (floats from BX) into Z28/Z29 and steps the table.
#define BROW512R \
	MOVQ    (R8), R10;          \
	VMOVUPS (BX)(R10*4), Z28;   \
	VMOVUPS 64(BX)(R10*4), Z29; \
	ADDQ    $8, R8

#define KSTEP8X32R \
	BROW512R;                                           \
	ROWS4X32(0, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7);        \
	ROWS4X32(16, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15); \
	ADDQ    R9, AX

#define KSTEP4X32R \
	BROW512R;                                    \
	ROWS4X32(0, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7); \
	ADDQ    R9, AX

// func sgemmTile8x32BRowsAVX512(kc int, a *float32, lda int, b *float32, rows *int, c *float32, ldc int, alpha, beta float32)
TEXT ·sgemmTile8x32BRowsAVX512(SB), NOSPLIT, $0-64
	EDGEPROLOGUER
	ZERO4X32(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7)
	ZERO4X32(Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15)
	TESTQ CX, CX
	JEQ   done8x32r

loop8x32r:
	KSTEP8X32R
	DECQ CX
	JNE  loop8x32r

done8x32r:
	EDGESTORE8X32(nobeta8x32r)

nobeta8x32r:
	EDGESTORE8X32NOBETA

// func sgemmTile4x32BRowsAVX512(kc int, a *float32, lda int, b *float32, rows *int, c *float32, ldc int, alpha, beta float32)
TEXT ·sgemmTile4x32BRowsAVX512(SB), NOSPLIT, $0-64
	EDGEPROLOGUER
	ZERO4X32(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7)
	TESTQ CX, CX
	JEQ   done4x32r

loop4x32r:
	KSTEP4X32R
	DECQ CX
	JNE  loop4x32r

done4x32r:
	EDGESTORE4X32(nobeta4x32r)

nobeta4x32r:
	EDGESTORE4X32NOBETA

// ---------------------------------------------------------------------------
// AVX2+FMA edge tiles: 4x16 and 2x16, for products that leave 4 or 2 rows
// over a multiple of 6 (32 = 5·6 + 2, 64 = 10·6 + 4: the 6-row tile would
// compute 6). The 8x32 edge tile's contract: row r of A at a + r*4 +
// p*lda*4, B rows ldb apart (16 in a packed panel). Accumulators and stores
// as the 6x16 tile's, so each element gets that tile's bits.
#define KSTEP4X16 \
	VMOVUPS (BX), Y12;           \
	VMOVUPS 32(BX), Y13;         \
	ROW256(0, Y14, Y0, Y1);      \
	ROW256(4, Y15, Y2, Y3);      \
	ROW256(8, Y14, Y4, Y5);      \
	ROW256(12, Y15, Y6, Y7);     \
	ADDQ    R8, BX;              \
	ADDQ    R9, AX

#define KSTEP2X16 \
	VMOVUPS (BX), Y12;           \
	VMOVUPS 32(BX), Y13;         \
	ROW256(0, Y14, Y0, Y1);      \
	ROW256(4, Y15, Y2, Y3);      \
	ADDQ    R8, BX;              \
	ADDQ    R9, AX

// func sgemmTile4x16AVX2(kc int, a *float32, lda int, b, c *float32, ldc, ldb int, alpha, beta float32)
TEXT ·sgemmTile4x16AVX2(SB), NOSPLIT, $0-64
	EDGEPROLOGUE
	ZERO2X16(Y0, Y1, Y2, Y3)
	ZERO2X16(Y4, Y5, Y6, Y7)
	TESTQ  CX, CX
	JEQ    done4x16

loop4x16:
	KSTEP4X16
	DECQ CX
	JNE  loop4x16

done4x16:
	EDGESTORE4X16(nobeta4x16)

nobeta4x16:
	EDGESTORE4X16NOBETA

// func sgemmTile2x16AVX2(kc int, a *float32, lda int, b, c *float32, ldc, ldb int, alpha, beta float32)
TEXT ·sgemmTile2x16AVX2(SB), NOSPLIT, $0-64
	EDGEPROLOGUE
	ZERO2X16(Y0, Y1, Y2, Y3)
	TESTQ  CX, CX
	JEQ    done2x16

loop2x16:
	KSTEP2X16
	DECQ CX
	JNE  loop2x16

done2x16:
	EDGESTORE2X16(nobeta2x16)

nobeta2x16:
	EDGESTORE2X16NOBETA

// ---------------------------------------------------------------------------
// AVX2+FMA tiles that read B in place: the 6x16 tile with B's rows ldb apart
// (row-major B, not packed) or through a row offset table (a convolution's
// taps in its padded input), and the 4x16 and 2x16 edge tiles through the
// table. Each step of k does what the packed tiles' does, in the same order,
// so every element gets their bits.

// KSTEP256S: one step of k, B's 16 values at BX (then BX += R8 = ldb in
// bytes), 6 A values broadcast from aoff(AX).
#define KSTEP256S(aoff) \
	VMOVUPS (BX), Y12;              \
	VMOVUPS 32(BX), Y13;            \
	ROW256(aoff+0, Y14, Y0, Y1);    \
	ROW256(aoff+4, Y15, Y2, Y3);    \
	ROW256(aoff+8, Y14, Y4, Y5);    \
	ROW256(aoff+12, Y15, Y6, Y7);   \
	ROW256(aoff+16, Y14, Y8, Y9);   \
	ROW256(aoff+20, Y15, Y10, Y11); \
	ADDQ    R8, BX

// BROW256R loads B's row for one step of k from the offset table at R8
// (floats from BX) into Y12/Y13 and steps the table.
#define BROW256R \
	MOVQ    (R8), R10;          \
	VMOVUPS (BX)(R10*4), Y12;   \
	VMOVUPS 32(BX)(R10*4), Y13; \
	ADDQ    $8, R8

#define KSTEP256R(aoff) \
	BROW256R;                       \
	ROW256(aoff+0, Y14, Y0, Y1);    \
	ROW256(aoff+4, Y15, Y2, Y3);    \
	ROW256(aoff+8, Y14, Y4, Y5);    \
	ROW256(aoff+12, Y15, Y6, Y7);   \
	ROW256(aoff+16, Y14, Y8, Y9);   \
	ROW256(aoff+20, Y15, Y10, Y11)

// PREFETCH6 touches the 6 rows of the C tile at DI (SI = ldc in bytes);
// clobbers DX.
#define PREFETCHROW256 \
	PREFETCHT0 (DX);   \
	PREFETCHT0 63(DX); \
	ADDQ       SI, DX

#define PREFETCH6 \
	MOVQ DI, DX;    \
	PREFETCHROW256; \
	PREFETCHROW256; \
	PREFETCHROW256; \
	PREFETCHROW256; \
	PREFETCHROW256; \
	PREFETCHROW256

#define ZERO12 \
	ZERO2X16(Y0, Y1, Y2, Y3); \
	ZERO2X16(Y4, Y5, Y6, Y7); \
	ZERO2X16(Y8, Y9, Y10, Y11)

// func sgemmTile6x16BStrideAVX2(kc int, a, b, c *float32, ldc, ldb int, alpha, beta float32)
// Row p of the 16-column B micro-panel is at b + p*ldb: ldb = 16 for a packed
// panel, B's row stride for row-major B read in place.
TEXT ·sgemmTile6x16BStrideAVX2(SB), NOSPLIT, $0-56
	TILEPROLOGUE
	PREFETCH6
	ZERO12

	CMPQ CX, $4
	JLT  tail256s

loop256s:
	KSTEP256S(0)
	KSTEP256S(24)
	KSTEP256S(48)
	KSTEP256S(72)
	ADDQ $96, AX
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  loop256s

tail256s:
	TESTQ CX, CX
	JEQ   done256s

loop256sone:
	KSTEP256S(0)
	ADDQ $24, AX
	DECQ CX
	JNE  loop256sone

done256s:
	TILESTORE6X16(nobeta256s)

nobeta256s:
	TILESTORE6X16NOBETA

// func sgemmTile6x16BRowsAVX2(kc int, a, b *float32, rows *int, c *float32, ldc int, alpha, beta float32)
// Row p of the 16-column B micro-panel is at b + rows[p] floats.
TEXT ·sgemmTile6x16BRowsAVX2(SB), NOSPLIT, $0-56
	TILEPROLOGUER
	PREFETCH6
	ZERO12

	CMPQ CX, $4
	JLT  tail256r

loop256r:
	KSTEP256R(0)
	KSTEP256R(24)
	KSTEP256R(48)
	KSTEP256R(72)
	ADDQ $96, AX
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  loop256r

tail256r:
	TESTQ CX, CX
	JEQ   done256r

loop256rone:
	KSTEP256R(0)
	ADDQ $24, AX
	DECQ CX
	JNE  loop256rone

done256r:
	TILESTORE6X16(nobeta256r)

nobeta256r:
	TILESTORE6X16NOBETA

#define KSTEP4X16R \
	BROW256R;                    \
	ROW256(0, Y14, Y0, Y1);      \
	ROW256(4, Y15, Y2, Y3);      \
	ROW256(8, Y14, Y4, Y5);      \
	ROW256(12, Y15, Y6, Y7);     \
	ADDQ    R9, AX

#define KSTEP2X16R \
	BROW256R;                    \
	ROW256(0, Y14, Y0, Y1);      \
	ROW256(4, Y15, Y2, Y3);      \
	ADDQ    R9, AX

// func sgemmTile4x16BRowsAVX2(kc int, a *float32, lda int, b *float32, rows *int, c *float32, ldc int, alpha, beta float32)
TEXT ·sgemmTile4x16BRowsAVX2(SB), NOSPLIT, $0-64
	EDGEPROLOGUER
	ZERO2X16(Y0, Y1, Y2, Y3)
	ZERO2X16(Y4, Y5, Y6, Y7)
	TESTQ CX, CX
	JEQ   done4x16r

loop4x16r:
	KSTEP4X16R
	DECQ CX
	JNE  loop4x16r

done4x16r:
	EDGESTORE4X16(nobeta4x16r)

nobeta4x16r:
	EDGESTORE4X16NOBETA

// func sgemmTile2x16BRowsAVX2(kc int, a *float32, lda int, b *float32, rows *int, c *float32, ldc int, alpha, beta float32)
TEXT ·sgemmTile2x16BRowsAVX2(SB), NOSPLIT, $0-64
	EDGEPROLOGUER
	ZERO2X16(Y0, Y1, Y2, Y3)
	TESTQ CX, CX
	JEQ   done2x16r

loop2x16r:
	KSTEP2X16R
	DECQ CX
	JNE  loop2x16r

done2x16r:
	EDGESTORE2X16(nobeta2x16r)

nobeta2x16r:
	EDGESTORE2X16NOBETA

// ---------------------------------------------------------------------------
// AVX2+FMA pair tiles: 4x16 with rows 0-1 from one A panel (AX) and rows 2-3
// from another (R11), both lda apart per step of k. A product that leaves
// one or two rows over a multiple of 6 (32 = 5·6 + 2) ends with a full
// panel and a short one: as 4 + (2 + 2) rows its last two tiles keep eight
// accumulators each, where the 2x16 edge tile's four wait on the FMA
// latency (it runs at half the 4x16 tile's rate). Accumulation and stores
// as the other AVX2 tiles', so each element keeps their bits.

#define ROW256AT(base, aoff, bc, lo, hi) \
	VBROADCASTSS aoff(base), bc; \
	VFMADD231PS  Y12, bc, lo;    \
	VFMADD231PS  Y13, bc, hi

#define PAIRROWS \
	ROW256(0, Y14, Y0, Y1);          \
	ROW256(4, Y15, Y2, Y3);          \
	ROW256AT(R11, 0, Y14, Y4, Y5);   \
	ROW256AT(R11, 4, Y15, Y6, Y7);   \
	ADDQ R9, AX;                     \
	ADDQ R9, R11

// func sgemmTilePair2x16AVX2(kc int, a *float32, lda int, a2, b, c *float32, ldc, ldb int, alpha, beta float32)
TEXT ·sgemmTilePair2x16AVX2(SB), NOSPLIT, $0-72
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ lda+16(FP), R9
	SHLQ $2, R9
	MOVQ a2+24(FP), R11
	MOVQ b+32(FP), BX
	MOVQ c+40(FP), DI
	MOVQ ldc+48(FP), SI
	SHLQ $2, SI
	MOVQ ldb+56(FP), R8
	SHLQ $2, R8
	ZERO2X16(Y0, Y1, Y2, Y3)
	ZERO2X16(Y4, Y5, Y6, Y7)
	TESTQ CX, CX
	JEQ   donepair

looppair:
	VMOVUPS (BX), Y12
	VMOVUPS 32(BX), Y13
	PAIRROWS
	ADDQ    R8, BX
	DECQ    CX
	JNE     looppair

donepair:
	PAIRSTORE(nobetapair)

nobetapair:
	EDGESTORE4X16NOBETA

// func sgemmTilePair2x16BRowsAVX2(kc int, a *float32, lda int, a2, b *float32, rows *int, c *float32, ldc int, alpha, beta float32)
TEXT ·sgemmTilePair2x16BRowsAVX2(SB), NOSPLIT, $0-72
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ lda+16(FP), R9
	SHLQ $2, R9
	MOVQ a2+24(FP), R11
	MOVQ b+32(FP), BX
	MOVQ rows+40(FP), R8
	MOVQ c+48(FP), DI
	MOVQ ldc+56(FP), SI
	SHLQ $2, SI
	ZERO2X16(Y0, Y1, Y2, Y3)
	ZERO2X16(Y4, Y5, Y6, Y7)
	TESTQ CX, CX
	JEQ   donepairr

looppairr:
	BROW256R
	PAIRROWS
	DECQ CX
	JNE  looppairr

donepairr:
	PAIRSTORE(nobetapairr)

nobetapairr:
	EDGESTORE4X16NOBETA
