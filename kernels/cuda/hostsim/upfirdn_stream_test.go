package hostsim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lafite-go/lafite/kernels/cpu"
	"github.com/lafite-go/lafite/kernels/cuda"
)

// TestUpfirdnStreamingKernels runs the row-streaming 4x4 kernels (down 2,
// filter) through the planner's launch on the simulator, against the CPU
// reference: every pad parity (the down-2 window takes its columns from
// different lanes and halo lanes for even and odd pads), even and odd widths
// (8-byte pair loads or single ones), planes wider than a warp (the halo
// columns come from the next warp's range), rows past the plane (a partial
// last strip) and more planes than the grid has blocks along z (each block
// loops over planes).
func TestUpfirdnStreamingKernels(t *testing.T) {
	d := ForTest(t)
	r := rand.New(rand.NewPCG(5, 9))
	type shape struct{ planes, h, w, down, p0, p1 int }
	var cases []shape
	for _, down := range []int{1, 2} {
		for _, pad := range [][2]int{{2, 1}, {1, 1}, {2, 2}, {0, 3}, {3, 0}, {1, 2}} {
			cases = append(cases, shape{3, 9, 70, down, pad[0], pad[1]}, shape{2, 20, 33, down, pad[0], pad[1]})
		}
		cases = append(cases, shape{200, 4, 4, down, 1, 2}, shape{150, 8, 8, down, 2, 2})
	}
	for _, c := range cases {
		name := fmt.Sprintf("down%d_%dx%dx%d_pad%d,%d", c.down, c.planes, c.h, c.w, c.p0, c.p1)
		cfg := cpu.Upfirdn2dConfig{Planes: c.planes, InH: c.h, InW: c.w, UpX: 1, UpY: 1, DownX: c.down, DownY: c.down,
			PadX0: c.p0, PadX1: c.p1, PadY0: c.p1, PadY1: c.p0, FilterH: 4, FilterW: 4, Gain: 1.5}
		oh, ow := cfg.OutSize()
		x := make([]float32, c.planes*c.h*c.w)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		f := make([]float32, 16)
		for i := range f {
			f[i] = float32(r.NormFloat64()) // not separable, not symmetric: a wrong tap or orientation shows
		}
		want := make([]float32, c.planes*oh*ow)
		cpu.Upfirdn2dNaive(want, x, f, cfg)
		p := cuda.UpfirdnParams{Major: int32(c.planes), InH: int32(c.h), InW: int32(c.w), OutH: int32(oh), OutW: int32(ow),
			UpX: 1, UpY: 1, DownX: int32(c.down), DownY: int32(c.down),
			PadX0: int32(c.p0), PadX1: int32(c.p1), PadY0: int32(c.p1), PadY1: int32(c.p0), FH: 4, FW: 4, Gain: 1.5}
		plan := cuda.PlanUpfirdn2d(p, d.Props().MaxSharedOptin, d.Props().SMs)
		entry := map[int]string{1: "upfirdn2d_filter_f4_f32", 2: "upfirdn2d_down2_f4_f32"}[c.down]
		if plan.Entry != entry {
			t.Fatalf("%s: planned %s, want %s", name, plan.Entry, entry)
		}
		if c.planes > 100 && int(plan.Grid.Z) >= c.planes {
			t.Fatalf("%s: grid %v gives each plane a block; the case is meant to loop", name, plan.Grid)
		}
		poison := make([]float32, len(want))
		for i := range poison {
			poison[i] = float32(math.NaN())
		}
		xp, fp, yp := upload(t, d, x), upload(t, d, f), upload(t, d, poison)
		if err := d.Launch(function(t, d, "upfirdn2d.cu", plan.Entry), plan.Grid, plan.Block, plan.Shared, p, xp, fp, yp); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := make([]float32, len(want))
		if err := d.CopyDtoHF32(got, yp); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if !(math.Abs(float64(got[i]-want[i])) <= 1e-5*(1+math.Abs(float64(want[i])))) {
				pl, rem := i/(oh*ow), i%(oh*ow)
				t.Fatalf("%s: y[%d,%d,%d] = %g, want %g", name, pl, rem/ow, rem%ow, got[i], want[i])
			}
		}
		for _, b := range []cuda.DevicePtr{xp, fp, yp} {
			d.Free(b)
		}
	}
}
