package tensor

import "testing"

// TestCropResizeBicubicRejectsBadWindows: a window outside x, an empty one,
// or an output size below 1 is refused with a message naming it.
func TestCropResizeBicubicRejectsBadWindows(t *testing.T) {
	x, g := Ones(1, 3, 8, 6), Ones(1, 3, 5, 5)
	for _, win := range []CropWindow{{Top: -1, H: 2, W: 2}, {Left: 5, H: 2, W: 2}, {Top: 7, H: 2, W: 1}, {H: 0, W: 3}, {H: 3, W: 7}} {
		expectPanic(t, "is not a non-empty part of 8 x 6", func() { CropResizeBicubic(x, win, 4, 4) })
		expectPanic(t, "is not a non-empty part of 8 x 6", func() { CropResizeBicubicBackward(g, 8, 6, win) })
	}
	expectPanic(t, "outH, outW = 0, 4 must be >= 1", func() { CropResizeBicubic(x, CropWindow{H: 2, W: 2}, 0, 4) })
	expectPanic(t, "needs at least 2 dims", func() { CropResizeBicubic(Ones(5), CropWindow{H: 1, W: 1}, 2, 2) })
	// The adjoint's result is zero outside the window.
	d := CropResizeBicubicBackward(g, 8, 6, CropWindow{Top: 2, Left: 1, H: 3, W: 4})
	for i, v := range d.ToSlice() {
		r, c := i/6%8, i%6
		if inside := r >= 2 && r < 5 && c >= 1 && c < 5; !inside && v != 0 || inside && v == 0 {
			t.Fatalf("adjoint at (%d, %d) = %v", r, c, v)
		}
	}
}
