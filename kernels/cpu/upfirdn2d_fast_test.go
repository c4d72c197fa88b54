package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The separable fast path against the zero-insert reference on random
// configurations; 2-D filters are made rank one (outer products), or not, so
// both the fast path and its fall-back run.
func TestUpfirdn2dFastMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	fast := 0
	for tried := 0; tried < 400; {
		c := Upfirdn2dConfig{
			Planes: 1 + rng.IntN(3), InH: 1 + rng.IntN(9), InW: 1 + rng.IntN(9),
			UpX: 1 + rng.IntN(3), UpY: 1 + rng.IntN(3), DownX: 1 + rng.IntN(3), DownY: 1 + rng.IntN(3),
			PadX0: rng.IntN(7) - 3, PadX1: rng.IntN(7) - 3, PadY0: rng.IntN(7) - 3, PadY1: rng.IntN(7) - 3,
			Separable: rng.IntN(3) == 0, FlipFilter: rng.IntN(2) == 0, Gain: 0.5 + rng.Float32()*3,
		}
		var f []float32
		if c.Separable {
			c.FilterW = 1 + rng.IntN(9)
			c.FilterH = c.FilterW
			f = randSlice(rng, c.FilterW)
		} else {
			c.FilterH, c.FilterW = 1+rng.IntN(5), 1+rng.IntN(5)
			f = randSlice(rng, c.FilterH*c.FilterW)
			if rng.IntN(4) != 0 { // rank one, rounded to float32 like setup_filter's outer product
				u, v := randSlice(rng, c.FilterH), randSlice(rng, c.FilterW)
				for i := range u {
					for j := range v {
						f[i*c.FilterW+j] = u[i] * v[j]
					}
				}
			}
		}
		oh, ow := c.OutSize()
		if oh < 1 || ow < 1 {
			continue
		}
		tried++
		if _, _, ok := separableTaps(f, c); ok {
			fast++
		}
		x := randSlice(rng, c.Planes*c.InH*c.InW)
		got := make([]float32, c.Planes*oh*ow)
		for i := range got {
			got[i] = float32(math.NaN())
		}
		want := make([]float32, len(got))
		upfirdn2dFast(got, x, f, c)
		Upfirdn2dNaive(want, x, f, c)
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); !(d <= 1e-5*(1+math.Abs(float64(want[i])))) {
				t.Fatalf("%+v: y[%d] = %v, naive %v", c, i, got[i], want[i])
			}
		}
	}
	if fast < 200 {
		t.Errorf("only %d of 400 cases took the fast path", fast)
	}
}

func TestSeparableTapsOfSetupFilter(t *testing.T) {
	// StyleGAN2's [1,3,3,1] outer product, normalised: exactly rank one.
	f := setupFilter1331()
	if _, _, ok := separableTaps(f, Upfirdn2dConfig{FilterH: 4, FilterW: 4}); !ok {
		t.Error("[1,3,3,1]⊗[1,3,3,1]/64 not recognised as separable")
	}
	f[5] += 1e-3
	if _, _, ok := separableTaps(f, Upfirdn2dConfig{FilterH: 4, FilterW: 4}); ok {
		t.Error("perturbed filter taken as separable")
	}
}

