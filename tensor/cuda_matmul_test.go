package tensor

import (
	"strconv"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/kernels/cuda"
)

// reduceLaunches counts the emulator's reduction launches so far: the
// split-K path ends in one.
func reduceLaunches(launches []string) int {
	n := 0
	for _, l := range launches {
		if name, count, ok := strings.Cut(l, "="); ok && strings.HasPrefix(name, "reduce_") {
			c, _ := strconv.Atoi(count)
			n += c
		}
	}
	return n
}

// Split-K matmuls equal the host's: one matrix and a batch (B broadcast),
// A read through a transposed view, a scale, the split forced and as
// cuda.SplitK chooses it for a deep product of a small output; each takes
// the split path (a reduction after the GEMM), and turning it off does not.
func TestMatmulSplitKMatchesHost(t *testing.T) {
	e, done := useEmulator()
	defer done()
	rng := NewRNG(12)
	cases := []struct {
		name  string
		a, b  *Tensor
		alpha float32
		force int // 0: cuda.SplitK decides
	}{
		{"one matrix, 4 slices", rng.Normal(96, 512), rng.Normal(512, 80), 0.5, 4},
		{"batch, broadcast b, 3 slices", rng.Normal(3, 70, 96), rng.Normal(96, 66), 1, 3},
		{"transposed a, 2 slices", rng.Normal(64, 70).Transpose(0, 1), rng.Normal(64, 72), -2, 2},
		{"chosen", rng.Normal(64, 8192), rng.Normal(8192, 64), 1, 0},
	}
	if s := cuda.SplitK(64, 64, 8192, 1, e.Props().SMs); s < 2 {
		t.Fatalf("cuda.SplitK(64, 64, 8192) = %d on %d SMs: the last case would not split", s, e.Props().SMs)
	}
	for _, c := range cases {
		want := MatmulScaled(c.a, c.b, c.alpha)
		for _, force := range []int{c.force, 1} {
			prev := SetCUDASplitK(force)
			before := reduceLaunches(e.Launches())
			got := MatmulScaled(c.a.To(CUDA), c.b.To(CUDA), c.alpha).To(CPU)
			SetCUDASplitK(prev)
			closeValues(t, c.name, got, want, 1e-5)
			if split := reduceLaunches(e.Launches()) > before; split != (force != 1) {
				t.Errorf("%s, split %d: took the split path: %v", c.name, force, split)
			}
		}
	}
}

// cuda.SplitK leaves alone what fills the card or is too small to gain.
func TestSplitKChoices(t *testing.T) {
	for _, c := range []struct{ m, n, k, batch, want int }{
		{400, 768, 768, 1, 4},   // CLIP's projections at batch 8: 84 blocks -> 336
		{400, 768, 3072, 1, 4},  // its MLP down projection
		{400, 3072, 768, 1, 1},  // 336 blocks already
		{16, 512, 512, 1, 1},    // a fully-connected layer: the small kernel, latency-bound
		{512, 4096, 512, 36, 1}, // a Winograd GEMM
		{64, 64, 1000, 1, 1},    // 8 MFLOP: not worth a second launch
		{128, 128, 3000, 4, 1},  // K = 3000 cuts into no 2..8 slices of a multiple of 16
	} {
		if got := cuda.SplitK(c.m, c.n, c.k, c.batch, 132); got != c.want {
			t.Errorf("SplitK(%d, %d, %d, batch %d) = %d, want %d", c.m, c.n, c.k, c.batch, got, c.want)
		}
	}
}
