// Package tensor provides float32 N-dimensional tensors with strided views and
// every forward operation of the engine, dispatched to the device's kernels.
//
// A Tensor is a view: shape, strides (in elements) and an offset into a shared
// Storage. Reshape (when possible), Permute, Transpose, Slice and Expand make new
// views without copying; Contiguous copies only when the view is not already
// row-major. Operations never modify their inputs and return fresh, contiguous
// tensors. Gradients are not recorded here: see package autograd.
package tensor
