// Package safetensors reads and writes the safetensors format
// (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length, a JSON header describing every tensor, then the raw
// little-endian tensor bytes.
//
// The package deliberately knows nothing about the engine's tensors: it hands
// out names, dtypes, shapes and bytes, so that golden files, checkpoints and
// tools can share one loader without import cycles. Every malformed input is
// reported as an error that names the file and the problem; nothing panics
// (see DESIGN.md, principle 7, and FuzzParse).
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"sort"
	"strings"

	"github.com/lafite-go/lafite/internal/atomicfile"
	"github.com/lafite-go/lafite/internal/sysmem"
)

// DType is a safetensors element type, spelled as in the JSON header.
type DType string

// The element types of the format that this package understands.
const (
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
	F64  DType = "F64"
	I64  DType = "I64"
	I32  DType = "I32"
	I16  DType = "I16"
	I8   DType = "I8"
	U8   DType = "U8"
	Bool DType = "BOOL"
)

// Size is the number of bytes of one element, or 0 for an unknown dtype.
func (d DType) Size() int {
	switch d {
	case F64, I64:
		return 8
	case F32, I32:
		return 4
	case F16, BF16, I16:
		return 2
	case I8, U8, Bool:
		return 1
	}
	return 0
}

// IsFloat reports whether Float32 can convert tensors of this dtype.
func (d DType) IsFloat() bool {
	return d == F32 || d == F16 || d == BF16 || d == F64
}

// MaxHeaderSize bounds the JSON header. Real headers are kilobytes; a larger
// value means a corrupt or hostile file, and refusing it keeps a bad length
// from turning into a huge allocation.
const MaxHeaderSize = 100 << 20

const metadataKey = "__metadata__"

// Tensor is one named tensor. Data holds Numel()*DType.Size() little-endian
// bytes in row-major order.
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
	// Order lists the tensor names by data offset, which is the order the
	// writer chose; useful for deterministic iteration and diagnostics.
	Order []string
}

// Get returns the tensor with the given name.
func (f *File) Get(name string) (*Tensor, bool) {
	t, ok := f.Tensors[name]
	return t, ok
}

// Elements is the number of elements of the tensors whose names start with
// prefix ("": all of them), from the header alone: what a loader can check
// a configuration against before it allocates the model.
func (f *File) Elements(prefix string) int64 {
	var n int64
	for name, t := range f.Tensors {
		if strings.HasPrefix(name, prefix) {
			n += int64(t.Numel())
		}
	}
	return n
}

// Numel is the number of elements (1 for a scalar of shape []).
func (t *Tensor) Numel() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

func (t *Tensor) checkSize() error {
	n, ok := numel(t.Shape)
	if !ok {
		return fmt.Errorf("safetensors: tensor %q: invalid shape %v", t.Name, t.Shape)
	}
	sz := t.DType.Size()
	if sz == 0 {
		return fmt.Errorf("safetensors: tensor %q: unknown dtype %q", t.Name, t.DType)
	}
	if n > math.MaxInt/sz || len(t.Data) != n*sz {
		return fmt.Errorf("safetensors: tensor %q: %s shape %v needs %d bytes, has %d",
			t.Name, t.DType, t.Shape, n*sz, len(t.Data))
	}
	return nil
}

