package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Every variant's row sums against float64 sums, for lengths around the
// SIMD width (bodies and tails), on unaligned offsets into longer rows.
func TestFirRowsMatchFloat64(t *testing.T) {
	prev := ActiveVariant()
	defer UseVariant(prev)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, name := range Variants() {
		if err := UseVariant(name); err != nil {
			t.Fatal(err)
		}
		for n := 0; n <= 41; n++ {
			var src [4][]float32
			for i := range src {
				src[i] = randSlice(rng, n+7)[1+i : 1+i+n] // offsets 1..4 floats: unaligned
			}
			w := [4]float32{rng.Float32() - 0.5, 3, rng.Float32() * 2, -0.25}
			for _, taps := range []int{2, 4} {
				dst := make([]float32, n+1)
				dst[n] = 42 // past the end: untouched
				if taps == 2 {
					firRows2(dst[:n], src[0], src[1], w[0], w[1])
				} else {
					firRows4(dst[:n], src[0], src[1], src[2], src[3], w)
				}
				for i := 0; i < n; i++ {
					var want float64
					for k := 0; k < taps; k++ {
						want += float64(w[k]) * float64(src[k][i])
					}
					if d := math.Abs(float64(dst[i]) - want); !(d <= 1e-6*(1+math.Abs(want))) {
						t.Fatalf("%s: %d taps, n %d: dst[%d] = %v, want %v", name, taps, n, i, dst[i], want)
					}
				}
				if dst[n] != 42 {
					t.Fatalf("%s: %d taps, n %d: wrote past the end", name, taps, n)
				}
			}
		}
	}
}

// The separable path on StyleGAN2's shapes, wide enough for the SIMD bodies
// (the random configurations of TestUpfirdn2dFastMatchesNaive are at most 9
// wide), under every variant: the 4x4 [1,3,3,1] filter with up 2, down 2,
// and neither (the filter after a transposed convolution), both flips.
func TestUpfirdn2dFastStyleGANShapes(t *testing.T) {
	prev := ActiveVariant()
	defer UseVariant(prev)
	rng := rand.New(rand.NewPCG(7, 8))
	f := setupFilter1331()
	for _, name := range Variants() {
		if err := UseVariant(name); err != nil {
			t.Fatal(err)
		}
		for _, c := range []Upfirdn2dConfig{
			{Planes: 3, InH: 21, InW: 37, UpX: 2, UpY: 2, DownX: 1, DownY: 1, PadX0: 2, PadX1: 1, PadY0: 2, PadY1: 1, Gain: 4},
			{Planes: 2, InH: 34, InW: 40, UpX: 1, UpY: 1, DownX: 2, DownY: 2, PadX0: 1, PadX1: 1, PadY0: 1, PadY1: 1, Gain: 1},
			{Planes: 2, InH: 35, InW: 33, UpX: 1, UpY: 1, DownX: 1, DownY: 1, PadX0: 1, PadX1: 1, PadY0: 1, PadY1: 1, Gain: 4},
			{Planes: 1, InH: 19, InW: 50, UpX: 1, UpY: 1, DownX: 1, DownY: 1, PadX0: 2, PadX1: 1, PadY0: 0, PadY1: 3, Gain: 1, FlipFilter: true},
		} {
			c.FilterH, c.FilterW = 4, 4
			t.Run(fmt.Sprintf("%s/up%d_down%d_flip%v", name, c.UpX, c.DownX, c.FlipFilter), func(t *testing.T) {
				oh, ow := c.OutSize()
				x := randSlice(rng, c.Planes*c.InH*c.InW)
				got := make([]float32, c.Planes*oh*ow)
				want := make([]float32, len(got))
				Upfirdn2d(got, x, f, c)
				Upfirdn2dNaive(want, x, f, c)
				assertClose(t, "y", got, want)
			})
		}
	}
}

// firPairs under every variant against the generic kernel bit for bit (the
// vector kernels round each product apart too), for lengths around the
// vector body (8 pairs a step), odd ones included, on unaligned offsets, with
// zeros that make negative-zero products.
func TestFirPairsMatchGeneric(t *testing.T) {
	prev := ActiveVariant()
	defer UseVariant(prev)
	rng := rand.New(rand.NewPCG(9, 10))
	for _, name := range Variants() {
		if err := UseVariant(name); err != nil {
			t.Fatal(err)
		}
		for n := 0; n <= 41; n++ {
			in := randSlice(rng, n/2+4)[1:]
			for i := range in {
				if rng.IntN(5) == 0 {
					in[i] = 0
				}
			}
			w := [4]float32{rng.Float32() - 0.5, -3, rng.Float32() * 2, -0.25}
			got, want := make([]float32, n+1), make([]float32, n)
			got[n] = 42 // past the end: untouched
			firPairs(got[:n], in, w)
			firPairsGeneric(want, in, w)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s: n %d: out[%d] = %v, generic %v", name, n, i, got[i], want[i])
				}
				k, p := i/2, 2*(i%2)
				if d := math.Abs(float64(want[i]) - (float64(in[k])*float64(w[p]) + float64(in[k+1])*float64(w[p+1]))); d > 1e-6 {
					t.Fatalf("n %d: out[%d] = %v, off by %g", n, i, want[i], d)
				}
			}
			if got[n] != 42 {
				t.Fatalf("%s: n %d: wrote past the end", name, n)
			}
		}
	}
}
