package bench

import (
	"os/exec"
	"runtime/debug"
	"strings"
	"sync"
)

var commitOnce = sync.OnceValue(func() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			if dirty {
				rev += "-dirty"
			}
			return rev
		}
	}
	// Binaries built with -buildvcs=false (and test binaries) carry no VCS
	// stamp: ask git about the working directory instead.
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	rev := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		rev += "-dirty"
	}
	return rev
})

// Commit is the source revision the records come from: the binary's VCS stamp,
// else git's HEAD of the working directory ("-dirty" with uncommitted changes),
// else "unknown".
func Commit() string { return commitOnce() }
