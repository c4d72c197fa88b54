// Package sysmem tells how much memory the machine has, so that a request
// that cannot fit (a dataset at a huge resolution, a file larger than
// memory) is refused with a message instead of ending in the runtime's
// fatal out-of-memory error, which no caller can recover from.
package sysmem

import "fmt"

// Check returns an error naming what if need bytes exceed the machine's
// memory; where the total is unknown it lets the request through.
func Check(need uint64, what string) error {
	if total := Total(); total > 0 && need > total {
		return fmt.Errorf("%s needs %s, more than this machine's %s of memory", what, Size(need), Size(total))
	}
	return nil
}

// Size writes a byte count for people: 1.5 GB, 340 MB.
func Size(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.0f MB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", b)
}
