//go:build !amd64

package cpu

// spinPause would be the spin-wait hint; without assembly here, the poll
// loop's own reads pace it.
func spinPause() {}
