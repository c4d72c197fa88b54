package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// packPanelRef is the definition packPanel must match.
func packPanelRef(dst []float32, w, kc, lanes int, src []float32, off, laneStride, groupStride int) {
	for p := 0; p < kc; p++ {
		for l := 0; l < w; l++ {
			v := float32(0)
			if l < lanes {
				v = src[off+l*laneStride+p*groupStride]
			}
			dst[p*w+l] = v
		}
	}
}

// On every variant: the transposing pack takes 8x8 blocks in assembly
// where it has them, the rest in Go.
func TestPackPanelAgainstRef(t *testing.T) {
	prev := ActiveVariant()
	defer UseVariant(prev)
	for _, variant := range Variants() {
		if err := UseVariant(variant); err != nil {
			t.Fatal(err)
		}
		testPackPanelAgainstRef(t, variant)
	}
}

func testPackPanelAgainstRef(t *testing.T, variant string) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 300; i++ {
		w := 1 + r.IntN(32)
		lanes := r.IntN(w + 1)
		kc := r.IntN(70)
		laneStride, groupStride := 1+r.IntN(50), 1+r.IntN(50)
		switch r.IntN(3) {
		case 0:
			laneStride = 1
		case 1:
			groupStride = 1
		}
		if i%4 == 0 { // the kernels' own panels: full rows of A (6 or 14) or columns of B (16, 32)
			w = []int{6, 14, 16, 32}[r.IntN(4)]
			lanes, kc = w, 8+r.IntN(70)
			if w == 6 || w == 14 {
				laneStride, groupStride = kc+r.IntN(20), 1
			}
		}
		off := r.IntN(7)
		src := randSlice(r, off+max(lanes-1, 0)*laneStride+max(kc-1, 0)*groupStride+1)
		got, want := randSlice(r, kc*w+3), randSlice(r, kc*w+3)
		copy(want, got)
		packPanel(got, w, kc, lanes, src, off, laneStride, groupStride)
		packPanelRef(want, w, kc, lanes, src, off, laneStride, groupStride)
		for j := range want {
			if got[j] != want[j] {
				t.Fatalf("%s: w %d lanes %d kc %d strides %d,%d: dst[%d] = %v, want %v", variant, w, lanes, kc, laneStride, groupStride, j, got[j], want[j])
			}
		}
	}
}

// Row by row across the panels (packBAcross) packs what packB packs panel
// by panel, and writes nothing past the panels.
func TestPackBAcrossMatchesPackB(t *testing.T) {
	prev := ActiveVariant()
	defer UseVariant(prev)
	r := rand.New(rand.NewPCG(7, 8))
	for _, variant := range Variants() {
		if err := UseVariant(variant); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 100; i++ {
			nr := []int{16, 32, 4, 6}[r.IntN(4)]
			kc, panels := r.IntN(40), r.IntN(9)
			bRow := panels*nr + r.IntN(30)
			off := r.IntN(5)
			b := randSlice(r, off+kc*bRow+1)
			got, want := randSlice(r, panels*kc*nr+5), randSlice(r, panels*kc*nr+5)
			copy(want, got)
			packBAcross(got, nr, kc, panels, b, off, bRow)
			for q := 0; q < panels; q++ {
				packB(want[q*kc*nr:(q+1)*kc*nr], nr, kc, nr, b, off+q*nr, bRow, 1)
			}
			for j := range want {
				if got[j] != want[j] {
					t.Fatalf("%s: nr %d kc %d panels %d: dst[%d] = %v, want %v", variant, nr, kc, panels, j, got[j], want[j])
				}
			}
		}
	}
}

