// Package cpu holds the CPU compute kernels of the engine. Every kernel works on
// raw []float32 slices plus shapes and strides; none knows about tensors or
// gradients. Each kernel has an obviously-correct scalar reference (files named
// *_ref.go, functions suffixed Ref); faster variants are tested against it.
package cpu
