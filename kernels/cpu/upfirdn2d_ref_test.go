package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestFloorDiv(t *testing.T) {
	for _, c := range [][3]int{{7, 2, 3}, {-1, 2, -1}, {-4, 2, -2}, {-5, 3, -2}, {0, 5, 0}, {5, 5, 1}} {
		if got := FloorDiv(c[0], c[1]); got != c[2] {
			t.Errorf("FloorDiv(%d, %d) = %d, want %d", c[0], c[1], got, c[2])
		}
	}
}

// TestUpfirdn2dPolyphaseMatchesNaive runs the polyphase kernel and the
// zero-insert reference on random configurations: odd sizes, up/down 1..3,
// negative pads, separable and 2-D filters, both flips, gains.
func TestUpfirdn2dPolyphaseMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tried := 0
	for tried < 300 {
		c := Upfirdn2dConfig{
			Planes: 1 + rng.IntN(3), InH: 1 + rng.IntN(7), InW: 1 + rng.IntN(7),
			UpX: 1 + rng.IntN(3), UpY: 1 + rng.IntN(3), DownX: 1 + rng.IntN(3), DownY: 1 + rng.IntN(3),
			PadX0: rng.IntN(7) - 3, PadX1: rng.IntN(7) - 3, PadY0: rng.IntN(7) - 3, PadY1: rng.IntN(7) - 3,
			Separable: rng.IntN(2) == 0, FlipFilter: rng.IntN(2) == 0, Gain: 0.5 + rng.Float32()*3,
		}
		var f []float32
		if c.Separable {
			c.FilterW = 1 + rng.IntN(9)
			c.FilterH = c.FilterW
			f = randSlice(rng, c.FilterW)
		} else {
			c.FilterH, c.FilterW = 1+rng.IntN(5), 1+rng.IntN(5)
			f = randSlice(rng, c.FilterH*c.FilterW)
		}
		oh, ow := c.OutSize()
		if oh < 1 || ow < 1 {
			continue
		}
		tried++
		x := randSlice(rng, c.Planes*c.InH*c.InW)
		got := make([]float32, c.Planes*oh*ow)
		want := make([]float32, len(got))
		Upfirdn2dRef(got, x, f, c)
		Upfirdn2dNaive(want, x, f, c)
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("%+v: y[%d] = %v, naive %v", c, i, got[i], want[i])
			}
		}
	}
}

// TestUpfirdn2dKnownValues pins the conventions with a hand-computed case:
// 1-D along width, up=2 with filter [1,2,3] (true convolution) and pad 1.
func TestUpfirdn2dKnownValues(t *testing.T) {
	c := Upfirdn2dConfig{Planes: 1, InH: 1, InW: 2, UpX: 2, UpY: 1, DownX: 1, DownY: 1,
		PadX0: 1, PadX1: 1, FilterH: 1, FilterW: 3, Gain: 1}
	// xu = [a 0 b 0], padded [0 a 0 b 0 0]; true convolution slides the
	// reversed filter [3 2 1], correlation slides [1 2 3].
	x, f := []float32{10, 100}, []float32{1, 2, 3}
	oh, ow := c.OutSize()
	if oh != 1 || ow != 4 {
		t.Fatalf("out size %dx%d, want 1x4", oh, ow)
	}
	want := []float32{2 * 10, 3*10 + 1*100, 2 * 100, 3 * 100}
	for _, flip := range []bool{false, true} {
		c.FlipFilter = flip
		if flip {
			want = []float32{2 * 10, 1*10 + 3*100, 2 * 100, 1 * 100}
		}
		got := make([]float32, 4)
		Upfirdn2dRef(got, x, f, c)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("flip=%v: got %v, want %v", flip, got, want)
		}
	}
}

// BenchmarkUpfirdn2dUpsample is StyleGAN2's upsample2d of a 32×32, 512-channel
// activation with the 4×4 [1,3,3,1] filter (4 multiply-adds per output).
func BenchmarkUpfirdn2dUpsample(b *testing.B) {
	c := Upfirdn2dConfig{Planes: 4 * 512, InH: 32, InW: 32, UpX: 2, UpY: 2, DownX: 1, DownY: 1,
		PadX0: 2, PadX1: 1, PadY0: 2, PadY1: 1, FilterH: 4, FilterW: 4, Gain: 4}
	rng := rand.New(rand.NewPCG(1, 2))
	x, f := randSlice(rng, c.Planes*c.InH*c.InW), randSlice(rng, 16)
	oh, ow := c.OutSize()
	y := make([]float32, c.Planes*oh*ow)
	b.SetBytes(int64(4 * (len(x) + len(y))))
	for b.Loop() {
		Upfirdn2dRef(y, x, f, c)
	}
}

// BenchmarkBiasActLrelu is the synthesis layers' bias + lrelu + clamp.
func BenchmarkBiasActLrelu(b *testing.B) {
	c := BiasActConfig{Kind: BiasActLrelu, Alpha: 0.2, Gain: 1.4142135, Clamp: 256, Outer: 4, Channels: 512, Inner: 64 * 64}
	rng := rand.New(rand.NewPCG(1, 2))
	n := c.Outer * c.Channels * c.Inner
	x, bias, y := randSlice(rng, n), randSlice(rng, c.Channels), make([]float32, n)
	b.SetBytes(int64(8 * n))
	for b.Loop() {
		BiasActRef(y, x, bias, c)
	}
}
