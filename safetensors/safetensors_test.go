package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/internal/goldendir"
)

func sample() []*Tensor {
	return []*Tensor{
		F32Tensor("w", []int{2, 3}, []float32{1, -2, 3.5, 0, float32(math.Inf(1)), -0.25}),
		I64Tensor("ids", []int{4}, []int64{0, -1, math.MaxInt64, math.MinInt64}),
		F32Tensor("scalar", []int{}, []float32{42}),
		F32Tensor("empty", []int{0, 5}, nil),
		{Name: "mask", DType: Bool, Shape: []int{3}, Data: []byte{1, 0, 1}},
	}
}

func TestRoundTrip(t *testing.T) {
	md := map[string]string{"op": "test", "quote": `a "b" \ é`}
	data, err := Encode(sample(), md)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(data, "mem")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Metadata, md) {
		t.Errorf("metadata = %v, want %v", f.Metadata, md)
	}
	// Largest element size first, then by name.
	if want := []string{"ids", "empty", "scalar", "w", "mask"}; !reflect.DeepEqual(f.Order, want) {
		t.Errorf("order = %v, want %v", f.Order, want)
	}
	w, _ := f.Get("w")
	got, err := w.Float32()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []float32{1, -2, 3.5, 0, float32(math.Inf(1)), -0.25}) || !reflect.DeepEqual(w.Shape, []int{2, 3}) {
		t.Errorf("w = %v %v", w.Shape, got)
	}
	ids, _ := f.Get("ids")
	gi, err := ids.Int64()
	if err != nil || !reflect.DeepEqual(gi, []int64{0, -1, math.MaxInt64, math.MinInt64}) {
		t.Errorf("ids = %v, %v", gi, err)
	}
	s, _ := f.Get("scalar")
	if s.Numel() != 1 || len(s.Shape) != 0 {
		t.Errorf("scalar shape %v numel %d", s.Shape, s.Numel())
	}
	e, _ := f.Get("empty")
	if e.Numel() != 0 || !reflect.DeepEqual(e.Shape, []int{0, 5}) {
		t.Errorf("empty shape %v", e.Shape)
	}
	m, _ := f.Get("mask")
	if gm, err := m.Int64(); err != nil || !reflect.DeepEqual(gm, []int64{1, 0, 1}) {
		t.Errorf("mask = %v, %v", gm, err)
	}
	if _, err := w.Int64(); err == nil || !strings.Contains(err.Error(), "not an integer type") {
		t.Errorf("Int64 of F32: %v", err)
	}
	if _, err := ids.Float32(); err == nil || !strings.Contains(err.Error(), "not a floating-point type") {
		t.Errorf("Float32 of I64: %v", err)
	}
	if _, ok := f.Get("nope"); ok {
		t.Error("Get of a missing name succeeded")
	}
}

