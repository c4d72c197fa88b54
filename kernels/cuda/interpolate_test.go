package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lafite-go/lafite/kernels/cpu"
)

// TestBicubicAdjointRange: for every table of sizes up to 80 (and CLIP's
// 224 from crop sizes), each tap of each output j lands on an input i whose
// gather range contains j, so the adjoint kernel misses no term.
func TestBicubicAdjointRange(t *testing.T) {
	check := func(in, out int) {
		tab := cpu.BicubicTable(in, out)
		for j := 0; j < out; j++ {
			for k := 0; k < 4; k++ {
				i := tab.Idx[4*j+k]
				if lo, hi := BicubicAdjointRange(i, in, out); j < lo || j > hi {
					t.Fatalf("in %d out %d: output %d reaches input %d, outside its range [%d, %d]", in, out, j, i, lo, hi)
				}
			}
		}
	}
	for in := 1; in <= 80; in++ {
		for out := 1; out <= 80; out++ {
			check(in, out)
		}
	}
	for c := 1; c <= 300; c++ {
		check(c, 224)
		check(224, c)
	}
}

// bicubicAxisRef applies the CPU table along one axis of a strided source
// [planes, inH, inW] in float64 (adjoint: its transpose), writing a
// contiguous [planes, outH, outW].
func bicubicAxisRef(p ResizeParams, x []float32, adjoint bool) []float64 {
	planes, outH, outW := int(p.Planes), int(p.OutH), int(p.OutW)
	n, m, step := p.AxisLengths()
	tab := cpu.BicubicTable(n, m)
	if adjoint {
		tab = cpu.BicubicTable(m, n)
	}
	y := make([]float64, planes*outH*outW)
	for e := range y {
		pl, oy, ox := e/(outH*outW), (e/outW)%outH, e%outW
		base, pos := pl*int(p.SPlane)+ox*int(p.SW), oy // offset of source element 0 along the axis
		if p.Axis == 1 {
			base, pos = pl*int(p.SPlane)+oy*int(p.SH), ox
		}
		var acc float64
		for j := 0; j < tab.Out; j++ {
			for k := 0; k < 4; k++ {
				switch {
				case !adjoint && j == pos:
					acc += float64(tab.W[4*j+k]) * float64(x[base+tab.Idx[4*j+k]*step])
				case adjoint && tab.Idx[4*j+k] == pos:
					acc += float64(tab.W[4*j+k]) * float64(x[base+j*step])
				}
			}
		}
		y[e] = acc
	}
	return y
}

// TestGPUInterpolateBicubic runs both kernels along both axes, up and down,
// on a source that is a crop of a larger buffer (strided rows and planes),
// into a destination that is a window of a larger buffer (the rest must stay
// untouched), against the float64 reference.
func TestGPUInterpolateBicubic(t *testing.T) {
	d := gpu(t)
	r := rand.New(rand.NewPCG(19, 20))
	for _, c := range []struct {
		planes, inH, inW, outH, outW, axis int
	}{
		{6, 37, 41, 224, 41, 0}, // CLIP-like upscale along H
		{6, 37, 41, 37, 224, 1}, // and along W
		{3, 64, 50, 20, 50, 0},  // downscale
		{3, 50, 64, 50, 7, 1},   // strong downscale
		{2, 1, 5, 9, 5, 0},      // 1-pixel source
		{2, 13, 13, 13, 13, 1},  // same size
		{70000, 3, 2, 3, 5, 1},  // many planes: the grid-stride loop wraps
	} {
		// The source is the [1:, 2:] crop of planes of (inH+1) x (inW+3).
		ph, pw := c.inH+1, c.inW+3
		full := randn(r, c.planes*ph*pw)
		// The destination is the [2:, 1:] window of planes of (outH+3) x (outW+2).
		dh, dw := c.outH+3, c.outW+2
		p := ResizeParams{Planes: int32(c.planes), InH: int32(c.inH), InW: int32(c.inW), OutH: int32(c.outH), OutW: int32(c.outW),
			Axis: int32(c.axis), SPlane: int32(ph * pw), SH: int32(pw), SW: 1, DPlane: int32(dh * dw), DH: int32(dw)}
		xp := upload(t, d, full)
		src := xp + DevicePtr(4*(pw+2))
		n, nd := c.planes*c.outH*c.outW, c.planes*dh*dw
		yp := buf(t, d, nd)
		for _, adj := range []bool{false, true} {
			entry := "resize_bicubic_f32"
			if adj {
				entry = "resize_bicubic_adj_f32"
			}
			want := bicubicAxisRef(p, full[pw+2:], adj)
			d.MemsetD32(yp, poison, int64(nd))
			run(t, d, "interpolate", entry, GridStride(int64(n), 256, d.Props.SMs), D1(256), 0, p, src, yp+DevicePtr(4*(2*dw+1)))
			all := download(t, d, yp, nd)
			got := make([]float32, 0, n)
			for i, v := range all {
				pl, y, x := i/(dh*dw), i/dw%dh, i%dw
				if y >= 2 && y < 2+c.outH && x >= 1 && x < 1+c.outW {
					got = append(got, v)
				} else if math.Float32bits(v) != poison {
					t.Fatalf("%s %+v: wrote outside its window at plane %d (%d, %d)", entry, c, pl, y, x)
				}
			}
			near(t, fmt.Sprintf("%s %+v", entry, c), got, want, 1e-5, 1e-5)
		}
	}
}
