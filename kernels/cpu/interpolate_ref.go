package cpu

import "math"

// InterpTable maps an axis of length In to one of length Out as a sparse
// linear map: out[j] = Σ_t W[j*Taps+t] · in[Idx[j*Taps+t]]. Bilinear and
// bicubic resizing are separable, so one table per axis describes them.
type InterpTable struct {
	In, Out, Taps int
	Idx           []int
	W             []float32
}

// pixelScale is PyTorch's area_pixel_compute_scale for align_corners=false
// with no scale_factor: in/out, computed in float32 as PyTorch's float path does.
func pixelScale(in, out int) float32 { return float32(in) / float32(out) }

// sourceIndex is the align_corners=false source coordinate (dst+0.5)·scale−0.5.
func sourceIndex(scale float32, dst int) float32 {
	return scale*(float32(dst)+0.5) - 0.5
}

// guardIndex splits a source coordinate into a base index and a fraction,
// keeping the index <= in-1 and the fraction in [0, 1] as PyTorch's
// guard_index_and_lambda does against rounding at the upper border.
func guardIndex(pos float32, in int) (int, float32) {
	i := min(int(math.Floor(float64(pos))), in-1)
	return i, min(max(pos-float32(i), 0), 1)
}

// BilinearTable is the per-axis table of F.interpolate(mode='bilinear',
// align_corners=False): negative source coordinates are clamped to 0 and the
// right neighbour is clamped to the last sample.
func BilinearTable(in, out int) InterpTable {
	t := InterpTable{In: in, Out: out, Taps: 2, Idx: make([]int, 2*out), W: make([]float32, 2*out)}
	scale := pixelScale(in, out)
	for j := 0; j < out; j++ {
		pos := max(sourceIndex(scale, j), 0)
		i, l := guardIndex(pos, in)
		t.Idx[2*j], t.Idx[2*j+1] = i, min(i+1, in-1)
		t.W[2*j], t.W[2*j+1] = 1-l, l
	}
	return t
}

// cubicA is the Keys cubic-convolution coefficient PyTorch uses.
const cubicA = float32(-0.75)

// cubicNear is the Keys kernel for |x| <= 1, cubicFar for 1 < |x| < 2.
func cubicNear(x float32) float32 { return ((cubicA+2)*x-(cubicA+3))*x*x + 1 }
func cubicFar(x float32) float32 {
	return ((cubicA*x-5*cubicA)*x+8*cubicA)*x - 4*cubicA
}

// BicubicTable is the per-axis table of F.interpolate(mode='bicubic',
// align_corners=False): the source coordinate is not clamped, the four taps
// at floor(src)-1 .. floor(src)+2 are clamped into [0, in-1] (replicated
// border), weights are the Keys kernel with A = -0.75.
func BicubicTable(in, out int) InterpTable {
	t := InterpTable{In: in, Out: out, Taps: 4, Idx: make([]int, 4*out), W: make([]float32, 4*out)}
	scale := pixelScale(in, out)
	for j := 0; j < out; j++ {
		i, l := guardIndex(sourceIndex(scale, j), in)
		w := [4]float32{cubicFar(l + 1), cubicNear(l), cubicNear(1 - l), cubicFar(2 - l)}
		for k := 0; k < 4; k++ {
			t.Idx[4*j+k] = min(max(i-1+k, 0), in-1)
			t.W[4*j+k] = w[k]
		}
	}
	return t
}

// ResampleAxisRef applies tab along the middle axis of a contiguous
// [outer, In, inner] src, writing a contiguous [outer, Out, inner] dst.
func ResampleAxisRef(outer, inner int, tab InterpTable, dst, src []float32) {
	in, out, taps := tab.In, tab.Out, tab.Taps
	ParallelFor(outer, out*inner*taps, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			s := src[o*in*inner : (o+1)*in*inner]
			d := dst[o*out*inner : (o+1)*out*inner]
			if inner == 1 {
				for j := 0; j < out; j++ {
					var acc float32
					for k := j * taps; k < (j+1)*taps; k++ {
						acc += tab.W[k] * s[tab.Idx[k]]
					}
					d[j] = acc
				}
				continue
			}
			for j := 0; j < out; j++ {
				row := d[j*inner : (j+1)*inner]
				clear(row)
				for k := j * taps; k < (j+1)*taps; k++ {
					w := tab.W[k]
					sr := s[tab.Idx[k]*inner : (tab.Idx[k]+1)*inner]
					for c := range row {
						row[c] += w * sr[c]
					}
				}
			}
		}
	})
}

// ResampleAxisAdjointRef is the transpose of ResampleAxisRef: src is
// [outer, Out, inner], dst [outer, In, inner] (overwritten) receives
// dst[i] = Σ_{j,t: Idx=i} W · src[j].
func ResampleAxisAdjointRef(outer, inner int, tab InterpTable, dst, src []float32) {
	in, out, taps := tab.In, tab.Out, tab.Taps
	ParallelFor(outer, out*inner*taps, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			s := src[o*out*inner : (o+1)*out*inner]
			d := dst[o*in*inner : (o+1)*in*inner]
			clear(d)
			for j := 0; j < out; j++ {
				sr := s[j*inner : (j+1)*inner]
				for k := j * taps; k < (j+1)*taps; k++ {
					w := tab.W[k]
					row := d[tab.Idx[k]*inner : (tab.Idx[k]+1)*inner]
					for c := range row {
						row[c] += w * sr[c]
					}
				}
			}
		}
	})
}

// Dispatch points for the resampling kernels.
var (
	ResampleAxis        = ResampleAxisRef
	ResampleAxisAdjoint = ResampleAxisAdjointRef
)
