package tensor

import "testing"

func TestIndexSelectMatchesNaive(t *testing.T) {
	x := NewRNG(6).Normal(3, 4, 5)
	idx := []int{2, 0, 2, 1}
	for dim := -3; dim < 3; dim++ {
		d := NormDim(dim, 3)
		for name, xl := range layouts(x) {
			out := IndexSelect(xl, dim, idx)
			forEachIndex(out.Shape(), func(i []int) {
				src := append([]int(nil), i...)
				src[d] = idx[i[d]]
				if got, want := out.At(i...), x.At(src...); got != want {
					t.Fatalf("dim %d %s: out%v = %v, want %v", dim, name, i, got, want)
				}
			})
		}
	}
}

func TestIndexAddIsAdjointOfIndexSelect(t *testing.T) {
	rng := NewRNG(7)
	x := rng.Normal(3, 4, 5)
	idx := []int{3, 3, 0, 1, 3} // repeats accumulate
	ax := IndexSelect(x, 1, idx)
	y := rng.Normal(ax.Shape()...)
	aty := IndexAdd(x.Shape(), 1, idx, transposedLayout(y))
	checkAdjoint(t, "index_add", ax, y, x, aty)
	// Naive: untouched row 2 is zero, row 3 sums three slices.
	forEachIndex([]int{3, 5}, func(i []int) {
		if v := aty.At(i[0], 2, i[1]); v != 0 {
			t.Fatalf("untouched row got %v", v)
		}
		want := y.At(i[0], 0, i[1]) + y.At(i[0], 1, i[1]) + y.At(i[0], 4, i[1])
		if v := aty.At(i[0], 3, i[1]); v != want {
			t.Fatalf("row 3 = %v, want %v", v, want)
		}
	})
}

func TestGatherMatchesNaive(t *testing.T) {
	rng := NewRNG(8)
	x := rng.Normal(3, 4, 5)
	for dim := 0; dim < 3; dim++ {
		idxShape := []int{2, 3, 4}
		idxShape[dim] = 6 // longer than x along dim: allowed
		n := numel(idxShape)
		idx := make([]int, n)
		for i := range idx {
			idx[i] = (i*7 + 3) % x.Size(dim)
		}
		for name, xl := range layouts(x) {
			out := Gather(xl, dim, idx, idxShape)
			p := 0
			forEachIndex(idxShape, func(i []int) {
				src := append([]int(nil), i...)
				src[dim] = idx[p]
				if got, want := out.At(i...), x.At(src...); got != want {
					t.Fatalf("dim %d %s: out%v = %v, want %v", dim, name, i, got, want)
				}
				p++
			})
		}
		y := rng.Normal(idxShape...)
		checkAdjoint(t, "scatter_add", Gather(x, dim, idx, idxShape), y, x, ScatterAdd(x.Shape(), dim, idx, strided(y)))
	}
}

func TestEmbeddingMatchesRows(t *testing.T) {
	w := NewRNG(9).Normal(5, 4)
	ids := []int{4, 0, 4, 2, 1, 3}
	for name, wl := range layouts(w) {
		out := Embedding(wl, ids, []int{2, 3})
		if !SameShape(out.Shape(), []int{2, 3, 4}) {
			t.Fatalf("%s: shape %v", name, out.Shape())
		}
		forEachIndex(out.Shape(), func(i []int) {
			if got, want := out.At(i...), w.At(ids[i[0]*3+i[1]], i[2]); got != want {
				t.Fatalf("%s: out%v = %v, want %v", name, i, got, want)
			}
		})
	}
}

func TestRepeatMatchesNaive(t *testing.T) {
	x := NewRNG(10).Normal(2, 3)
	for name, xl := range layouts(x) {
		out := Repeat(xl, 2, 1, 3)
		if !SameShape(out.Shape(), []int{2, 2, 9}) {
			t.Fatalf("%s: shape %v", name, out.Shape())
		}
		forEachIndex(out.Shape(), func(i []int) {
			if got, want := out.At(i...), x.At(i[1]%2, i[2]%3); got != want {
				t.Fatalf("%s: out%v = %v, want %v", name, i, got, want)
			}
		})
	}
	tl := Tile(x, 2)
	if !SameShape(tl.Shape(), []int{2, 6}) || tl.At(1, 4) != x.At(1, 1) {
		t.Fatalf("tile: %v", tl.Shape())
	}
	if z := Repeat(x, 0, 2); z.Numel() != 0 || z.Size(1) != 6 {
		t.Fatalf("zero reps: shape %v", z.Shape())
	}
}

func TestIndexErrorsNameArguments(t *testing.T) {
	x := Zeros(3, 4)
	expectPanic(t, "idx[2] = 3", func() { IndexSelect(x, 0, []int{0, 1, 3}) })
	expectPanic(t, "idx[0] = -1", func() { IndexSelect(x, 1, []int{-1}) })
	expectPanic(t, "idx[1] = 4", func() { IndexAdd([]int{3, 4}, 1, []int{0, 4}, Zeros(3, 2)) })
	expectPanic(t, "src", func() { IndexAdd([]int{3, 4}, 1, []int{0, 1}, Zeros(3, 3)) })
	expectPanic(t, "ids[3] = 5", func() { Embedding(Zeros(5, 2), []int{0, 1, 2, 5}, []int{4}) })
	expectPanic(t, "idsShape", func() { Embedding(Zeros(5, 2), []int{0, 1}, []int{3}) })
	expectPanic(t, "weight", func() { Embedding(Zeros(5), []int{0}, []int{1}) })
	expectPanic(t, "idx[1] = 9", func() { Gather(x, 1, []int{0, 9}, []int{1, 2}) })
	expectPanic(t, "idxShape", func() { Gather(x, 1, []int{0, 1}, []int{2}) })
	expectPanic(t, "idxShape", func() { Gather(x, 1, []int{0, 1, 2, 3}, []int{4, 1}) })
	expectPanic(t, "idx[0] = 7", func() { ScatterAdd([]int{3, 4}, 0, []int{7}, Zeros(1, 1)) })
	expectPanic(t, "reps", func() { Repeat(x, 2) })
	expectPanic(t, "reps[1]", func() { Repeat(x, 2, -1) })
}
