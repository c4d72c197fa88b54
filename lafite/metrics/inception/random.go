package inception

import (
	"fmt"
	"math"

	"github.com/lafite-go/lafite/tensor"
)

// RandomStateDict is a state dict of the real network's widths with He
// initialised convolutions and neutral batch norms: what the benchmark
// times (the time does not depend on the values) and a check that the
// loader takes the full layout.
func RandomStateDict(rng *tensor.RNG) map[string]*tensor.Tensor {
	sd := map[string]*tensor.Tensor{}
	conv := func(name string, cin, cout, kh, kw int) int {
		w := rng.Normal(cout, cin, kh, kw)
		sd[name+".conv.weight"] = tensor.MulScalar(w, float32(math.Sqrt(2/float64(cin*kh*kw))))
		sd[name+".bn.weight"] = tensor.Full(1, cout)
		sd[name+".bn.bias"] = tensor.Zeros(cout)
		sd[name+".bn.running_mean"] = tensor.Zeros(cout)
		sd[name+".bn.running_var"] = tensor.Full(1, cout)
		return cout
	}
	c := conv("Conv2d_1a_3x3", 3, 32, 3, 3)
	c = conv("Conv2d_2a_3x3", c, 32, 3, 3)
	c = conv("Conv2d_2b_3x3", c, 64, 3, 3)
	c = conv("Conv2d_3b_1x1", c, 80, 1, 1)
	c = conv("Conv2d_4a_3x3", c, 192, 3, 3)
	for i, pool := range []int{32, 64, 64} { // FIDInceptionA
		p := fmt.Sprintf("Mixed_5%c.", 'b'+i)
		conv(p+"branch1x1", c, 64, 1, 1)
		conv(p+"branch5x5_2", conv(p+"branch5x5_1", c, 48, 1, 1), 64, 5, 5)
		conv(p+"branch3x3dbl_3", conv(p+"branch3x3dbl_2", conv(p+"branch3x3dbl_1", c, 64, 1, 1), 96, 3, 3), 96, 3, 3)
		c = 64 + 64 + 96 + conv(p+"branch_pool", c, pool, 1, 1)
	}
	conv("Mixed_6a.branch3x3", c, 384, 3, 3)
	conv("Mixed_6a.branch3x3dbl_3", conv("Mixed_6a.branch3x3dbl_2", conv("Mixed_6a.branch3x3dbl_1", c, 64, 1, 1), 96, 3, 3), 96, 3, 3)
	c += 384 + 96
	for i, c7 := range []int{128, 160, 160, 192} { // FIDInceptionC
		p := fmt.Sprintf("Mixed_6%c.", 'b'+i)
		conv(p+"branch1x1", c, 192, 1, 1)
		conv(p+"branch7x7_3", conv(p+"branch7x7_2", conv(p+"branch7x7_1", c, c7, 1, 1), c7, 1, 7), 192, 7, 1)
		d := conv(p+"branch7x7dbl_1", c, c7, 1, 1)
		d = conv(p+"branch7x7dbl_3", conv(p+"branch7x7dbl_2", d, c7, 7, 1), c7, 1, 7)
		conv(p+"branch7x7dbl_5", conv(p+"branch7x7dbl_4", d, c7, 7, 1), 192, 1, 7)
		c = 3*192 + conv(p+"branch_pool", c, 192, 1, 1)
	}
	conv("Mixed_7a.branch3x3_2", conv("Mixed_7a.branch3x3_1", c, 192, 1, 1), 320, 3, 3)
	d := conv("Mixed_7a.branch7x7x3_1", c, 192, 1, 1)
	d = conv("Mixed_7a.branch7x7x3_3", conv("Mixed_7a.branch7x7x3_2", d, 192, 1, 7), 192, 7, 1)
	conv("Mixed_7a.branch7x7x3_4", d, 192, 3, 3)
	c += 320 + 192
	for _, p := range []string{"Mixed_7b.", "Mixed_7c."} { // FIDInceptionE_1, _2
		conv(p+"branch1x1", c, 320, 1, 1)
		t := conv(p+"branch3x3_1", c, 384, 1, 1)
		conv(p+"branch3x3_2a", t, 384, 1, 3)
		conv(p+"branch3x3_2b", t, 384, 3, 1)
		u := conv(p+"branch3x3dbl_2", conv(p+"branch3x3dbl_1", c, 448, 1, 1), 384, 3, 3)
		conv(p+"branch3x3dbl_3a", u, 384, 1, 3)
		conv(p+"branch3x3dbl_3b", u, 384, 3, 1)
		c = 320 + 4*384 + conv(p+"branch_pool", c, 192, 1, 1)
	}
	sd["fc.weight"] = tensor.MulScalar(rng.Normal(1008, c), float32(1/math.Sqrt(float64(c))))
	sd["fc.bias"] = tensor.Zeros(1008)
	return sd
}
