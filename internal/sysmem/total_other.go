//go:build !linux

package sysmem

// Total is unknown here (0): Check lets every request through.
func Total() uint64 { return 0 }
