package tensor

import "testing"

func TestConcatMatchesNaive(t *testing.T) {
	rng := NewRNG(1)
	a, b, c, e := rng.Normal(2, 3, 4), rng.Normal(2, 1, 4), rng.Normal(2, 5, 4), Zeros(2, 0, 4)
	for name, bl := range layouts(b) {
		for _, dim := range []int{1, -2} {
			out := Concat([]*Tensor{a, bl, e, strided(c)}, dim)
			if !SameShape(out.Shape(), []int{2, 9, 4}) {
				t.Fatalf("%s: shape %v", name, out.Shape())
			}
			forEachIndex(out.Shape(), func(i []int) {
				var want float32
				switch j := i[1]; {
				case j < 3:
					want = a.At(i[0], j, i[2])
				case j < 4:
					want = b.At(i[0], j-3, i[2])
				default:
					want = c.At(i[0], j-4, i[2])
				}
				if got := out.At(i...); got != want {
					t.Fatalf("%s dim %d: out%v = %v, want %v", name, dim, i, got, want)
				}
			})
		}
	}
	// Last and first dims.
	x, y := seq(2, 3), seq(2, 2)
	equalSlices(t, "concat last", Concat([]*Tensor{x, y}, -1).ToSlice(), []float32{0, 1, 2, 0, 1, 3, 4, 5, 2, 3})
	equalSlices(t, "concat first", Concat([]*Tensor{y, y}, 0).ToSlice(), []float32{0, 1, 2, 3, 0, 1, 2, 3})
}

func TestStackMatchesNaive(t *testing.T) {
	rng := NewRNG(2)
	xs := []*Tensor{rng.Normal(3, 4), strided(rng.Normal(3, 4)), transposedLayout(rng.Normal(3, 4))}
	for _, dim := range []int{0, 1, 2, -1, -3} {
		out := Stack(xs, dim)
		d := dim
		if d < 0 {
			d += 3
		}
		forEachIndex(out.Shape(), func(i []int) {
			rest := append(append([]int(nil), i[:d]...), i[d+1:]...)
			if got, want := out.At(i...), xs[i[d]].At(rest...); got != want {
				t.Fatalf("dim %d: out%v = %v, want %v", dim, i, got, want)
			}
		})
	}
}

func TestSplitGivesViews(t *testing.T) {
	x := seq(2, 6, 3)
	ps := Split(x, []int{1, 3, 0, 2}, 1)
	off := 0
	for k, p := range ps {
		if p.storage != x.storage {
			t.Fatalf("piece %d is a copy", k)
		}
		forEachIndex(p.Shape(), func(i []int) {
			if got, want := p.At(i...), x.At(i[0], i[1]+off, i[2]); got != want {
				t.Fatalf("piece %d %v = %v, want %v", k, i, got, want)
			}
		})
		off += p.Size(1)
	}
	if ps[2].Numel() != 0 {
		t.Fatalf("empty piece has %d elements", ps[2].Numel())
	}
	// Splitting a non-contiguous view keeps its values.
	s := Split(x.Transpose(0, 2), []int{2, 1}, 0)
	if s[1].At(0, 4, 1) != x.At(1, 4, 2) {
		t.Fatal("split of transposed view")
	}
}

func TestJoinErrorsNameArguments(t *testing.T) {
	expectPanic(t, "ts[1]", func() { Concat([]*Tensor{Zeros(2, 3), Zeros(3, 3)}, 1) })
	expectPanic(t, "ts[1]", func() { Concat([]*Tensor{Zeros(2, 3), Zeros(2, 3, 1)}, 0) })
	expectPanic(t, "ts is empty", func() { Concat(nil, 0) })
	expectPanic(t, "ts[2]", func() { Stack([]*Tensor{Zeros(2), Zeros(2), Zeros(3)}, 0) })
	expectPanic(t, "dim 3", func() { Stack([]*Tensor{Zeros(2)}, 3) })
	expectPanic(t, "sizes", func() { Split(Zeros(4, 2), []int{1, 2}, 0) })
	expectPanic(t, "sizes[1]", func() { Split(Zeros(4, 2), []int{5, -1}, 0) })
}
