package tensor

import (
	"sync"
	"sync/atomic"
)

// HostScope collects the pooled host buffers allocated while it is open, so
// that code which makes short-lived tensors nothing records (a forward pass
// under NoGrad, the temporaries of a backward rule) can hand them back to the
// pool in one call: left to the GC, each is a fresh, zeroed allocation the
// next time. It is Scope's counterpart on the host, and like Scope it is
// meant for the one goroutine that computes: a tensor another goroutine
// allocates while the scope is open would be collected too. Scopes nest.
type HostScope struct {
	parent *HostScope
	owned  []*Storage
	closed bool
}

var (
	hostScopeMu  sync.Mutex
	curHostScope atomic.Pointer[HostScope]
)

// hostScopes keeps closed scopes for reuse: a backward pass opens one per
// rule, thousands a training step.
var hostScopes = sync.Pool{New: func() any { return new(HostScope) }}

// OpenHostScope starts collecting pooled host allocations.
func OpenHostScope() *HostScope {
	s := hostScopes.Get().(*HostScope)
	hostScopeMu.Lock()
	defer hostScopeMu.Unlock()
	s.parent, s.closed = curHostScope.Load(), false
	curHostScope.Store(s)
	return s
}

// trackHost adds a new pooled host storage to the open scope, if any.
func trackHost(st *Storage) {
	if curHostScope.Load() == nil {
		return
	}
	hostScopeMu.Lock()
	if s := curHostScope.Load(); s != nil {
		s.owned = append(s.owned, st)
	}
	hostScopeMu.Unlock()
}

// Close releases every pooled host buffer allocated since s was opened,
// except those under the keep tensors (and so their views), which pass to
// the enclosing scope. s must be the innermost open scope, and is not used
// again. Released tensors, and every view of them, must not be used again
// (their storage is emptied: a stray read fails rather than seeing another
// tensor's values). keep is a few tensors (a rule's gradients): each owned
// buffer is looked up in it by a scan.
func (s *HostScope) Close(keep ...*Tensor) {
	hostScopeMu.Lock()
	defer hostScopeMu.Unlock()
	if s.closed || curHostScope.Load() != s {
		panic("tensor.HostScope.Close: not the innermost open scope")
	}
	s.closed = true
	curHostScope.Store(s.parent)
	kept := func(st *Storage) bool {
		for _, t := range keep {
			if t != nil && t.storage == st {
				return true
			}
		}
		return false
	}
	for i, st := range s.owned {
		s.owned[i] = nil
		switch {
		case kept(st):
			if s.parent != nil {
				s.parent.owned = append(s.parent.owned, st)
			}
		case st.data != nil:
			freeBuffer(st.data)
			st.data = nil
		}
	}
	s.owned, s.parent = s.owned[:0], nil
	hostScopes.Put(s)
}
