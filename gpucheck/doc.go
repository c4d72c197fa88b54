// Package gpucheck is the GPU check of the engine, in its tests: every op on
// the GPU against the host reference on fresh random inputs (forward,
// gradient, gradient of gradient; outputs poisoned with NaN), the Lafite
// generator and discriminator likewise, and a timing table of the GPU ops
// against the device's measured FP32 peak and copy bandwidth.
//
// On a GPU machine: `make gpu-check` where Go is, then `.gpu/run.sh` (see
// kernels/cuda/NOTES.md). Without a GPU the same suites run against the
// kernel emulator (kernels/cuda/emu), which checks everything above the
// kernels: parameters, strides, offsets, grids, argument types, memory.
package gpucheck
