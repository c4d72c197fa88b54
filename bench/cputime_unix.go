//go:build unix

package bench

import (
	"syscall"
	"time"
)

// processCPUTime is the user and system CPU time of all the process's
// threads so far (getrusage RUSAGE_SELF).
func processCPUTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
