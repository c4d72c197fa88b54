//go:build amd64

package cpu

// spinPause is one PAUSE instruction: in a spin-wait loop it lets the core
// save power and its sibling hardware thread run, and keeps the loop from
// flooding the memory system with reads of the line it polls.
func spinPause()