func TestEncodeDeterministicAndAligned(t *testing.T) {
	a, err := Encode(sample(), map[string]string{"x": "1", "a": "2"})
	if err != nil {
		t.Fatal(err)
	}
	rev := sample()
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	b, err := Encode(rev, map[string]string{"a": "2", "x": "1"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("encoding depends on input order")
	}
	n := binary.LittleEndian.Uint64(a)
	if n%8 != 0 {
		t.Errorf("header length %d not a multiple of 8", n)
	}
	h := string(a[8 : 8+n])
	if trimmed := strings.TrimRight(h, " "); !strings.HasSuffix(trimmed, "}") || len(h)-len(trimmed) >= 8 {
		t.Errorf("header padding wrong: %q", h)
	}
	if !strings.HasPrefix(h, `{"__metadata__":{"a":"2","x":"1"},`) {
		t.Errorf("header = %q", h)
	}
	var hdr map[string]struct {
		DType       DType  `json:"dtype"`
		DataOffsets [2]int `json:"data_offsets"`
	}
	if err := json.Unmarshal([]byte(strings.Replace(h, `"__metadata__":{"a":"2","x":"1"},`, "", 1)), &hdr); err != nil {
		t.Fatal(err)
	}
	for name, e := range hdr {
		if e.DataOffsets[0]%e.DType.Size() != 0 {
			t.Errorf("%s starts at %d, not aligned to %d", name, e.DataOffsets[0], e.DType.Size())
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	cases := []struct {
		name string
		ts   []*Tensor
		want string
	}{
		{"dup", []*Tensor{F32Tensor("a", []int{1}, []float32{1}), F32Tensor("a", []int{1}, []float32{1})}, `duplicate tensor name "a"`},
		{"size", []*Tensor{F32Tensor("a", []int{2}, []float32{1})}, "needs 8 bytes, has 4"},
		{"dtype", []*Tensor{{Name: "a", DType: "F8", Shape: []int{1}, Data: []byte{0}}}, `unknown dtype "F8"`},
		{"neg", []*Tensor{{Name: "a", DType: U8, Shape: []int{-1}}}, "invalid shape"},
		{"reserved", []*Tensor{F32Tensor("__metadata__", []int{}, []float32{1})}, "reserved"},
		{"nil", []*Tensor{nil}, "nil tensor"},
	}
	for _, c := range cases {
		_, err := Encode(c.ts, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, err, c.want)
		}
	}
}

// recordingWriter keeps every slice it is given, and fails from call
// failAt on (0: never).
type recordingWriter struct {
	calls  [][]byte
	failAt int
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	if w.failAt > 0 && len(w.calls)+1 >= w.failAt {
		return 0, errors.New("disk full")
	}
	w.calls = append(w.calls, p)
	return len(p), nil
}

// Write streams Encode's bytes, each tensor's data from the tensor's own
// slice (no copy of a large tensor), and passes a writer's error on.
func TestWriteStreamsEncodedBytes(t *testing.T) {
	md := map[string]string{"k": "v"}
	want, err := Encode(sample(), md)
	if err != nil {
		t.Fatal(err)
	}
	ts := sample()
	var w recordingWriter
	if err := Write(&w, ts, md); err != nil {
		t.Fatal(err)
	}
	if got := bytes.Join(w.calls, nil); !bytes.Equal(got, want) {
		t.Fatalf("Write wrote %d bytes that differ from Encode's %d", len(got), len(want))
	}
	big := ts[0].Data // "w", the first tensor in file order
	shared := false
	for _, c := range w.calls {
		shared = shared || (len(c) == len(big) && &c[0] == &big[0])
	}
	if !shared {
		t.Error("a tensor's data was copied before it was written")
	}
	for failAt := 1; failAt <= 2; failAt++ {
		if err := Write(&recordingWriter{failAt: failAt}, ts, md); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("a writer failing at call %d: %v", failAt, err)
		}
	}
	if err := Write(&w, []*Tensor{nil}, nil); err == nil {
		t.Error("a nil tensor was written")
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	if err := WriteFile(path, sample(), map[string]string{"step": "1"}); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata["step"] != "1" || f.Path != path || len(f.Tensors) != 5 {
		t.Errorf("read back %v %v", f.Metadata, f.Order)
	}
	before, _ := os.ReadFile(path)

	// A failing write must leave the previous file untouched and no temp file.
	err = WriteFile(path, []*Tensor{F32Tensor("a", []int{3}, []float32{1})}, nil)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("bad write: err = %v, want an error naming %s", err, path)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("failed write modified the existing file")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after writes, want 1", len(entries))
	}

	// Overwrite with new content.
	if err := WriteFile(path, []*Tensor{F32Tensor("b", []int{1}, []float32{7})}, nil); err != nil {
		t.Fatal(err)
	}
	if f, err := ReadFile(path); err != nil || len(f.Order) != 1 || f.Order[0] != "b" {
		t.Errorf("overwrite: %v %v", f, err)
	}

	missing := filepath.Join(dir, "no", "such", "dir", "x.safetensors")
	if err := WriteFile(missing, sample(), nil); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("write into a missing directory: %v", err)
	}
}

