package tensor

import "testing"

// Broadcast rows (stride 0 in the innermost dimension after coalescing) take
// the fill path; every element must still be the broadcast value.
func TestContiguousOfBroadcasts(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 1000, 4099} {
		x := FromSlice([]float32{2.5}, 1, 1).Expand(3, n)
		got := x.Contiguous().ToSlice()
		if len(got) != 3*n {
			t.Fatalf("n %d: %d elements", n, len(got))
		}
		for i, v := range got {
			if v != 2.5 {
				t.Fatalf("n %d: element %d = %v", n, i, v)
			}
		}
	}
	// A column broadcast along rows: each row repeats its own value.
	col := FromSlice([]float32{1, 2, 3}, 3, 1).Expand(3, 5).Contiguous().ToSlice()
	for i, v := range col {
		if want := float32(i/5 + 1); v != want {
			t.Fatalf("column broadcast: element %d = %v, want %v", i, v, want)
		}
	}
}
