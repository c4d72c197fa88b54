// Package safetensors reads and writes the safetensors format: an 8-byte
// little-endian header length, a JSON header naming each tensor's dtype, shape
// and byte range, then the raw little-endian data.
//
// Minimal reader used by the golden tests; the full validated reader/writer
// replaces this file.
package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
)

// DType is a safetensors element type name.
type DType string

const (
	F32 DType = "F32"
	F64 DType = "F64"
	I64 DType = "I64"
	I32 DType = "I32"
)

// Tensor is one named tensor's raw bytes.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// File is a parsed safetensors file.
type File struct {
	Path     string
	Metadata map[string]string
	Tensors  map[string]*Tensor
	Order    []string
}

// ReadFile reads and parses path.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b, path)
}

// Parse parses an in-memory file; name is used in errors.
func Parse(b []byte, name string) (*File, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("safetensors %s: file too short for a header", name)
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(b)-8) {
		return nil, fmt.Errorf("safetensors %s: header length %d exceeds file size", name, n)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &raw); err != nil {
		return nil, fmt.Errorf("safetensors %s: bad header: %v", name, err)
	}
	data := b[8+n:]
	f := &File{Path: name, Tensors: map[string]*Tensor{}}
	for k, v := range raw {
		if k == "__metadata__" {
			if err := json.Unmarshal(v, &f.Metadata); err != nil {
				return nil, fmt.Errorf("safetensors %s: bad metadata: %v", name, err)
			}
			continue
		}
		var h struct {
			DType   DType  `json:"dtype"`
			Shape   []int  `json:"shape"`
			Offsets [2]int `json:"data_offsets"`
		}
		if err := json.Unmarshal(v, &h); err != nil {
			return nil, fmt.Errorf("safetensors %s: tensor %q: %v", name, k, err)
		}
		if h.Offsets[0] < 0 || h.Offsets[0] > h.Offsets[1] || h.Offsets[1] > len(data) {
			return nil, fmt.Errorf("safetensors %s: tensor %q: byte range %v outside data", name, k, h.Offsets)
		}
		f.Tensors[k] = &Tensor{Name: k, DType: h.DType, Shape: h.Shape, Data: data[h.Offsets[0]:h.Offsets[1]]}
		f.Order = append(f.Order, k)
	}
	sort.Strings(f.Order)
	return f, nil
}

// Get returns the named tensor.
func (f *File) Get(name string) (*Tensor, bool) {
	t, ok := f.Tensors[name]
	return t, ok
}

// Numel is the number of elements.
func (t *Tensor) Numel() int {
	n := 1
	for _, s := range t.Shape {
		n *= s
	}
	return n
}

// Float32 converts the data to float32.
func (t *Tensor) Float32() ([]float32, error) {
	n := t.Numel()
	out := make([]float32, n)
	switch t.DType {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
		}
	case F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(t.Data[8*i:])))
		}
	default:
		return nil, fmt.Errorf("safetensors: tensor %q has dtype %s, not a float type", t.Name, t.DType)
	}
	return out, nil
}

// Int64 converts integer data to int64.
func (t *Tensor) Int64() ([]int64, error) {
	n := t.Numel()
	out := make([]int64, n)
	switch t.DType {
	case I64:
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
		}
	case I32:
		for i := range out {
			out[i] = int64(int32(binary.LittleEndian.Uint32(t.Data[4*i:])))
		}
	default:
		return nil, fmt.Errorf("safetensors: tensor %q has dtype %s, not an integer type", t.Name, t.DType)
	}
	return out, nil
}
