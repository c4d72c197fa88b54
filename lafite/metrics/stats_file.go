package metrics

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/gonum/mat"

	"github.com/lafite-go/lafite/safetensors"
)

// StatsFormat is the "format" metadata of a statistics file.
const StatsFormat = "lafite-go feature statistics v1"

// SaveStats writes s (float64, as computed) to a safetensors file, written
// whole or not at all: a dataset's Inception statistics take as long as
// the network's pass over every image, so an evaluation keeps them.
// about says what they are of (the dataset, the network).
func SaveStats(path string, s Stats, about string) error {
	d := len(s.Mean)
	if s.Cov == nil || s.Cov.SymmetricDim() != d {
		return fmt.Errorf("metrics: statistics with %d means and a covariance of another size", d)
	}
	f64 := func(v []float64) []byte {
		b := make([]byte, 8*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
		}
		return b
	}
	cov := make([]float64, 0, d*d)
	for i := range d {
		for j := range d {
			cov = append(cov, s.Cov.At(i, j))
		}
	}
	return safetensors.WriteFile(path, []*safetensors.Tensor{
		{Name: "mean", DType: safetensors.F64, Shape: []int{d}, Data: f64(s.Mean)},
		{Name: "cov", DType: safetensors.F64, Shape: []int{d, d}, Data: f64(cov)},
	}, map[string]string{"format": StatsFormat, "samples": strconv.Itoa(s.N), "about": about})
}

// LoadStats reads a file SaveStats wrote, with its about line.
func LoadStats(path string) (Stats, string, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return Stats{}, "", err
	}
	bad := func(format string, a ...any) (Stats, string, error) {
		return Stats{}, "", fmt.Errorf("statistics %s: %s", path, fmt.Sprintf(format, a...))
	}
	if f.Metadata["format"] != StatsFormat {
		return bad("not a statistics file (format %q)", f.Metadata["format"])
	}
	mean, ok1 := f.Get("mean")
	cov, ok2 := f.Get("cov")
	if !ok1 || !ok2 || mean.DType != safetensors.F64 || cov.DType != safetensors.F64 || len(mean.Shape) != 1 ||
		len(cov.Shape) != 2 || cov.Shape[0] != mean.Shape[0] || cov.Shape[1] != mean.Shape[0] || mean.Shape[0] < 1 {
		return bad("want float64 mean [D] and cov [D, D]")
	}
	n, err := strconv.Atoi(f.Metadata["samples"])
	if err != nil || n < 2 {
		return bad("samples %q", f.Metadata["samples"])
	}
	d := mean.Shape[0]
	read := func(b []byte) []float64 {
		v := make([]float64, len(b)/8)
		for i := range v {
			v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
		return v
	}
	m, c := read(mean.Data), read(cov.Data)
	for i := range d {
		for j := range i {
			if c[i*d+j] != c[j*d+i] {
				return bad("the covariance is not symmetric at (%d, %d)", i, j)
			}
		}
	}
	return Stats{Mean: m, Cov: mat.NewSymDense(d, c), N: n}, f.Metadata["about"], nil
}
