package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestWinogradVectorTransformsExact: the vector transforms of every SIMD
// variant (winoInputBlocks, winoOutputBlocks, winoGradOutputBlocks; blocks of
// 16 tiles on AVX-512, 8 on AVX2) give the Go loops' results bit for bit, on
// rows of tiles that are whole blocks, blocks plus a remainder, and shorter
// than a block, with every padding, odd widths (a tile cut by the edge) and
// a last row of tiles cut by the bottom edge.
func TestWinogradVectorTransformsExact(t *testing.T) {
	prev := ActiveVariant()
	defer UseVariant(prev)
	ran := 0
	for _, variant := range []string{VariantAVX512, VariantAVX2} {
		if err := UseVariant(variant); err != nil {
			continue // not on this CPU
		}
		ran++
		t.Run(variant, testWinogradVectorTransforms)
	}
	if ran == 0 {
		t.Skip("this CPU has neither AVX-512 nor AVX2")
	}
}

func testWinogradVectorTransforms(t *testing.T) {
	input, output, grad := winoInputBlocks, winoOutputBlocks, winoGradOutputBlocks
	if input == nil || output == nil || grad == nil {
		t.Fatalf("the %s variant installs no vector transforms", ActiveVariant())
	}
	defer func(m int) { winogradTile = m }(winogradTile)
	winogradTile = 2
	defer func(v, c int) { convGemmMinFlops, winogradMinChannels = v, c }(convGemmMinFlops, winogradMinChannels)
	convGemmMinFlops, winogradMinChannels = 0, 4
	geoms := []ConvGeom{
		geom(2, 4, 64, 64, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1), // 32 tiles a row: 2 blocks of 16, 4 of 8
		geom(1, 5, 35, 70, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1), // 35: blocks and 3 tiles; bottom row cut
		geom(2, 4, 33, 33, 4, 3, 3, 1, 1, 0, 0, 1, 1, 1), // output 31: a block of 16; gradient width odd
		geom(1, 4, 40, 34, 6, 3, 3, 1, 1, 2, 2, 1, 1, 1), // padding 2: output 36 wide
		geom(1, 4, 20, 30, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1), // 15 tiles: no block of 16, one of 8
		geom(2, 4, 16, 16, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1), // 8 tiles: one block of 8
		geom(1, 4, 14, 14, 4, 3, 3, 1, 1, 0, 0, 1, 1, 1), // 6 tiles: no block
	}
	for gi, g := range geoms {
		if !useWinograd(g) {
			t.Fatalf("%+v does not take the Winograd path", g)
		}
		r := rand.New(rand.NewPCG(11, uint64(gi)))
		nx, ny, nw := g.N*g.Cin*g.H*g.W, g.N*g.Cout*g.OH*g.OW, g.Cout*g.Cin*9
		x, w, b, gy := randSlice(r, nx), randSlice(r, nw), randSlice(r, g.Cout), randSlice(r, ny)
		run := func(vector bool) (y, gx, gw []float32) {
			winoInputBlocks, winoOutputBlocks, winoGradOutputBlocks = nil, nil, nil
			if vector {
				winoInputBlocks, winoOutputBlocks, winoGradOutputBlocks = input, output, grad
			}
			defer func() { winoInputBlocks, winoOutputBlocks, winoGradOutputBlocks = input, output, grad }()
			y, gx, gw = nanSlice(ny), nanSlice(nx), nanSlice(nw)
			Conv2dForward(g, x, w, b, y)
			Conv2dInputGrad(g, gy, w, gx)
			Conv2dWeightGrad(g, x, gy, gw)
			return y, gx, gw
		}
		y1, gx1, gw1 := run(true)
		y0, gx0, gw0 := run(false)
		name := fmt.Sprintf("%+v", g)
		sameFloatBits(t, name+" forward", y1, y0)
		sameFloatBits(t, name+" input grad", gx1, gx0)
		sameFloatBits(t, name+" weight grad", gw1, gw0)
	}
}

func sameFloatBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if !sameBits(got[i], want[i]) {
			t.Errorf("%s: element %d is %v, the Go loops give %v", what, i, got[i], want[i])
			return
		}
	}
}