func TestReadGolden(t *testing.T) {
	path := filepath.Join(goldendir.Dir(t), "matmul__2d.safetensors")
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata["op"] != "matmul" {
		t.Errorf("metadata op = %q", f.Metadata["op"])
	}
	want := []string{"in.a", "in.b", "out.y", "cot.y", "grad.a", "grad.b", "cot2.a", "grad2.a", "grad2.b", "grad2.cot.y"}
	if !reflect.DeepEqual(f.Order, want) {
		t.Errorf("order = %v", f.Order)
	}
	a, _ := f.Get("in.a")
	b, _ := f.Get("in.b")
	y, _ := f.Get("out.y")
	if !reflect.DeepEqual(a.Shape, []int{5, 7}) || !reflect.DeepEqual(b.Shape, []int{7, 3}) || !reflect.DeepEqual(y.Shape, []int{5, 3}) {
		t.Fatalf("shapes %v %v %v", a.Shape, b.Shape, y.Shape)
	}
	av, _ := a.Float32()
	bv, _ := b.Float32()
	yv, _ := y.Float32()
	// The values must be the real ones: y = a·b to float32 rounding.
	for i := 0; i < 5; i++ {
		for j := 0; j < 3; j++ {
			var s float64
			for k := 0; k < 7; k++ {
				s += float64(av[i*7+k]) * float64(bv[k*3+j])
			}
			if d := math.Abs(s - float64(yv[i*3+j])); d > 1e-5+1e-5*math.Abs(s) {
				t.Errorf("y[%d,%d] = %v, a·b = %v", i, j, yv[i*3+j], s)
			}
		}
	}
	// Re-encoding what we read and parsing it again gives the same tensors.
	var ts []*Tensor
	for _, n := range f.Order {
		ts = append(ts, f.Tensors[n])
	}
	enc, err := Encode(ts, f.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Parse(enc, "re-encoded")
	if err != nil {
		t.Fatal(err)
	}
	for n, tt := range f.Tensors {
		if !bytes.Equal(g.Tensors[n].Data, tt.Data) || !reflect.DeepEqual(g.Tensors[n].Shape, tt.Shape) {
			t.Errorf("%s differs after re-encoding", n)
		}
	}
}

// raw builds a file from a literal header and a data section.
func raw(header string, body []byte) []byte {
	b := make([]byte, 8, 8+len(header)+len(body))
	binary.LittleEndian.PutUint64(b, uint64(len(header)))
	b = append(b, header...)
	return append(b, body...)
}

func TestParseErrors(t *testing.T) {
	// On a 32-bit int the dimensions of the two overflow cases do not fit
	// an int at all, which is caught first.
	overflowMsg := "overflows"
	if strconv.IntSize == 32 {
		overflowMsg = "too large"
	}
	body := make([]byte, 16)
	hugeLen := make([]byte, 16)
	binary.LittleEndian.PutUint64(hugeLen, 1<<40)
	longLen := make([]byte, 16)
	binary.LittleEndian.PutUint64(longLen, 100)
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"short", []byte{1, 2, 3}, "too short for the 8-byte header length"},
		{"absurd header", hugeLen, "header length 1099511627776 is absurd"},
		{"header past end", longLen, "header length 100 exceeds the file size 16"},
		{"bad json", raw(`{"a":`, body), "invalid"},
		{"not object", raw(`[1,2]`, body), "expected an object"},
		{"trailing", raw(`{} {}`, body), "trailing data"},
		{"unknown dtype", raw(`{"a":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}`, body), `tensor "a": unknown dtype "F8"`},
		{"negative dim", raw(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, body), `tensor "a": negative dimension -1`},
		{"fractional dim", raw(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, body), `tensor "a": invalid header entry`},
		{"size mismatch", raw(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, body), `needs 8 bytes but data_offsets [0, 4] span 4`},
		{"out of range", raw(`{"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}`, body), "out of range: data section is 16 bytes"},
		{"begin > end", raw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}`, body), "invalid data_offsets [8, 4]"},
		{"negative offset", raw(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}}`, body), "invalid data_offsets [-1, 0]"},
		{"three offsets", raw(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}`, body), "data_offsets must be [begin, end]"},
		{"missing field", raw(`{"a":{"dtype":"U8","shape":[1]}}`, body), "needs dtype, shape and data_offsets"},
		{"overlap", raw(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, body), `tensors "a" [0, 8] and "b" [4, 12] overlap`},
		{"numel overflow", raw(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, body), overflowMsg},
		{"itemsize overflow", raw(`{"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,4]}}`, body), overflowMsg},
		{"dim too big", raw(`{"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}}`, body), `tensor "a": invalid header entry`},
		{"duplicate", raw(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, body), `duplicate header entry "a"`},
		{"bad metadata", raw(`{"__metadata__":{"k":1}}`, body), "invalid __metadata__"},
	}
	for _, c := range cases {
		_, err := Parse(c.data, "case.safetensors")
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "case.safetensors") || !strings.Contains(msg, c.want) {
			t.Errorf("%s: err = %q, want the file name and %q", c.name, msg, c.want)
		}
	}

	// Accepted oddities: regions out of order, gaps, zero-size tensors sharing an offset.
	ok := raw(`{"b":{"dtype":"U8","shape":[2],"data_offsets":[6,8]},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},`+
		`"z":{"dtype":"F32","shape":[0],"data_offsets":[2,2]},"y":{"dtype":"F32","shape":[3,0],"data_offsets":[2,2]}}`, body)
	f, err := Parse(ok, "ok")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "y", "z", "b"}; !reflect.DeepEqual(f.Order, want) {
		t.Errorf("order = %v, want %v", f.Order, want)
	}

	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing.safetensors")); err == nil || !strings.Contains(err.Error(), "missing.safetensors") {
		t.Errorf("missing file: %v", err)
	}
}

