package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestBiasActVariantsMatchRefBitForBit(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	prev := ActiveVariant()
	defer UseVariant(prev)
	shapes := [][3]int{{1, 1, 1}, {2, 3, 7}, {1, 5, 16}, {3, 4, 33}, {2, 2, 64}, {1, 3, 95}, {4, 8, 4096}, {5, 7, 1}, {7, 9001, 1}, {3, 4099, 16}}
	kinds := []BiasActKind{BiasActLinear, BiasActRelu, BiasActLrelu, BiasActTanh}
	for _, name := range Variants() {
		if err := UseVariant(name); err != nil {
			t.Fatal(err)
		}
		for _, sh := range shapes {
			for _, kind := range kinds {
				for _, clamp := range []float32{-1, 0, 0.5, 256} {
					for _, withBias := range []bool{true, false} {
						c := BiasActConfig{Kind: kind, Alpha: 0.2, Gain: 1.4142135, Clamp: clamp, Outer: sh[0], Channels: sh[1], Inner: sh[2]}
						if kind == BiasActLinear {
							c.Gain = 1
						}
						n := sh[0] * sh[1] * sh[2]
						x, dy := specialSlice(r, n), specialSlice(r, n)
						var b []float32
						if withBias {
							b = specialSlice(r, sh[1])
						}
						what := fmt.Sprintf("%s kind %d clamp %v bias %v shape %v", name, kind, clamp, withBias, sh)
						got, want := make([]float32, n), make([]float32, n)
						BiasAct(got, x, b, c)
						BiasActRef(want, x, b, c)
						compareRows(t, what+" forward", got, want)
						BiasActGrad(got, dy, x, b, c)
						BiasActGradRef(want, dy, x, b, c)
						compareRows(t, what+" gradient", got, want)
						inPlace := append([]float32(nil), dy...) // dx in dy's storage, as the loop allows
						BiasActGrad(inPlace, inPlace, x, b, c)
						compareRows(t, what+" gradient in place", inPlace, want)
					}
				}
			}
		}
	}
}

func BenchmarkBiasActLreluVariants(b *testing.B) {
	r := rand.New(rand.NewPCG(13, 14))
	c := BiasActConfig{Kind: BiasActLrelu, Alpha: 0.2, Gain: 1.4142135, Clamp: 256, Outer: 4, Channels: 512, Inner: 64 * 64}
	n := c.Outer * c.Channels * c.Inner
	x, dy, y, bias := randSlice(r, n), randSlice(r, n), make([]float32, n), randSlice(r, c.Channels)
	prev := ActiveVariant()
	defer UseVariant(prev)
	for _, name := range Variants() {
		UseVariant(name)
		fwd, grad := BiasAct, BiasActGrad
		b.Run(name+"/forward", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				fwd(y, x, bias, c)
			}
			b.ReportMetric(8*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
		b.Run(name+"/gradient", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				grad(y, dy, x, bias, c)
			}
			b.ReportMetric(12*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

// BenchmarkBiasActShortRows times the rows shorter than two vector blocks:
// the demo's 4x4 and 8x8 planes and a fully connected layer (one value per
// channel), forward and gradient.
func BenchmarkBiasActShortRows(b *testing.B) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, sh := range []struct {
		name                   string
		outer, channels, inner int
	}{{"fc_16x512", 16, 512, 1}, {"plane4x4_16x32", 16, 32, 16}, {"plane8x8_16x32", 16, 32, 64}} {
		c := BiasActConfig{Kind: BiasActLrelu, Alpha: 0.2, Gain: 1.4142135, Clamp: -1, Outer: sh.outer, Channels: sh.channels, Inner: sh.inner}
		n := c.Outer * c.Channels * c.Inner
		x, dy, y, bias := randSlice(r, n), randSlice(r, n), make([]float32, n), randSlice(r, c.Channels)
		b.Run(sh.name+"/forward", func(b *testing.B) {
			for b.Loop() {
				BiasAct(y, x, bias, c)
			}
		})
		b.Run(sh.name+"/gradient", func(b *testing.B) {
			for b.Loop() {
				BiasActGrad(y, dy, x, bias, c)
			}
		})
	}
}
