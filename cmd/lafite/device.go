package main

import (
	"fmt"
	"strings"

	"github.com/lafite-go/lafite/tensor"
)

// parseDevice reads a --device flag: cpu, or cuda (gpu is accepted too).
func parseDevice(s string) (tensor.Device, error) {
	switch s {
	case "cpu":
		return tensor.CPU, nil
	case "cuda", "gpu":
		return tensor.CUDA, nil
	}
	return tensor.CPU, fmt.Errorf("--device %q: want cpu or cuda", s)
}

// requireCUDA is nil when tensors can move to the GPU, else the one-line
// error that --device cuda stops with.
func requireCUDA() error {
	if err := tensor.CUDAAvailable(); err != nil {
		msg := strings.ReplaceAll(strings.ReplaceAll(err.Error(), "\n", "; "), ": running on CPU", "")
		return fmt.Errorf("--device cuda: no usable GPU: %s", msg)
	}
	return nil
}
