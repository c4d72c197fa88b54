package tensor

import "testing"

// TestHostScope: Close hands back the pooled buffers made while the scope
// was open and empties their storage, except kept ones (and views of them),
// which pass to the enclosing scope and are released when that one closes
// without them; buffers made before, and wrapped user data, are untouched.
func TestHostScope(t *testing.T) {
	before := New([]float32{1, 2}, 2)
	user := FromSlice([]float32{3, 4}, 2)
	live0, _ := MemoryStats()

	outer := OpenHostScope()
	inner := OpenHostScope()
	tmp := Full(7, 1000)
	kept := Full(5, 1000)
	view := kept.Reshape(10, 100)
	sum := Add(before, user) // an op's result is tracked too
	func() {
		defer func() {
			if recover() == nil {
				t.Error("closing the outer scope first did not panic")
			}
		}()
		outer.Close()
	}()
	inner.Close(view)
	if tmp.storage.data != nil || sum.storage.data != nil {
		t.Error("temporaries still hold their buffers after Close")
	}
	if got := kept.ToSlice()[999]; got != 5 {
		t.Errorf("kept tensor reads %v, want 5", got)
	}
	if live, _ := MemoryStats(); live-live0 != 4*1024 {
		t.Errorf("%d bytes in use after the inner scope, want the kept buffer's %d", live-live0, 4*1024)
	}
	outer.Close()
	if kept.storage.data != nil {
		t.Error("the kept tensor survived the enclosing scope's Close")
	}
	if live, _ := MemoryStats(); live != live0 {
		t.Errorf("%d bytes in use after both scopes, want %d", live, live0)
	}
	if before.ToSlice()[1] != 2 || user.ToSlice()[1] != 4 {
		t.Error("a tensor made before the scopes changed")
	}
	// Nothing is tracked with no scope open.
	OpenHostScope().Close()
	free := Full(1, 10)
	if curHostScope.Load() != nil || free.storage.data == nil {
		t.Error("a tensor made after the scopes closed was touched")
	}
}