func TestFloatConversions(t *testing.T) {
	f16 := &Tensor{Name: "h", DType: F16, Shape: []int{3}, Data: []byte{0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b}}
	got, err := f16.Float32()
	if err != nil || !reflect.DeepEqual(got, []float32{1, -2, 65504}) {
		t.Errorf("F16 = %v, %v", got, err)
	}
	bf := &Tensor{Name: "b", DType: BF16, Shape: []int{2}, Data: []byte{0x80, 0x3f, 0x49, 0x40}}
	got, err = bf.Float32()
	if err != nil || !reflect.DeepEqual(got, []float32{1, 3.140625}) {
		t.Errorf("BF16 = %v, %v", got, err)
	}
	f64 := &Tensor{Name: "d", DType: F64, Shape: []int{1}, Data: binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.1))}
	got, err = f64.Float32()
	if err != nil || got[0] != float32(0.1) {
		t.Errorf("F64 = %v, %v", got, err)
	}
	ints := map[DType][]byte{
		I32: {0xff, 0xff, 0xff, 0xff},
		I16: {0xfe, 0xff},
		I8:  {0x80},
		U8:  {0xff},
	}
	want := map[DType]int64{I32: -1, I16: -2, I8: -128, U8: 255}
	for dt, b := range ints {
		v, err := (&Tensor{Name: "i", DType: dt, Shape: []int{1}, Data: b}).Int64()
		if err != nil || v[0] != want[dt] {
			t.Errorf("%s = %v, %v", dt, v, err)
		}
	}
	bad := &Tensor{Name: "bad", DType: F32, Shape: []int{2}, Data: []byte{1, 2, 3}}
	if _, err := bad.Float32(); err == nil || !strings.Contains(err.Error(), "needs 8 bytes, has 3") {
		t.Errorf("inconsistent tensor: %v", err)
	}
}