// The plain and pair runs of the horizontal pass agree with the
// entry-by-entry loop: firStep2 (down 2) and firPairs (up 2) bit for bit,
// firRows4 (a 4-tap filter, its vector kernels fuse multiply-adds) to float32
// rounding; StyleGAN2's cases at the widths and pads its layers use, under
// every variant.
func TestUpfirdn2dPlainRunsMatchEntryByEntry(t *testing.T) {
	f := setupFilter1331()
	prev := ActiveVariant()
	defer UseVariant(prev)
	defer func() { usePlainRuns = true }()
	rng := rand.New(rand.NewPCG(5, 6))
	for _, v := range Variants() {
		if err := UseVariant(v); err != nil {
			t.Fatal(err)
		}
		for _, w := range []int{4, 8, 9, 32, 67} {
			for _, c := range []Upfirdn2dConfig{
				{DownX: 2, DownY: 2, PadX0: 1, PadX1: 1, PadY0: 1, PadY1: 1}, // downsample2d
				{DownX: 2, DownY: 2, PadX0: 2, PadX1: 1, PadY0: 2, PadY1: 1}, // odd pad
				{DownX: 1, DownY: 1, PadX0: 2, PadX1: 2, PadY0: 2, PadY1: 2}, // the FIR before a down-2 conv
				{DownX: 2, DownY: 1, PadX0: 1, PadX1: 2, PadY0: 1, PadY1: 2},
				{UpX: 2, UpY: 2, DownX: 1, DownY: 1, PadX0: 2, PadX1: 1, PadY0: 2, PadY1: 1}, // upsample2d
				{UpX: 2, UpY: 1, DownX: 1, DownY: 1, PadX0: 1, PadX1: 2, PadY0: 1, PadY1: 2}, // odd pad
				{UpX: 2, UpY: 2, DownX: 1, DownY: 1, PadX0: 3, PadX1: 0, PadY0: 0, PadY1: 0},
			} {
				c.Planes, c.InH, c.InW, c.FilterH, c.FilterW, c.Gain = 3, 5, w, 4, 4, 1.5
				if c.UpX == 0 {
					c.UpX, c.UpY = 1, 1
				}
				x := make([]float32, c.Planes*c.InH*c.InW)
				for i := range x {
					x[i] = float32(rng.NormFloat64())
				}
				oh, ow := c.OutSize()
				got, want := make([]float32, c.Planes*oh*ow), make([]float32, c.Planes*oh*ow)
				usePlainRuns = true
				upfirdn2dFast(got, x, f, c)
				usePlainRuns = false
				upfirdn2dFast(want, x, f, c)
				for i := range want {
					same := math.Float32bits(got[i]) == math.Float32bits(want[i])
					if c.DownX == 1 {
						same = math.Abs(float64(got[i]-want[i])) <= 1e-6*(1+math.Abs(float64(want[i])))
					}
					if !same {
						t.Fatalf("%s width %d %+v: element %d = %v, want %v", v, w, c, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// setupFilter1331 is StyleGAN2's 2-D filter, setup_filter([1,3,3,1]):
// the outer product normalised to sum 1.
func setupFilter1331() []float32 {
	f1 := []float32{1, 3, 3, 1}
	f := make([]float32, 16)
	for i := range 4 {
		for j := range 4 {
			f[i*4+j] = f1[i] * f1[j] / 64
		}
	}
	return f
}

// The pair run of upsample2d's columns (up 2, pads 2 and 1) is everything
// but the first and last column, whose one entry lies past an edge; other
// resamplings have none.
func TestPairRunOfUpsample2d(t *testing.T) {
	for _, w := range []int{1, 2, 4, 9, 32} {
		var a upfirdnAxis
		a.fill(w, 2*w, 2, 1, 2, 4, false)
		r := a.pairRun()
		if w == 1 {
			if r.hi != r.lo {
				t.Errorf("width 1: pair run %+v, want none", r)
			}
			continue
		}
		if r.lo != 1 || r.hi != 2*w-1 || r.in0 != 0 {
			t.Errorf("width %d: pair run %+v, want columns [1, %d) from input 0", w, r, 2*w-1)
		}
	}
	var a upfirdnAxis
	a.fill(32, 16, 1, 2, 1, 4, false) // downsample2d
	if r := a.pairRun(); r.hi != r.lo {
		t.Errorf("down 2: pair run %+v, want none", r)
	}
}

// BenchmarkUpfirdn2dDemoShapes is the separable path on the demo training
// step's calls (512 planes: batch 16 x 32 channels), each filter and
// resampling at the sizes the step uses.
func BenchmarkUpfirdn2dDemoShapes(b *testing.B) {
	f := setupFilter1331()
	for _, c := range []Upfirdn2dConfig{
		{InH: 33, InW: 33, UpX: 1, UpY: 1, DownX: 1, DownY: 1, PadX0: 1, PadX1: 1, PadY0: 1, PadY1: 1},
		{InH: 32, InW: 32, UpX: 1, UpY: 1, DownX: 1, DownY: 1, PadX0: 2, PadX1: 2, PadY0: 2, PadY1: 2},
		{InH: 16, InW: 16, UpX: 2, UpY: 2, DownX: 1, DownY: 1, PadX0: 2, PadX1: 1, PadY0: 2, PadY1: 1},
		{InH: 32, InW: 32, UpX: 1, UpY: 1, DownX: 2, DownY: 2, PadX0: 1, PadX1: 1, PadY0: 1, PadY1: 1},
		{InH: 9, InW: 9, UpX: 1, UpY: 1, DownX: 1, DownY: 1, PadX0: 1, PadX1: 1, PadY0: 1, PadY1: 1},
	} {
		c.Planes, c.FilterH, c.FilterW, c.Gain = 512, 4, 4, 1
		rng := rand.New(rand.NewPCG(1, 2))
		x := randSlice(rng, c.Planes*c.InH*c.InW)
		oh, ow := c.OutSize()
		y := make([]float32, c.Planes*oh*ow)
		b.Run(fmt.Sprintf("%dx%d_up%d_down%d_pad%d", c.InH, c.InW, c.UpX, c.DownX, c.PadX0), func(b *testing.B) {
			b.SetBytes(int64(4 * (len(x) + len(y))))
			for b.Loop() {
				upfirdn2dFast(y, x, f, c)
			}
		})
	}
}

// Joined vertical rows (down 1: the rows of a 4-tap filter's interior in
// one firRows4 call) against one call a row, bit for bit on every variant:
// output widths that are multiples of the kernels' block (joined) and that
// are not (the guard must keep them apart, or the tails' rounding moves).
func TestUpfirdn2dJoinedRowsKeepBits(t *testing.T) {
	f := setupFilter1331()
	prev := ActiveVariant()
	defer UseVariant(prev)
	defer func() { joinFirRows = true }()
	rng := rand.New(rand.NewPCG(7, 8))
	for _, v := range Variants() {
		if err := UseVariant(v); err != nil {
			t.Fatal(err)
		}
		for _, in := range []int{9, 13, 17, 33} {
			for _, pad := range []int{1, 2} {
				c := Upfirdn2dConfig{Planes: 3, InH: in + 3, InW: in, UpX: 1, UpY: 1, DownX: 1, DownY: 1,
					PadX0: pad, PadX1: pad, PadY0: pad, PadY1: pad, FilterH: 4, FilterW: 4, Gain: 1}
				x := make([]float32, c.Planes*c.InH*c.InW)
				for i := range x {
					x[i] = float32(rng.NormFloat64())
				}
				oh, ow := c.OutSize()
				got, want := make([]float32, c.Planes*oh*ow), make([]float32, c.Planes*oh*ow)
				upfirdn2dFast(got, x, f, c)
				joinFirRows = false
				upfirdn2dFast(want, x, f, c)
				joinFirRows = true
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s %dx%d pad %d: element %d = %v, a call per row %v", v, c.InH, in, pad, i, got[i], want[i])
					}
				}
			}
		}
	}
}
