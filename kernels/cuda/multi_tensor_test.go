package cuda

import "testing"

// MultiTensorBatches leaves empty tensors out, fills each launch with
// MultiMax tensors, and gives tensor k of a launch ceil(n/MultiChunk)
// blocks from BlockStart[k], the grid covering the last.
func TestMultiTensorBatches(t *testing.T) {
	var n []int64
	var ptrs [][4]DevicePtr
	for i := 0; i < 2*MultiMax+3; i++ {
		n = append(n, []int64{0, 1, MultiChunk, MultiChunk + 1, 5 * MultiChunk}[i%5])
		ptrs = append(ptrs, [4]DevicePtr{DevicePtr(1000 + i), DevicePtr(2000 + i), DevicePtr(3000 + i), DevicePtr(4000 + i)})
	}
	bs := MultiTensorBatches(n, ptrs)
	nonEmpty := 0
	for _, v := range n {
		if v > 0 {
			nonEmpty++
		}
	}
	if want := (nonEmpty + MultiMax - 1) / MultiMax; len(bs) != want {
		t.Fatalf("%d batches for %d tensors, want %d", len(bs), nonEmpty, want)
	}
	i := 0 // the next input tensor
	for bi, b := range bs {
		if bi < len(bs)-1 && b.Count != MultiMax {
			t.Fatalf("batch %d holds %d tensors, want %d", bi, b.Count, MultiMax)
		}
		if b.Chunk != MultiChunk || b.BlockStart[0] != 0 {
			t.Fatalf("batch %d: chunk %d, first block %d", bi, b.Chunk, b.BlockStart[0])
		}
		for k := 0; k < int(b.Count); k++ {
			for n[i] == 0 {
				i++
			}
			if b.N[k] != n[i] || b.A[k] != ptrs[i][0] || b.B[k] != ptrs[i][1] || b.C[k] != ptrs[i][2] || b.D[k] != ptrs[i][3] {
				t.Fatalf("batch %d tensor %d: n %d ptrs %v %v %v %v, want input %d", bi, k, b.N[k], b.A[k], b.B[k], b.C[k], b.D[k], i)
			}
			if got, want := b.BlockStart[k+1]-b.BlockStart[k], int32((n[i]+MultiChunk-1)/MultiChunk); got != want {
				t.Fatalf("batch %d tensor %d of %d elements: %d blocks, want %d", bi, k, n[i], got, want)
			}
			i++
		}
		if b.Grid().X != uint32(b.BlockStart[b.Count]) {
			t.Fatalf("batch %d: grid %v, blocks %d", bi, b.Grid(), b.BlockStart[b.Count])
		}
	}
	if len(MultiTensorBatches([]int64{0, 0}, make([][4]DevicePtr, 2))) != 0 {
		t.Fatal("empty tensors alone made a launch")
	}
}
