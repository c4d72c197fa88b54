//go:build !unix

package bench

import "time"

// processCPUTime is not measured here: records carry no cpu_ms.
func processCPUTime() (time.Duration, bool) { return 0, false }