// packAPanels packs what packA packs panel by panel, step by step across
// the full panels where A's rows are one apart, and writes nothing past
// the panels.
func TestPackAPanelsMatchesPackA(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for i := 0; i < 200; i++ {
		mr := []int{6, 14, 4, 5}[r.IntN(4)]
		kc, rows := r.IntN(40), r.IntN(5*mr)
		aRow, aCol := 1, rows+r.IntN(20)
		if i%3 == 0 {
			aRow, aCol = kc+r.IntN(20), 1
		}
		off := r.IntN(5)
		a := randSlice(r, off+max(rows-1, 0)*aRow+max(kc-1, 0)*aCol+1)
		panels := ceilDiv(rows, mr)
		got, want := randSlice(r, panels*mr*kc+5), randSlice(r, panels*mr*kc+5)
		copy(want, got)
		packAPanels(got, mr, kc, rows, a, off, aRow, aCol)
		for ip := 0; ip < panels; ip++ {
			packA(want[ip*mr*kc:(ip+1)*mr*kc], mr, kc, min(mr, rows-ip*mr), a, off+ip*mr*aRow, aRow, aCol)
		}
		for j := range want {
			if got[j] != want[j] {
				t.Fatalf("mr %d kc %d rows %d strides %d,%d: dst[%d] = %v, want %v", mr, kc, rows, aRow, aCol, j, got[j], want[j])
			}
		}
	}
}

func BenchmarkPackPanel(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const kc, ld = 256, 1024
	src := randSlice(r, 32*ld)
	for _, w := range []int{14, 32} {
		dst := make([]float32, kc*w)
		b.Run(fmt.Sprintf("transpose/w%d", w), func(b *testing.B) {
			for b.Loop() {
				packPanel(dst, w, kc, w, src, 0, ld, 1)
			}
			b.ReportMetric(float64(kc*w)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gvalues/s")
		})
		b.Run(fmt.Sprintf("ref/w%d", w), func(b *testing.B) {
			for b.Loop() {
				packPanelRef(dst, w, kc, w, src, 0, ld, 1)
			}
			b.ReportMetric(float64(kc*w)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gvalues/s")
		})
	}
}

// Reading B in place (tileB) must give the packed path's result bit for
// bit: the same products in the same order.
func TestGemmDirectBMatchesPacked(t *testing.T) {
	prev := ActiveVariant()
	defer UseVariant(prev)
	defer func(v bool) { gemmDirectB = v }(gemmDirectB)
	r := rand.New(rand.NewPCG(31, 32))
	for _, variant := range Variants() {
		if err := UseVariant(variant); err != nil {
			t.Fatal(err)
		}
		for _, sz := range [][3]int{{70, 96, 50}, {33, 65, 1100}, {300, 257, 129}, {18, 64, 40}, {30, 96, 33}, {22, 64, 17}, {36, 33, 9}} {
			m, n, k := sz[0], sz[1], sz[2]
			a, b := randSlice(r, m*k), randSlice(r, k*n)
			got, want := make([]float32, m*n), make([]float32, m*n)
			gemmDirectB = true
			Gemm(m, n, k, 1, a, 0, k, 1, b, 0, n, 1, 0, got, 0, n)
			gemmDirectB = false
			Gemm(m, n, k, 1, a, 0, k, 1, b, 0, n, 1, 0, want, 0, n)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%s %v: element %d = %v in place, %v packed", variant, sz, i, got[i], want[i])
				}
			}
		}
	}
}

// The in-place rule on the shapes it was measured on: SGEMM 1024^3 packs B,
// the Winograd GEMMs of a 64x64 convolution (k = 256 or 512 channels, B rows
// of 4096 tiles) and products with narrow B read it in place.
func TestReadBInPlace(t *testing.T) {
	for _, c := range []struct {
		k, ldb  int
		inPlace bool
	}{{1024, 1024, false}, {4608, 1024, false}, {256, 4096, true}, {512, 4096, true}, {4608, 256, true}, {512, 512, true}} {
		if got := readBInPlace(0, c.k, c.ldb); got != c.inPlace {
			t.Errorf("k %d, ldb %d: in place %v, want %v", c.k, c.ldb, got, c.inPlace)
		}
	}
}
