package autograd

import "fmt"

// MinibatchStd appends numChannels feature maps holding the standard deviation
// of x [N, C, H, W] across groups of G = min(groupSize, N) samples:
// y = sqrt(mean_G((x − mean_G x)²) + 1e-8), averaged over C/F channels and the
// pixels, tiled to [N, F, H, W] and concatenated after x on the channel axis.
// Sample n is grouped with the samples of index n mod N/G (group index
// outermost, as the reference's reshape to [G, N/G, F, C/F, H, W]).
//
// The operations run in the reference's order (square of the deviation, its
// mean, + 1e-8, sqrt): with G = 2 the deviation is ±|a − b|/2 and the second
// derivative lives only in the 1e-8 term, so reordering changes R1.
func MinibatchStd(x *Var, groupSize, numChannels int) *Var {
	if x.Dim() != 4 {
		panic(fmt.Sprintf("autograd.MinibatchStd: x must be [N, C, H, W], has shape %v", x.Shape()))
	}
	s := x.Shape()
	n, c, h, w := s[0], s[1], s[2], s[3]
	if groupSize < 1 {
		panic(fmt.Sprintf("autograd.MinibatchStd: groupSize = %d must be >= 1", groupSize))
	}
	g := min(groupSize, n)
	if n%g != 0 {
		panic(fmt.Sprintf("autograd.MinibatchStd: batch N = %d is not a multiple of the group size %d", n, g))
	}
	f := numChannels
	if f < 1 || c%f != 0 {
		panic(fmt.Sprintf("autograd.MinibatchStd: numChannels = %d must be >= 1 and divide C = %d", f, c))
	}
	y := Reshape(x, g, n/g, f, c/f, h, w)
	y = Sub(y, Mean(y, []int{0}, true))
	y = Mean(Square(y), []int{0}, false) // [N/G, F, C/F, H, W]
	y = Sqrt(AddScalar(y, 1e-8))
	y = Mean(y, []int{2, 3, 4}, false) // [N/G, F]
	// The reference's repeat(G, 1, H, W): copy k of the [N/G] block serves group member k.
	y = Reshape(BroadcastTo(Reshape(y, 1, n/g, f, 1, 1), g, n/g, f, h, w), n, f, h, w)
	out := []int{n, c + f, h, w}
	return Add(scatterSlice(x, out, 1, 0, 1), scatterSlice(y, out, 1, c, 1))
}
