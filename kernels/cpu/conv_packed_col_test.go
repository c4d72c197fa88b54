package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// A forward whose col is written straight into the packed layout gives the
// col buffer's bits, on every variant: strides 2 and 3, padding, dilation,
// several blocks of k, outputs not a multiple of a panel, one sample and
// several, a unit stride the implicit path leaves. On AVX2 only the wide
// ones take the path (its kernel reads narrow Bs in place); the test fails
// on a variant where none takes it.
func TestPackedColKeepsBits(t *testing.T) {
	defer func(v int, p bool) { convGemmMinFlops, packColFirst = v, p }(convGemmMinFlops, packColFirst)
	convGemmMinFlops = 0
	prev := ActiveVariant()
	defer UseVariant(prev)
	geoms := map[string]ConvGeom{
		"stride2_64":    geom(3, 6, 65, 66, 9, 3, 3, 2, 2, 0, 0, 1, 1, 1),
		"stride2_deep":  geom(2, 130, 36, 36, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1), // k = 1170: blocks of k
		"stride2_dil2":  geom(2, 4, 70, 69, 6, 3, 3, 2, 2, 2, 2, 2, 2, 1),
		"stride3_4x4":   geom(1, 3, 100, 98, 5, 4, 4, 3, 3, 1, 2, 1, 1, 1),
		"narrow_unit":   geom(3, 6, 5, 4, 150, 3, 3, 1, 1, 1, 1, 1, 1, 1), // too narrow for the implicit path
		"stride2_small": geom(2, 5, 9, 7, 200, 3, 3, 2, 2, 1, 1, 1, 1, 1),
	}
	for _, variant := range Variants() {
		if err := UseVariant(variant); err != nil {
			t.Fatal(err)
		}
		taken := 0
		for name, g := range geoms {
			if g.implicitIm2col() || useWinograd(g) {
				t.Fatalf("%s does not take the im2col forward", name)
			}
			if packsCol(g) {
				taken++
			}
			r := rand.New(rand.NewPCG(17, uint64(len(name))))
			x := randSlice(r, g.N*g.Cin*g.H*g.W)
			w := randSlice(r, g.Cout*g.Cin*g.KH*g.KW)
			bias := randSlice(r, g.Cout)
			ny := g.N * g.Cout * g.OH * g.OW
			packColFirst = false
			want := nanSlice(ny)
			conv2dForwardGemm(g, x, w, bias, want)
			packColFirst = true
			got := nanSlice(ny)
			conv2dForwardGemm(g, x, w, bias, got)
			assertSameBits(t, fmt.Sprintf("%s %s (packed col %v)", variant, name, packsCol(g)), got, want)
		}
		if taken == 0 {
			t.Fatalf("%s: no geometry writes its col packed", variant)
		}
	}
}

// BenchmarkPackedCol: the stride-2 forwards of a 512-channel
// discriminator's down layers at 64x64 and 32x32 (blurred inputs 66x66 and
// 34x34), with the col buffer ("col") and the col written packed
// ("packed").
func BenchmarkPackedCol(b *testing.B) {
	benchConvSwitch(b, &packColFirst, "col", "packed", conv2dForwardGemm,
		geom(4, 512, 66, 66, 512, 3, 3, 2, 2, 0, 0, 1, 1, 1),
		geom(4, 512, 34, 34, 512, 3, 3, 2, 2, 0, 0, 1, 1, 1))
}
