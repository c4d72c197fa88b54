package tensor

// EmulateCUDA makes a Go emulator of the kernels the CUDA device, so that the
// GPU conformance suite (package tensor_test) also runs on machines without a
// GPU. It returns the kernels launched so far ("entry=count") and a function
// that restores the real device.
func EmulateCUDA() (launches func() []string, restore func()) {
	e, restore := useEmulator()
	return e.launchCounts, restore
}

// EmulateCUDAWithout is EmulateCUDA with the given kernels turned into no-ops,
// to show that the suite catches outputs a kernel leaves unwritten.
func EmulateCUDAWithout(entries ...string) (restore func()) {
	e, restore := useEmulator()
	for _, n := range entries {
		e.drop[n] = true
	}
	return restore
}
