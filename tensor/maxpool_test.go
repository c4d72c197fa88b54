package tensor

import (
	"math"
	"testing"
)

// MaxPool2d against a direct reading of max_pool2d's definition: padding is
// never the maximum (an all-negative window at the border stays negative),
// windows overlap, a NaN wins its windows.
func TestMaxPool2dMatchesTheDefinition(t *testing.T) {
	for _, c := range []struct{ h, w, kh, kw, sh, sw, ph, pw int }{
		{7, 7, 3, 3, 2, 2, 0, 0}, {6, 5, 3, 3, 1, 1, 1, 1}, {8, 9, 2, 3, 2, 1, 1, 1}, {5, 5, 3, 3, 2, 2, 1, 1},
	} {
		x := NewRNG(uint64(c.h*100+c.w)).Normal(2, 3, c.h, c.w)
		d := x.Data()
		for i := range d {
			d[i] -= 3 // mostly negative: padding read as 0 would win
		}
		d[7] = float32(math.NaN())
		y := MaxPool2d(x, c.kh, c.kw, c.sh, c.sw, c.ph, c.pw)
		oh, ow := (c.h+2*c.ph-c.kh)/c.sh+1, (c.w+2*c.pw-c.kw)/c.sw+1
		if s := y.Shape(); s[2] != oh || s[3] != ow {
			t.Fatalf("%+v: shape %v, want [2 3 %d %d]", c, s, oh, ow)
		}
		for p := range 6 {
			for i := range oh {
				for j := range ow {
					want, sawNaN := math.Inf(-1), false
					for a := range c.kh {
						for b := range c.kw {
							r, q := i*c.sh-c.ph+a, j*c.sw-c.pw+b
							if r < 0 || q < 0 || r >= c.h || q >= c.w {
								continue
							}
							v := float64(d[p*c.h*c.w+r*c.w+q])
							sawNaN = sawNaN || math.IsNaN(v)
							want = math.Max(want, v)
						}
					}
					got := float64(y.Data()[p*oh*ow+i*ow+j])
					if sawNaN != math.IsNaN(got) || !sawNaN && got != want {
						t.Fatalf("%+v: plane %d (%d, %d) = %v, want %v (NaN in window: %v)", c, p, i, j, got, want, sawNaN)
					}
				}
			}
		}
	}
}
