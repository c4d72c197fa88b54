package tensor

import (
	"sync"

	"github.com/lafite-go/lafite/kernels/cpu"
)

// Frozen tensors are values declared constant: a frozen model's weights.
// A host matrix product whose right operand is a frozen tensor (a linear
// layer's weight, transposed) keeps that operand packed in the GEMM's layout
// and reuses it, instead of packing it again on every call.
//
// The writes of this package (CopyFrom, AdamStep, EMAUpdate) drop the packed
// copies, so they stay correct; writing through Data or StorageData does
// not, and must not be done to a frozen tensor (Thaw it first).
type frozenPacks struct {
	mu    sync.Mutex
	packs map[packKey]*cpu.PackedB
}

// packKey is the view of the storage a product read as its B.
type packKey struct {
	off, k, n, rowStride, colStride int
}

// Freeze declares t's values constant from now on (see frozenPacks). It
// costs nothing until a product uses t; a GPU tensor ignores it.
func (t *Tensor) Freeze() {
	if t.storage.device != CPU || t.storage.frozen != nil {
		return
	}
	t.storage.frozen = &frozenPacks{packs: map[packKey]*cpu.PackedB{}}
}

// Thaw undoes Freeze and drops the packed copies.
func (t *Tensor) Thaw() { t.storage.frozen = nil }

// Frozen reports whether t's storage is frozen.
func (t *Tensor) Frozen() bool { return t.storage != nil && t.storage.frozen != nil }

// changed drops the packed copies of a storage the package has written to.
func (s *Storage) changed() {
	if f := s.frozen; f != nil {
		f.mu.Lock()
		clear(f.packs)
		f.mu.Unlock()
	}
}

// packedB returns the packed copy of b [k, n] (a 2-d view of a frozen
// storage) for the active GEMM kernel, packing it on first use; nil when b
// is not frozen.
func packedB(b *Tensor, off, k, n, rowStride, colStride int) *cpu.PackedB {
	f := b.storage.frozen
	if f == nil {
		return nil
	}
	key := packKey{off, k, n, rowStride, colStride}
	f.mu.Lock()
	defer f.mu.Unlock()
	pb := f.packs[key]
	if pb == nil || !pb.Current() {
		pb = cpu.PackB(k, n, b.storage.data, off, rowStride, colStride)
		f.packs[key] = pb
	}
	return pb
}
