package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// transposed copies src viewed as [outer, mid, inner] into rows of the
// summed axes, as the tensor package did before reading them in place:
// [outer, inner, mid] for SumMiddle, [mid, outer, inner] for SumOuterInner.
func transposed(src []float32, outer, mid, inner int, midSummed bool) []float32 {
	out := make([]float32, 0, len(src))
	if midSummed {
		for a := 0; a < outer; a++ {
			for b := 0; b < inner; b++ {
				for r := 0; r < mid; r++ {
					out = append(out, src[(a*mid+r)*inner+b])
				}
			}
		}
		return out
	}
	for k := 0; k < mid; k++ {
		for a := 0; a < outer; a++ {
			out = append(out, src[(a*mid+k)*inner:(a*mid+k+1)*inner]...)
		}
	}
	return out
}

// TestStridedSumsAgainstRows: under every variant, the in-place sums equal
// that variant's ReduceRows over the transposed copy bit for bit (so a
// training run does not change when a sum is read in place), and the scalar
// ones ReduceRowsRef's. The shapes cover columns and rows shorter than a
// vector block, block tails, rows split into chunks (sumChunk) with a chunk
// boundary inside a run, and empty axes.
func TestStridedSumsAgainstRows(t *testing.T) {
	r := rand.New(rand.NewPCG(45, 46))
	prev := ActiveVariant()
	defer UseVariant(prev)
	shapes := [][3]int{{4, 512, 1}, {4, 7, 1}, {2, 3, 33}, {4, 64, 4096}, {3, 5, 1030}, {1, 9, 40}, {0, 4, 8}, {3, 0, 5},
		{5, 4, 0}, {2, 70, 65}, {3, 31, 130}, {1, sumChunk + 45, 3}, {70, 3, 1000}, {40, 2, 1}, {6, 33, 7},
		{16, 5, 32}, {16, 4, 16}, {32, 3, 4096}, {3, 2, sumChunk}, {5, 3, 48}} // runs in place, chunks of several runs
	for _, name := range Variants() {
		if err := UseVariant(name); err != nil {
			t.Fatal(err)
		}
		for _, sh := range shapes {
			outer, mid, inner := sh[0], sh[1], sh[2]
			src := randSlice(r, outer*mid*inner)
			// Pairs of ±2^60 make the float64 sums order-dependent in their
			// float32 result (units added next to 2^60 are lost), so that a
			// different order of accumulation shows; with only normal values
			// it would almost never survive the rounding to float32.
			for i := 0; i+1 < len(src); i += 1 + r.IntN(23) {
				src[i], src[r.IntN(len(src))] = 1<<60, -(1 << 60)
			}
			for _, midSummed := range []bool{true, false} {
				rows, cols := outer*inner, mid
				if !midSummed {
					rows, cols = mid, outer*inner
				}
				want, wantRef := make([]float32, rows), make([]float32, rows)
				ReduceRows(ReduceSum, rows, cols, want, transposed(src, outer, mid, inner, midSummed))
				ReduceRowsRef(ReduceSum, rows, cols, wantRef, transposed(src, outer, mid, inner, midSummed))
				got, ref := make([]float32, rows), make([]float32, rows)
				for i := range got {
					got[i], ref[i] = float32(math.NaN()), float32(math.NaN()) // every output must be written
				}
				if midSummed {
					SumMiddle(outer, mid, inner, got, src)
					SumMiddleRef(outer, mid, inner, ref, src)
				} else {
					SumOuterInner(outer, mid, inner, got, src)
					SumOuterInnerRef(outer, mid, inner, ref, src)
				}
				for i := range want {
					what := fmt.Sprintf("%s %v midSummed %v output %d", name, sh, midSummed, i)
					if !sameBits(ref[i], wantRef[i]) {
						t.Fatalf("%s: scalar %v, want %v", what, ref[i], wantRef[i])
					}
					if !sameBits(got[i], want[i]) {
						t.Fatalf("%s: %v, want %v (the variant's ReduceRows)", what, got[i], want[i])
					}
				}
			}
		}
	}
}

// BenchmarkStridedSums: the two in-place sums at the sizes of a 64x64
// StyleGAN2 layer's backward (bias/noise-strength and noise gradients).
func BenchmarkStridedSums(b *testing.B) {
	r := rand.New(rand.NewPCG(47, 48))
	const outer, mid, inner = 4, 512, 4096
	src := randSlice(r, outer*mid*inner)
	dst := make([]float32, outer*inner)
	b.Run("middle", func(b *testing.B) {
		for b.Loop() {
			SumMiddle(outer, mid, inner, dst, src)
		}
		b.ReportMetric(4*float64(len(src))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	})
	b.Run("outer_inner", func(b *testing.B) {
		for b.Loop() {
			SumOuterInner(outer, mid, inner, dst, src)
		}
		b.ReportMetric(4*float64(len(src))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	})
	// The demo's bias gradients: batch 16, 32 channels, 32x32 and 8x8.
	for _, inner := range []int{1024, 64} {
		small := randSlice(r, 16*32*inner)
		b.Run(fmt.Sprintf("outer_inner_16x32x%d", inner), func(b *testing.B) {
			for b.Loop() {
				SumOuterInner(16, 32, inner, dst, small)
			}
			b.ReportMetric(4*float64(len(small))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
	b.Run("transpose_then_rows", func(b *testing.B) {
		for b.Loop() {
			ReduceRows(ReduceSum, mid, outer*inner, dst, transposed(src, outer, mid, inner, false))
		}
		b.ReportMetric(4*float64(len(src))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	})
}

// TestSumOuterInnerCombinesRegistersAsTheLoop: rows whose register sums
// only come out right combined as the vector loop combines them, (R0 + R1)
// + (R2 + R3), and chunk partials added in order: 1 in register 0, ±2^60 in
// registers 1 and 2 (the 1 survives another order, such as R0 + (R1 + R2)),
// for the runs summed in place and for gathered ones, under every variant.
func TestSumOuterInnerCombinesRegistersAsTheLoop(t *testing.T) {
	prev := ActiveVariant()
	defer UseVariant(prev)
	r := rand.New(rand.NewPCG(49, 50))
	for _, name := range Variants() {
		if err := UseVariant(name); err != nil {
			t.Fatal(err)
		}
		for _, sh := range [][3]int{{4, 3, 64}, {3, 2, 96}, {2, 2, sumChunk}} {
			outer, mid, inner := sh[0], sh[1], sh[2]
			src := randSlice(r, outer*mid*inner)
			for i := range src {
				src[i] *= 1e-3
			}
			half := map[string]int{"avx2": 4, "avx512": 8}[name] // a register's doubles
			for j := 0; j < mid && half > 0; j++ {
				run := src[(1*mid+j)*inner:]
				run[0], run[half], run[2*half] = 1, 1<<60, -(1 << 60)
			}
			got, want := make([]float32, mid), make([]float32, mid)
			SumOuterInner(outer, mid, inner, got, src)
			ReduceRows(ReduceSum, mid, outer*inner, want, transposed(src, outer, mid, inner, false))
			for j := range want {
				if !sameBits(got[j], want[j]) {
					t.Fatalf("%s %v output %d: %v, want %v (the variant's ReduceRows)", name, sh, j, got[j], want[j])
				}
			}
		}
	}
}