// Float32 converts a floating-point tensor to float32. F64 values are
// rounded to nearest; F16 and BF16 are widened exactly.
func (t *Tensor) Float32() ([]float32, error) {
	if !t.DType.IsFloat() {
		return nil, fmt.Errorf("safetensors: tensor %q: dtype %s is not a floating-point type", t.Name, t.DType)
	}
	if err := t.checkSize(); err != nil {
		return nil, err
	}
	b := t.Data
	out := make([]float32, len(b)/t.DType.Size())
	le := binary.LittleEndian
	switch t.DType {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
	case F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(le.Uint64(b[8*i:])))
		}
	case F16:
		for i := range out {
			out[i] = HalfToFloat32(le.Uint16(b[2*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = BFloat16ToFloat32(le.Uint16(b[2*i:]))
		}
	}
	return out, nil
}

// Int64 converts an integer or boolean tensor to int64 (true is 1).
func (t *Tensor) Int64() ([]int64, error) {
	if t.DType.IsFloat() {
		return nil, fmt.Errorf("safetensors: tensor %q: dtype %s is not an integer type", t.Name, t.DType)
	}
	if err := t.checkSize(); err != nil {
		return nil, err
	}
	b := t.Data
	out := make([]int64, len(b)/t.DType.Size())
	le := binary.LittleEndian
	switch t.DType {
	case I64:
		for i := range out {
			out[i] = int64(le.Uint64(b[8*i:]))
		}
	case I32:
		for i := range out {
			out[i] = int64(int32(le.Uint32(b[4*i:])))
		}
	case I16:
		for i := range out {
			out[i] = int64(int16(le.Uint16(b[2*i:])))
		}
	case I8:
		for i := range out {
			out[i] = int64(int8(b[i]))
		}
	case U8:
		for i := range out {
			out[i] = int64(b[i])
		}
	case Bool:
		for i := range out {
			if b[i] != 0 {
				out[i] = 1
			}
		}
	}
	return out, nil
}

// F32Tensor builds a float32 tensor for Encode/WriteFile.
func F32Tensor(name string, shape []int, data []float32) *Tensor {
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return &Tensor{Name: name, DType: F32, Shape: append([]int{}, shape...), Data: b}
}

// I64Tensor builds an int64 tensor for Encode/WriteFile.
func I64Tensor(name string, shape []int, data []int64) *Tensor {
	b := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
	}
	return &Tensor{Name: name, DType: I64, Shape: append([]int{}, shape...), Data: b}
}

// numel multiplies the dimensions, reporting false on a negative dimension or
// on overflow. A zero dimension makes the product 0 whatever the others are.
func numel(shape []int) (int, bool) {
	n := 1
	overflow := false
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d == 0 {
			return 0, true
		}
		hi, lo := bits.Mul64(uint64(n), uint64(d))
		if hi != 0 || lo > math.MaxInt {
			overflow = true
			continue // keep scanning: a later zero dimension still makes it 0
		}
		n = int(lo)
	}
	return n, !overflow
}

