package autograd

import "github.com/lafite-go/lafite/tensor"

// gradBuffers hands the buffers of a backward pass's intermediate gradients
// back to the tensor pool as soon as nothing refers to them, in passes that
// record no graph (createGraph false). Without it every intermediate
// gradient is garbage for the GC, and each new one is a fresh, zeroed
// allocation: a 64x64 generator's backward made ~2 GB of them.
//
// Only buffers allocated since the pass began are candidates: values of the
// forward pass, cotangents passed in, and anything else older are never
// touched. A candidate is freed when the pending gradients (the pass's map
// from Var to gradient) hold no view of it, checked once a node's rule has
// returned and its results are stored, since one result may appear twice.
type gradBuffers struct {
	mark  uint64
	refs  map[*tensor.Storage]int
	maybe []*Var // lost a reference, or were never stored
}

// newGradBuffers starts counting; nil (when a graph is recorded, whose
// backward may read any of these) makes every method a no-op.
func newGradBuffers(free bool) *gradBuffers {
	if !free {
		return nil
	}
	return &gradBuffers{mark: tensor.BufferMark(), refs: map[*tensor.Storage]int{}}
}

func (b *gradBuffers) owned(g *Var) bool { return b != nil && g != nil && g.Value.PooledSince(b.mark) }

// hold counts g stored as a pending gradient.
func (b *gradBuffers) hold(g *Var) {
	if b.owned(g) {
		b.refs[g.Value.Buffer()]++
	}
}

// drop uncounts g, no longer pending.
func (b *gradBuffers) drop(g *Var) {
	if b.owned(g) {
		b.refs[g.Value.Buffer()]--
		b.maybe = append(b.maybe, g)
	}
}

// unstored notes a gradient made but not kept (added into another, or not
// needed).
func (b *gradBuffers) unstored(g *Var) {
	if b.owned(g) {
		b.maybe = append(b.maybe, g)
	}
}

// flush frees the noted buffers that no pending gradient refers to.
func (b *gradBuffers) flush() {
	if b == nil {
		return
	}
	for _, g := range b.maybe {
		if !b.owned(g) { // freed already through another view
			continue
		}
		key := g.Value.Buffer()
		if b.refs[key] <= 0 {
			delete(b.refs, key)
			g.Value.Release()
		}
	}
	clear(b.maybe)
	b.maybe = b.maybe[:0]
}
