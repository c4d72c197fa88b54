// Package cuda runs the engine's hand-written CUDA kernels without cgo and
// without a CUDA toolkit at build time.
//
// The CUDA driver (libcuda.so.1) and NVRTC are bound at run time with purego,
// so a CGO_ENABLED=0 binary still works on a GPU machine and degrades to one
// clear "running on CPU" line elsewhere. Kernels are plain .cu files embedded in
// the binary; they are compiled by NVRTC for the GPU that is found and cached on
// disk, keyed by a hash of source, options, NVRTC version and architecture.
//
// A CUDA context is current per OS thread, so every driver call of a Device is
// made by one goroutine locked to its thread (see Device.Do). Memory comes from
// a per-device caching allocator with explicit Free; nothing relies on
// finalizers.
//
// The package knows nothing about tensors or gradients: kernels take raw device
// pointers, sizes and strides, described in the comment at the top of each .cu
// file and mirrored by the Go parameter structs in params.go.
package cuda
