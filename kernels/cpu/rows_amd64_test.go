//go:build amd64

package cpu

import (
	"math"
	"testing"
)

// TestExpRowAccuracy checks the float32 exp of the softmax kernels against
// math.Exp on [-104, 0] (a sample of every float32 there) and special
// values: within 1.5 ulp where the result is normal; where it is not, AVX2
// gives 0 and AVX-512 a denormal within two of its steps.
func TestExpRowAccuracy(t *testing.T) {
	var src []float32
	lim := math.Float32bits(-104)
	for b := uint32(0x80000000); b < lim; b += 997 {
		src = append(src, math.Float32frombits(b))
	}
	specials := []float32{float32(math.Inf(-1)), float32(math.NaN()), -math.MaxFloat32, 0, -87.3, -87.34, -87.4, -103.9, -104.1, -1e-30}
	src = append(src, specials...)
	for name, k := range map[string]*rowKernels{VariantAVX2: avx2Rows, VariantAVX512: avx512Rows} {
		if !hasAVX2FMA() || name == VariantAVX512 && !hasAVX512() {
			continue
		}
		// Every offset and length, so that tails are covered.
		for _, n := range []int{len(src), 1, 5, 13, 17} {
			for off := 0; off+n <= len(src); off += max(n, len(src)/7) {
				x := src[off : off+n]
				got := make([]float32, n+1)
				got[n] = 42 // the masked tail must not write beyond n
				k.exp(&got[0], &x[0], n)
				if got[n] != 42 {
					t.Fatalf("%s: wrote past the end", name)
				}
				worst := 0.0
				for i, v := range x {
					want := math.Exp(float64(v))
					g := float64(got[i])
					switch {
					case math.IsNaN(want):
						if !math.IsNaN(g) {
							t.Fatalf("%s: exp(%v) = %v, want NaN", name, v, g)
						}
					case want >= 0x1p-126:
						_, e := math.Frexp(want)
						ulps := math.Abs(g-want) / math.Ldexp(1, e-24)
						worst = max(worst, ulps)
						if ulps > 1.5 {
							t.Fatalf("%s: exp(%v) = %v, want %v (%.2f ulp)", name, v, g, want, ulps)
						}
					case name == VariantAVX2 && g != 0 && math.Abs(g-want) > 0x1p-148,
						name == VariantAVX512 && math.Abs(g-want) > 0x1p-148:
						t.Fatalf("%s: exp(%v) = %v, want %v", name, v, g, want)
					}
				}
				if n == len(src) {
					t.Logf("%s: largest error %.3f ulp", name, worst)
				}
			}
		}
	}
}
