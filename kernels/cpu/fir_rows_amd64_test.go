package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// firShiftedRowsAVX2 computes each row as firRows4AVX2 computes it alone
// (the contract that lets upfirdn2d run all the rows in one call): fused
// multiples of 8, a last 4 in the assembly with the generic kernel's
// rounded products, then the generic kernel; for every length up to a few
// blocks, with pitches past the row.
func TestFirShiftedRowsAVX2AreFirRows4(t *testing.T) {
	if !hasAVX2FMA() {
		t.Skip("the CPU has no AVX2+FMA3: the kernel cannot run here")
	}
	r := rand.New(rand.NewPCG(11, 12))
	w := [4]float32{0.125, 0.375, 0.375, 0.125}
	for n := 1; n <= 37; n++ {
		for _, rows := range []int{1, 3} {
			srcPitch, dstPitch := n+3+r.IntN(3), n+r.IntN(3)
			src := randSlice(r, rows*srcPitch)
			got, want := nanSlice(rows*dstPitch), nanSlice(rows*dstPitch)
			firShiftedRowsAVX2(got, dstPitch, src, srcPitch, n, rows, w)
			for row := 0; row < rows; row++ {
				s := src[row*srcPitch:]
				firRows4AVX2(want[row*dstPitch:row*dstPitch+n], s, s[1:], s[2:], s[3:], w)
			}
			for row := 0; row < rows; row++ {
				what := fmt.Sprintf("n %d, row %d of %d", n, row, rows)
				assertSameBits(t, what, got[row*dstPitch:row*dstPitch+n], want[row*dstPitch:row*dstPitch+n])
				for i := row*dstPitch + n; i < (row+1)*dstPitch; i++ {
					if got[i] == got[i] {
						t.Fatalf("%s: wrote past the row, at %d", what, i)
					}
				}
			}
		}
	}
}
