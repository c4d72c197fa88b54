//go:build !amd64

package cpu

// Only amd64 has assembly kernels so far; elsewhere the generic variant runs.
func archVariants() []variant { return nil }
