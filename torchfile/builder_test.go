package torchfile

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// pk writes pickles opcode by opcode, the way torch.save lays them out, so
// that tests can build checkpoints with strided views, odd dtypes or damage
// that the real fixtures do not contain.
type pk struct{ bytes.Buffer }

func newPickle() *pk {
	p := &pk{}
	p.Write([]byte{0x80, 2}) // PROTO 2
	return p
}

func (p *pk) str(s string) *pk {
	p.WriteByte('X')
	p.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(s))))
	p.WriteString(s)
	return p
}

func (p *pk) int(n int) *pk {
	p.WriteByte('J')
	p.Write(binary.LittleEndian.AppendUint32(nil, uint32(int32(n))))
	return p
}

func (p *pk) global(module, name string) *pk {
	p.WriteString("c" + module + "\n" + name + "\n")
	return p
}

func (p *pk) op(b ...byte) *pk { p.Write(b); return p }

func (p *pk) ints(v []int) *pk {
	p.op('(')
	for _, x := range v {
		p.int(x)
	}
	return p.op('t')
}

// tensor pushes _rebuild_tensor_v2(storage(cls, key, numel), offset, size, stride, False, OrderedDict()).
func (p *pk) tensor(cls, key string, numel, offset int, size, stride []int) *pk {
	p.global("torch._utils", "_rebuild_tensor_v2").op('(')
	p.op('(').str("storage").global("torch", cls).str(key).str("cpu").int(numel).op('t', 'Q')
	p.int(offset).ints(size).ints(stride).op(0x89)
	p.global("collections", "OrderedDict").op(')', 'R')
	return p.op('t', 'R')
}

// ordered pushes an OrderedDict and opens its items; close with setitems.
func (p *pk) ordered() *pk  { return p.global("collections", "OrderedDict").op(')', 'R', '(') }
func (p *pk) setitems() *pk { return p.op('u') }

// module pushes an instance of class module.name whose state is a dict; the
// attributes follow as key/value pairs; close with endModule.
func (p *pk) module(module, name string) *pk {
	return p.global(module, name).op(')', 0x81, '}', '(')
}
func (p *pk) endModule() *pk { return p.op('u', 'b') }
func (p *pk) stop() []byte   { p.WriteByte('.'); return p.Bytes() }

// archiveFiles are the records of a test checkpoint, relative to its prefix.
type archiveFiles map[string][]byte

func zipBytes(t testing.TB, prefix string, files archiveFiles) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range sortedKeys(files) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: prefix + name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[name])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sortedKeys(m archiveFiles) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	for i := range ks {
		for j := i + 1; j < len(ks); j++ {
			if ks[j] < ks[i] {
				ks[i], ks[j] = ks[j], ks[i]
			}
		}
	}
	return ks
}

func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func f32bytes(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func f32range(n int) []byte {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i)
	}
	return f32bytes(v...)
}