func TestHalfToFloat32(t *testing.T) {
	cases := []struct {
		h    uint16
		want float32
	}{
		{0x0000, 0},
		{0x3c00, 1},
		{0xbc00, -1},
		{0x3555, 0.333251953125},
		{0x7bff, 65504},                       // largest normal
		{0x0400, 6.103515625e-05},             // smallest normal 2^-14
		{0x0001, 5.960464477539063e-08},       // smallest subnormal 2^-24
		{0x03ff, 6.097555160522461e-05},       // largest subnormal 1023·2^-24
		{0x8001, -5.960464477539063e-08},      // negative subnormal
		{0x0200, float32(math.Ldexp(1, -15))}, // 512·2^-24
	}
	for _, c := range cases {
		if got := HalfToFloat32(c.h); got != c.want {
			t.Errorf("HalfToFloat32(%#04x) = %g, want %g", c.h, got, c.want)
		}
	}
	if got := HalfToFloat32(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("-0 = %g (signbit %v)", got, math.Signbit(float64(got)))
	}
	if got := HalfToFloat32(0x7c00); !math.IsInf(float64(got), 1) {
		t.Errorf("+inf = %g", got)
	}
	if got := HalfToFloat32(0xfc00); !math.IsInf(float64(got), -1) {
		t.Errorf("-inf = %g", got)
	}
	for _, h := range []uint16{0x7e00, 0x7c01, 0xfe00, 0x7fff} {
		got := HalfToFloat32(h)
		if !math.IsNaN(float64(got)) {
			t.Errorf("HalfToFloat32(%#04x) = %g, want NaN", h, got)
		}
		if math.Signbit(float64(got)) != (h&0x8000 != 0) {
			t.Errorf("HalfToFloat32(%#04x) lost the NaN sign", h)
		}
	}
	// Every finite half value round-trips through float32 → float64 exactly:
	// check against the definition value = (-1)^s · 2^(e-15) · (1 + m/1024).
	for h := 0; h < 1<<16; h++ {
		e := (h >> 10) & 0x1f
		if e == 0x1f {
			continue
		}
		m := float64(h & 0x3ff)
		var v float64
		if e == 0 {
			v = math.Ldexp(m, -24)
		} else {
			v = math.Ldexp(1+m/1024, e-15)
		}
		if h&0x8000 != 0 {
			v = -v
		}
		if got := HalfToFloat32(uint16(h)); float64(got) != v {
			t.Fatalf("HalfToFloat32(%#04x) = %g, want %g", h, got, v)
		}
	}
}

func TestBFloat16ToFloat32(t *testing.T) {
	cases := []struct {
		b    uint16
		want float32
	}{
		{0x0000, 0},
		{0x3f80, 1},
		{0xc000, -2},
		{0x4049, 3.140625},
		{0x7f7f, 3.3895313892515355e+38}, // largest finite
		{0x0080, 1.1754943508222875e-38}, // smallest normal 2^-126
		{0x0001, 9.183549615799121e-41},  // smallest subnormal 2^-133
		{0x8001, -9.183549615799121e-41}, // negative subnormal
		{0x007f, 1.1663108012064884e-38}, // largest subnormal
	}
	for _, c := range cases {
		if got := BFloat16ToFloat32(c.b); got != c.want {
			t.Errorf("BFloat16ToFloat32(%#04x) = %g, want %g", c.b, got, c.want)
		}
	}
	if got := BFloat16ToFloat32(0x7f80); !math.IsInf(float64(got), 1) {
		t.Errorf("+inf = %g", got)
	}
	if got := BFloat16ToFloat32(0xff80); !math.IsInf(float64(got), -1) {
		t.Errorf("-inf = %g", got)
	}
	if got := BFloat16ToFloat32(0x7fc0); !math.IsNaN(float64(got)) {
		t.Errorf("nan = %g", got)
	}
	if got := BFloat16ToFloat32(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("-0 = %g", got)
	}
}

// FuzzParse checks that no input makes Parse panic, and that whatever it
// accepts is internally consistent and survives Encode → Parse unchanged.
// `go test` runs only the seeds; run `go test -fuzz FuzzParse ./safetensors`
// to search.
func FuzzParse(f *testing.F) {
	valid, err := Encode(sample(), map[string]string{"k": "v"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	for _, n := range []int{0, 4, 8, 9, 20, len(valid) / 2, len(valid) - 1} {
		f.Add(valid[:n])
	}
	f.Add(raw(`{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]}}`, make([]byte, 6)))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data, "fuzz")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		var ts []*Tensor
		for _, name := range file.Order {
			tt := file.Tensors[name]
			if tt.DType.IsFloat() {
				if _, err := tt.Float32(); err != nil {
					t.Fatalf("accepted tensor %q fails Float32: %v", name, err)
				}
			} else if _, err := tt.Int64(); err != nil {
				t.Fatalf("accepted tensor %q fails Int64: %v", name, err)
			}
			ts = append(ts, tt)
		}
		enc, err := Encode(ts, file.Metadata)
		if err != nil {
			t.Fatalf("re-encoding an accepted file: %v", err)
		}
		again, err := Parse(enc, "fuzz-again")
		if err != nil {
			t.Fatalf("re-parsing: %v", err)
		}
		for name, tt := range file.Tensors {
			if !bytes.Equal(again.Tensors[name].Data, tt.Data) {
				t.Fatalf("tensor %q changed after a round trip", name)
			}
		}
	})
}