type headerEntry struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// Parse decodes a safetensors file held in memory. The returned tensors'
// Data slices alias data (no copy), so data must not be modified afterwards.
// name is only used in error messages.
func Parse(data []byte, name string) (*File, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("safetensors: %s: "+format, append([]any{name}, args...)...)
	}
	if len(data) < 8 {
		return nil, fail("file is %d bytes, too short for the 8-byte header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > MaxHeaderSize {
		return nil, fail("header length %d is absurd (limit %d bytes); not a safetensors file?", n, MaxHeaderSize)
	}
	if n > uint64(len(data)-8) {
		return nil, fail("header length %d exceeds the file size %d (truncated?)", n, len(data))
	}
	header := data[8 : 8+n]
	body := data[8+n:]

	dec := json.NewDecoder(bytes.NewReader(header))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fail("invalid JSON header: expected an object")
	}
	f := &File{Path: name, Metadata: map[string]string{}, Tensors: map[string]*Tensor{}}
	type region struct {
		name       string
		begin, end int64
	}
	var regions []region
	sawMetadata := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fail("invalid JSON header: %v", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fail("invalid JSON header: expected a key, got %v", tok)
		}
		if _, dup := f.Tensors[key]; dup || (key == metadataKey && sawMetadata) {
			return nil, fail("duplicate header entry %q", key)
		}
		if key == metadataKey {
			sawMetadata = true
			var md map[string]string
			if err := dec.Decode(&md); err != nil {
				return nil, fail("invalid __metadata__ (must map strings to strings): %v", err)
			}
			for k, v := range md {
				f.Metadata[k] = v
			}
			continue
		}
		var e headerEntry
		if err := dec.Decode(&e); err != nil {
			return nil, fail("tensor %q: invalid header entry: %v", key, err)
		}
		if e.DType == nil || e.Shape == nil || e.DataOffsets == nil {
			return nil, fail("tensor %q: header entry needs dtype, shape and data_offsets", key)
		}
		dt := DType(*e.DType)
		if dt.Size() == 0 {
			return nil, fail("tensor %q: unknown dtype %q", key, *e.DType)
		}
		shape := make([]int, len(*e.Shape))
		for i, d := range *e.Shape {
			if d < 0 {
				return nil, fail("tensor %q: negative dimension %d in shape %v", key, d, *e.Shape)
			}
			if uint64(d) > math.MaxInt {
				return nil, fail("tensor %q: dimension %d too large", key, d)
			}
			shape[i] = int(d)
		}
		cnt, ok := numel(shape)
		if !ok || cnt > math.MaxInt/dt.Size() {
			return nil, fail("tensor %q: element count of shape %v overflows", key, shape)
		}
		off := *e.DataOffsets
		if len(off) != 2 {
			return nil, fail("tensor %q: data_offsets must be [begin, end], got %v", key, off)
		}
		begin, end := off[0], off[1]
		if begin < 0 || end < 0 || begin > end {
			return nil, fail("tensor %q: invalid data_offsets [%d, %d]", key, begin, end)
		}
		if end > int64(len(body)) {
			return nil, fail("tensor %q: data_offsets [%d, %d] out of range: data section is %d bytes (truncated?)",
				key, begin, end, len(body))
		}
		if want := int64(cnt) * int64(dt.Size()); end-begin != want {
			return nil, fail("tensor %q: %s shape %v needs %d bytes but data_offsets [%d, %d] span %d",
				key, dt, shape, want, begin, end, end-begin)
		}
		f.Tensors[key] = &Tensor{Name: key, DType: dt, Shape: shape, Data: body[begin:end:end]}
		regions = append(regions, region{key, begin, end})
	}
	if _, err := dec.Token(); err != nil { // closing '}'
		return nil, fail("invalid JSON header: %v", err)
	}
	if rest := strings.TrimSpace(string(header[dec.InputOffset():])); rest != "" {
		return nil, fail("invalid JSON header: trailing data after the object")
	}

	// Regions may come in any order and gaps are tolerated, but two tensors
	// must never share bytes: writing one would silently change the other.
	sort.Slice(regions, func(i, j int) bool {
		if regions[i].begin != regions[j].begin {
			return regions[i].begin < regions[j].begin
		}
		return regions[i].name < regions[j].name
	})
	for i := 1; i < len(regions); i++ {
		p, r := regions[i-1], regions[i]
		if r.begin < p.end && r.begin < r.end {
			return nil, fail("tensors %q [%d, %d] and %q [%d, %d] overlap", p.name, p.begin, p.end, r.name, r.begin, r.end)
		}
	}
	f.Order = make([]string, len(regions))
	for i, r := range regions {
		f.Order[i] = r.name
	}
	return f, nil
}

