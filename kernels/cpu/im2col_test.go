package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// im2colNaive and col2imNaive are the definitions, one element at a time:
// col[(c,ky,kx), oy, ox] = x[c, oy*SH - PH + ky*DH, ox*SW - PW + kx*DW], zero
// outside x; col2im adds each entry back, taps in Im2col's row order.
func im2colNaive(g ConvGeom, x []float32, xOff int, col []float32) {
	eachColEntry(g, xOff, func(ci, xi int) {
		col[ci] = 0
		if xi >= 0 {
			col[ci] = x[xi]
		}
	})
}

func col2imNaive(g ConvGeom, col []float32, x []float32, xOff int) {
	eachColEntry(g, xOff, func(ci, xi int) {
		if xi >= 0 {
			x[xi] += col[ci]
		}
	})
}

// eachColEntry visits col's entries in Im2col's row order with the index of
// the input each reads (-1 in the padding).
func eachColEntry(g ConvGeom, xOff int, visit func(ci, xi int)) {
	row := 0
	for c := 0; c < g.Cin/g.Groups; c++ {
		for ky := 0; ky < g.KH; ky++ {
			for kx := 0; kx < g.KW; kx++ {
				for oy := 0; oy < g.OH; oy++ {
					for ox := 0; ox < g.OW; ox++ {
						iy, ix := oy*g.SH-g.PH+ky*g.DH, ox*g.SW-g.PW+kx*g.DW
						xi := -1
						if iy >= 0 && iy < g.H && ix >= 0 && ix < g.W {
							xi = xOff + (c*g.H+iy)*g.W + ix
						}
						visit((row*g.OH+oy)*g.OW+ox, xi)
					}
				}
				row++
			}
		}
	}
}

// Im2col and Col2im take whole-tap runs for unit-stride geometry with as many
// output as input columns (flatTaps) and vector adds for unit-stride rows;
// both must give the definitions' bits exactly, under every variant, with
// the sample at an offset inside a larger buffer (a run must not reach
// outside its plane) and NaNs around it.
func TestIm2colCol2imMatchDefinitionBitForBit(t *testing.T) {
	geoms := map[string]ConvGeom{
		"3x3_pad1_wide":    geom(1, 3, 5, 70, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1),  // flat, rows past a vector block
		"3x3_pad1_4x4":     geom(1, 4, 4, 4, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1),   // flat, the demo's smallest planes
		"3x3_pad1_32":      geom(1, 2, 32, 32, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1), // flat, whole runs of many blocks
		"5x5_pad2_dil1":    geom(1, 2, 9, 11, 1, 5, 5, 1, 1, 2, 2, 1, 1, 1),  // flat, two columns of padding
		"3x3_pad2_dil2":    geom(1, 2, 9, 8, 1, 3, 3, 1, 1, 2, 2, 2, 2, 1),   // flat with dilation
		"3x3_pad0":         geom(1, 2, 9, 40, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1),  // unit stride, narrower output: per row
		"3x3_pad1_stride2": geom(1, 3, 9, 36, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1),  // stride 2: two vector blocks, a tail of 2
		"3x3_pad0_stride2": geom(1, 3, 33, 33, 1, 3, 3, 2, 2, 0, 0, 1, 1, 1), // the demo's down-sampling: the last rows end at the plane's end
		"3x3_pad1_stride3": geom(1, 2, 9, 40, 1, 3, 3, 3, 3, 1, 1, 1, 1, 1),  // other strides: scalar
		"4x4_pad3_rows":    geom(1, 2, 6, 67, 1, 4, 4, 1, 1, 3, 3, 1, 1, 1),  // output wider than input
		"kernel_gt_input":  geom(1, 2, 2, 3, 1, 4, 4, 1, 1, 2, 2, 1, 1, 1),
		"1x3_pad_cols":     geom(1, 2, 3, 5, 1, 1, 3, 1, 1, 0, 1, 1, 1, 1),
	}
	for name, g := range convGeoms {
		g.N = 1
		geoms["conv_"+name] = g
	}
	prev := ActiveVariant()
	defer UseVariant(prev)
	for _, v := range Variants() {
		if err := UseVariant(v); err != nil {
			t.Fatal(err)
		}
		for name, g := range geoms {
			r := rand.New(rand.NewPCG(2, uint64(len(name))))
			cg, plane := g.Cin/g.Groups, g.H*g.W
			ncol := g.colRows() * g.OH * g.OW
			const off = 5 // the sample sits at x[off:], NaN before and after it
			x := make([]float32, off+cg*plane+off)
			for i := range x {
				x[i] = float32(math.NaN())
			}
			copy(x[off:], randSlice(r, cg*plane))

			got, want := make([]float32, ncol), make([]float32, ncol)
			for i := range got {
				got[i] = 7 // every entry must be written
			}
			Im2col(g, x, off, got)
			im2colNaive(g, x, off, want)
			assertSameBits(t, v+" "+name+" im2col", got, want)

			col := randSlice(r, ncol)
			colCopy := append([]float32(nil), col...)
			gotX, wantX := append([]float32(nil), x...), append([]float32(nil), x...)
			clear(gotX[off : off+cg*plane])
			clear(wantX[off : off+cg*plane])
			Col2im(g, col, gotX, off)
			col2imNaive(g, colCopy, wantX, off)
			assertSameBits(t, v+" "+name+" col2im", gotX, wantX)
		}
	}
}

func assertSameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: element %d = %v (%#x), want %v (%#x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// The stride-2 row kernels of every variant against their loops, for every
// length up to a few blocks, with and without the one entry of slack past
// the row that lets a last block run as a vector: the gathered values, and
// for the scatter the even entries' sums and the odd entries' bits
// (NaN, ±Inf, +0 and subnormals among them) untouched.
func TestStride2RowKernelsMatchTheirLoops(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	prev := ActiveVariant()
	defer UseVariant(prev)
	for _, v := range Variants() {
		if err := UseVariant(v); err != nil {
			t.Fatal(err)
		}
		for n := 0; n <= 41; n++ {
			for slack := 0; slack <= 1; slack++ {
				span := max(0, 2*n-1) + slack
				src := specialSlice(r, span)
				got, want := make([]float32, n), make([]float32, n)
				gatherStride2Rows(got, 0, src, 0, n, 1)
				gatherStride2Scalar(want, src)
				assertSameBits(t, fmt.Sprintf("%s gather n %d slack %d", v, n, slack), got, want)

				dst := specialSlice(r, span)
				for i := range dst {
					if math.Float32bits(dst[i]) == 0x80000000 {
						dst[i] = 0 // Col2im's x never holds -0
					}
				}
				vals := specialSlice(r, n)
				for i := 0; i < n; i += 5 { // NaNs of two payloads meet: the loop keeps v's
					dst[2*i], vals[i] = math.Float32frombits(0x7fc00001), math.Float32frombits(0xffc00002)
				}
				gotDst, wantDst := append([]float32(nil), dst...), append([]float32(nil), dst...)
				scatterAddStride2Rows(gotDst, 0, vals, 0, n, 1)
				scatterAddStride2Scalar(wantDst, vals)
				assertSameBits(t, fmt.Sprintf("%s scatter-add n %d slack %d", v, n, slack), gotDst, wantDst)
			}
		}
	}
}

// The many-row stride-2 kernels (one call per tap) against their row loops:
// rows pitched from one entry short of 2n (a row's slack entry is the next
// row's first) to a few past, the last row with and without its slack.
func TestStride2RowsKernelsMatchTheirLoops(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	prev := ActiveVariant()
	defer UseVariant(prev)
	for _, v := range Variants() {
		if err := UseVariant(v); err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 7, 8, 16, 19, 33} {
			for rows := 1; rows <= 4; rows++ {
				for pitch := 2*n - 1; pitch <= 2*n+3; pitch++ {
					for slack := 0; slack <= 1; slack++ {
						span := (rows-1)*pitch + 2*n - 1 + slack
						name := fmt.Sprintf("%s n %d rows %d pitch %d slack %d", v, n, rows, pitch, slack)
						src := specialSlice(r, span)
						got, want := make([]float32, rows*(n+2)), make([]float32, rows*(n+2))
						gatherStride2Rows(got, n+2, src, pitch, n, rows)
						gatherStride2RowsScalar(want, n+2, src, pitch, n, rows)
						assertSameBits(t, name+" gather", got, want)

						dst := specialSlice(r, span)
						for i := range dst {
							if math.Float32bits(dst[i]) == 0x80000000 {
								dst[i] = 0 // Col2im's x never holds -0
							}
						}
						vals := specialSlice(r, rows*(n+1))
						gotDst, wantDst := slices.Clone(dst), slices.Clone(dst)
						scatterAddStride2Rows(gotDst, pitch, vals, n+1, n, rows)
						scatterAddStride2RowsScalar(wantDst, pitch, vals, n+1, n, rows)
						assertSameBits(t, name+" scatter-add", gotDst, wantDst)
					}
				}
			}
		}
	}
}

// BenchmarkIm2colStride2 times one sample's Im2col and Col2im at the
// demo's stride-2 shapes (3x3, 32 channels, 33x33 -> 16x16 and 17x17 -> 8x8).
func BenchmarkIm2colStride2(b *testing.B) {
	for _, g := range []ConvGeom{geom(1, 32, 33, 33, 32, 3, 3, 2, 2, 0, 0, 1, 1, 1), geom(1, 32, 17, 17, 32, 3, 3, 2, 2, 0, 0, 1, 1, 1)} {
		r := rand.New(rand.NewPCG(1, 2))
		x := randSlice(r, g.Cin*g.H*g.W)
		col := make([]float32, g.colRows()*g.OH*g.OW)
		name := fmt.Sprintf("%dx%d", g.H, g.W)
		b.Run(name+"/im2col", func(b *testing.B) {
			for b.Loop() {
				Im2col(g, x, 0, col)
			}
		})
		b.Run(name+"/col2im", func(b *testing.B) {
			for b.Loop() {
				clear(x)
				Col2im(g, col, x, 0)
			}
		})
	}
}
