package inception

import (
	"fmt"
	"math"

	"github.com/lafite-go/lafite/tensor"
)

// RandomStateDict is a state dict of the network's layout at the real
// widths divided by div (1: the real network) with He initialised
// convolutions and neutral batch norms: what the benchmarks time (the time
// does not depend on the values) and a check that the loader takes the
// full layout.
func RandomStateDict(rng *tensor.RNG, div int) map[string]*tensor.Tensor {
	w := func(c int) int { return max(1, c/max(div, 1)) }
	sd := map[string]*tensor.Tensor{}
	conv := func(name string, cin, cout, kh, kw int) int {
		wt := rng.Normal(cout, cin, kh, kw)
		sd[name+".conv.weight"] = tensor.MulScalar(wt, float32(math.Sqrt(2/float64(cin*kh*kw))))
		sd[name+".bn.weight"] = tensor.Full(1, cout)
		sd[name+".bn.bias"] = tensor.Zeros(cout)
		sd[name+".bn.running_mean"] = tensor.Zeros(cout)
		sd[name+".bn.running_var"] = tensor.Full(1, cout)
		return cout
	}
	c := conv("Conv2d_1a_3x3", 3, w(32), 3, 3)
	c = conv("Conv2d_2a_3x3", c, w(32), 3, 3)
	c = conv("Conv2d_2b_3x3", c, w(64), 3, 3)
	c = conv("Conv2d_3b_1x1", c, w(80), 1, 1)
	c = conv("Conv2d_4a_3x3", c, w(192), 3, 3)
	for i, pool := range []int{32, 64, 64} { // FIDInceptionA
		p := fmt.Sprintf("Mixed_5%c.", 'b'+i)
		b1 := conv(p+"branch1x1", c, w(64), 1, 1)
		b5 := conv(p+"branch5x5_2", conv(p+"branch5x5_1", c, w(48), 1, 1), w(64), 5, 5)
		b3 := conv(p+"branch3x3dbl_3", conv(p+"branch3x3dbl_2", conv(p+"branch3x3dbl_1", c, w(64), 1, 1), w(96), 3, 3), w(96), 3, 3)
		c = b1 + b5 + b3 + conv(p+"branch_pool", c, w(pool), 1, 1)
	}
	b3 := conv("Mixed_6a.branch3x3", c, w(384), 3, 3)
	bd := conv("Mixed_6a.branch3x3dbl_3", conv("Mixed_6a.branch3x3dbl_2", conv("Mixed_6a.branch3x3dbl_1", c, w(64), 1, 1), w(96), 3, 3), w(96), 3, 3)
	c += b3 + bd
	for i, c7 := range []int{128, 160, 160, 192} { // FIDInceptionC
		p := fmt.Sprintf("Mixed_6%c.", 'b'+i)
		b1 := conv(p+"branch1x1", c, w(192), 1, 1)
		b7 := conv(p+"branch7x7_3", conv(p+"branch7x7_2", conv(p+"branch7x7_1", c, w(c7), 1, 1), w(c7), 1, 7), w(192), 7, 1)
		d := conv(p+"branch7x7dbl_1", c, w(c7), 1, 1)
		d = conv(p+"branch7x7dbl_3", conv(p+"branch7x7dbl_2", d, w(c7), 7, 1), w(c7), 1, 7)
		d = conv(p+"branch7x7dbl_5", conv(p+"branch7x7dbl_4", d, w(c7), 7, 1), w(192), 1, 7)
		c = b1 + b7 + d + conv(p+"branch_pool", c, w(192), 1, 1)
	}
	b3 = conv("Mixed_7a.branch3x3_2", conv("Mixed_7a.branch3x3_1", c, w(192), 1, 1), w(320), 3, 3)
	d := conv("Mixed_7a.branch7x7x3_1", c, w(192), 1, 1)
	d = conv("Mixed_7a.branch7x7x3_3", conv("Mixed_7a.branch7x7x3_2", d, w(192), 1, 7), w(192), 7, 1)
	c += b3 + conv("Mixed_7a.branch7x7x3_4", d, w(192), 3, 3)
	for _, p := range []string{"Mixed_7b.", "Mixed_7c."} { // FIDInceptionE_1, _2
		b1 := conv(p+"branch1x1", c, w(320), 1, 1)
		t := conv(p+"branch3x3_1", c, w(384), 1, 1)
		b3 := conv(p+"branch3x3_2a", t, w(384), 1, 3) + conv(p+"branch3x3_2b", t, w(384), 3, 1)
		u := conv(p+"branch3x3dbl_2", conv(p+"branch3x3dbl_1", c, w(448), 1, 1), w(384), 3, 3)
		bd := conv(p+"branch3x3dbl_3a", u, w(384), 1, 3) + conv(p+"branch3x3dbl_3b", u, w(384), 3, 1)
		c = b1 + b3 + bd + conv(p+"branch_pool", c, w(192), 1, 1)
	}
	sd["fc.weight"] = tensor.MulScalar(rng.Normal(w(1008), c), float32(1/math.Sqrt(float64(c))))
	sd["fc.bias"] = tensor.Zeros(w(1008))
	return sd
}