// ReadFile reads and parses a safetensors file.
func ReadFile(path string) (*File, error) {
	if st, err := os.Stat(path); err == nil {
		if err := sysmem.Check(uint64(st.Size()), "safetensors: "+path); err != nil {
			return nil, err
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	return Parse(data, path)
}

// Encode serialises tensors in a deterministic layout: tensors sorted by
// element size (largest first) then name, so that every tensor starts at a
// multiple of its element size, and the header padded with spaces to a
// multiple of 8 bytes as the reference implementation does. The input order
// does not matter.
func Encode(tensors []*Tensor, metadata map[string]string) ([]byte, error) {
	var out bytes.Buffer
	if err := Write(&out, tensors, metadata); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Write streams Encode's bytes to w: the header, then each tensor's data
// from its own slice, so a file as large as the memory it describes (a
// checkpoint, a dataset's pixels) is written without a second copy.
func Write(w io.Writer, tensors []*Tensor, metadata map[string]string) error {
	header, sorted, err := encodeHeader(tensors, metadata)
	if err != nil {
		return err
	}
	if _, err := w.Write(header); err != nil {
		return err
	}
	for _, t := range sorted {
		if _, err := w.Write(t.Data); err != nil {
			return err
		}
	}
	return nil
}

// encodeHeader checks the tensors and returns the file's first bytes (the
// header's length and the padded header) and the tensors in file order.
func encodeHeader(tensors []*Tensor, metadata map[string]string) ([]byte, []*Tensor, error) {
	sorted := append([]*Tensor{}, tensors...)
	seen := map[string]bool{}
	for _, t := range sorted {
		if t == nil {
			return nil, nil, errors.New("safetensors: encode: nil tensor")
		}
		if t.Name == metadataKey {
			return nil, nil, fmt.Errorf("safetensors: encode: %q is reserved", metadataKey)
		}
		if seen[t.Name] {
			return nil, nil, fmt.Errorf("safetensors: encode: duplicate tensor name %q", t.Name)
		}
		seen[t.Name] = true
		if err := t.checkSize(); err != nil {
			return nil, nil, fmt.Errorf("safetensors: encode: %w", err)
		}
	}
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.DType.Size() != b.DType.Size() {
			return a.DType.Size() > b.DType.Size()
		}
		return a.Name < b.Name
	})

	var h bytes.Buffer
	h.Write(make([]byte, 8)) // the length, filled in below
	h.WriteByte('{')
	if len(metadata) > 0 {
		keys := make([]string, 0, len(metadata))
		for k := range metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		h.WriteString(`"__metadata__":{`)
		for i, k := range keys {
			if i > 0 {
				h.WriteByte(',')
			}
			writeJSONString(&h, k)
			h.WriteByte(':')
			writeJSONString(&h, metadata[k])
		}
		h.WriteByte('}')
	}
	var offset int
	for i, t := range sorted {
		if i > 0 || len(metadata) > 0 {
			h.WriteByte(',')
		}
		writeJSONString(&h, t.Name)
		fmt.Fprintf(&h, `:{"dtype":"%s","shape":[`, t.DType)
		for j, d := range t.Shape {
			if j > 0 {
				h.WriteByte(',')
			}
			fmt.Fprintf(&h, "%d", d)
		}
		fmt.Fprintf(&h, `],"data_offsets":[%d,%d]}`, offset, offset+len(t.Data))
		offset += len(t.Data)
	}
	h.WriteByte('}')
	for (h.Len()-8)%8 != 0 {
		h.WriteByte(' ')
	}
	if h.Len()-8 > MaxHeaderSize {
		return nil, nil, fmt.Errorf("safetensors: encode: header of %d bytes exceeds the %d-byte limit", h.Len()-8, MaxHeaderSize)
	}
	out := h.Bytes()
	binary.LittleEndian.PutUint64(out, uint64(len(out)-8))
	return out, sorted, nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s) // marshalling a string cannot fail
	b.Write(enc)
}

// WriteFile encodes tensors and replaces path atomically: the bytes go to a
// temporary file in the same directory, which is synced and then renamed over
// path. A crash or error at any point leaves either the old file or the new
// one, never a partial file (DESIGN.md, principle 7). The bytes are streamed
// (Write), not assembled in memory first.
func WriteFile(path string, tensors []*Tensor, metadata map[string]string) error {
	err := atomicfile.Write(path, func(w io.Writer) error {
		return Write(w, tensors, metadata)
	})
	if err != nil {
		return fmt.Errorf("safetensors: %s: %w", path, err)
	}
	return nil
}
