package sysmem

import "syscall"

// Total is the machine's physical memory in bytes (0 if unknown).
func Total() uint64 {
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) != nil {
		return 0
	}
	return uint64(si.Totalram) * uint64(si.Unit)
}
