// Package torchfile reads PyTorch checkpoints into plain named arrays, so that
// models can be initialised from the weights people actually publish: the
// zip files written by torch.save(model.state_dict()) and TorchScript archives
// such as OpenAI's released CLIP models.
//
// Like package safetensors it has no dependency on the rest of the engine.
// The loader never panics on bad input (DESIGN.md, principle 7): the file is
// checked before any of it is trusted, and the third-party unpickler runs
// under recover (see Load).
package torchfile

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
)

// Tensor is one tensor of a checkpoint, materialised in row-major order.
// Floating-point tensors (float32, float16, bfloat16, float64) are converted
// to float32 in Data; integer and boolean tensors go to Int instead. DType is
// the type the checkpoint stored ("float32", "float16", "int64", "bool", ...).
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
	Int   []int64
	DType string
}

// Numel is the number of elements (1 for a scalar of shape []).
func (t *Tensor) Numel() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Limits that keep a corrupt file from turning into a huge allocation.
const (
	maxPickleSize = 1 << 30                 // data.pkl holds structure, not weights
	maxLegacySize = 1 << 35                 // a legacy file is read whole: its pickles, then its storages
	maxWalkSteps  = 1 << 22                 // objects visited while collecting tensors
	maxDepth      = 512                     // nesting of dicts/modules
	maxElems      = min(1<<40, math.MaxInt) // elements of one tensor (what an int holds on 32-bit machines)
)

// Load reads a PyTorch checkpoint and returns its tensors by state_dict name.
//
// Two formats are understood, both zip archives:
//   - torch.save(obj) since PyTorch 1.6: data.pkl plus data/<key> storages.
//     A state dict gives its own keys; nested dicts, lists and pickled
//     nn.Modules give dotted paths ("model.layer.weight").
//   - TorchScript (torch.jit.save, constants.pkl and code/ present): the
//     module tree in data.pkl is walked as Module.state_dict() would, giving
//     names such as "visual.conv1.weight"; only parameters and buffers are
//     kept (as declared in the archive's code/, or every tensor attribute
//     when the declarations are missing).
//
// A bare torch.save(tensor) gives one tensor named "". Tensors are copied
// out of their storages, so views (storage offsets, transposes, shared
// storages) come back as independent row-major arrays.
//
// The legacy format (torch.save before PyTorch 1.6, or with
// _use_new_zipfile_serialization=False: pickles followed by the raw
// storages) is read too, and so are plain pickles of tensors and modules
// such as StyleGAN2-ADA's and Lafite's network .pkl files (tensors under
// their dotted names, e.g. "G_ema.mapping.fc0.weight"); see loadStream.
func Load(path string) (tensors map[string]*Tensor, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("torchfile: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("torchfile: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("torchfile: %s: is a directory, expected a PyTorch checkpoint file", path)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("torchfile: %s: "+format, append([]any{path}, args...)...)
	}

	// gopickle indexes its opcode table and stacks without bounds checks, so
	// a corrupt pickle can make it panic (opcode 0xff, an odd SETITEMS, a
	// slice used as a dict key). Pickles are pre-scanned, but the scan
	// cannot prove the stack discipline right, so a panic in code we do not
	// own is turned into an error here rather than taking the caller down.
	defer func() {
		if r := recover(); r != nil {
			tensors, err = nil, fail("corrupt pickle data (the unpickler panicked: %v)", r)
		}
	}()
	var magic [4]byte
	n, _ := io.ReadFull(f, magic[:])
	switch {
	case isZip(magic[:n]):
	case isPickle(magic[:n]):
		if st.Size() > maxLegacySize {
			return nil, fail("pickle or legacy (pre-1.6) checkpoint of %d bytes: more than the %d this reader holds in memory; "+
				"re-save it with a recent PyTorch: torch.save(torch.load(path), path)", st.Size(), int64(maxLegacySize))
		}
		data := make([]byte, st.Size())
		if _, err := f.ReadAt(data, 0); err != nil {
			return nil, fail("%v", err)
		}
		return loadStream(data, fail)
	case n == 0:
		return nil, fail("empty file, expected a PyTorch checkpoint (zip archive)")
	default:
		return nil, fail("not a PyTorch checkpoint: expected a zip archive (torch.save since PyTorch 1.6, or TorchScript) or a legacy torch.save pickle, found bytes %q", magic[:n])
	}
	zr, err := zip.NewReader(f, st.Size())
	if err != nil {
		return nil, fail("not a readable zip archive (truncated or corrupt?): %v", err)
	}
	return load(zr, fail)
}

// IsTorchFile reports whether the file at path starts as a PyTorch file does
// (a zip archive, or a pickle: what Load reads), so that a caller holding
// several formats can send it here without reading it whole.
func IsTorchFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var head [9]byte
	n, _ := io.ReadFull(f, head[:])
	if n == 9 && head[8] == '{' {
		// A safetensors file: a little-endian header length, then its JSON.
		// A length of 0x?80 (640, say) starts with 0x80 0x02, the bytes of a
		// protocol-2 pickle; no pickle has '{' (no opcode) ninth.
		return false
	}
	return isZip(head[:min(n, 4)]) || isPickle(head[:n])
}

func isZip(head []byte) bool { return string(head) == "PK\x03\x04" }
func isPickle(head []byte) bool {
	return len(head) >= 2 && head[0] == 0x80 && head[1] <= pickle.HighestProtocol
}

// archive is an opened checkpoint: the zip entries under the record prefix.
type archive struct {
	prefix    string // "name/" or "" when data.pkl is at the root
	files     map[string]*zip.File
	bigEndian bool
	script    bool
	fail      func(string, ...any) error
	code      map[string]map[string]*scriptClass // code file → classes
	storages  map[string]*storage                // by key, as the pickle references them
	legacy    bool                               // pre-1.6 stream: storages' data follows the pickles
}

func load(zr *zip.Reader, fail func(string, ...any) error) (map[string]*Tensor, error) {
	a := &archive{files: map[string]*zip.File{}, fail: fail, code: map[string]map[string]*scriptClass{}, storages: map[string]*storage{}}
	var pkls []string
	for _, zf := range zr.File {
		a.files[zf.Name] = zf
		if zf.Name == "data.pkl" || (strings.Count(zf.Name, "/") == 1 && strings.HasSuffix(zf.Name, "/data.pkl")) {
			pkls = append(pkls, zf.Name)
		}
	}
	switch len(pkls) {
	case 0:
		return nil, fail("zip archive has no data.pkl record: not a torch.save or TorchScript file")
	case 1:
	default:
		sort.Strings(pkls)
		return nil, fail("zip archive has several data.pkl records (%s): ambiguous", strings.Join(pkls, ", "))
	}
	a.prefix = strings.TrimSuffix(pkls[0], "data.pkl")
	if _, ok := a.files[a.prefix+"constants.pkl"]; ok {
		a.script = true
	}
	if bo, ok := a.files[a.prefix+"byteorder"]; ok {
		b, err := a.read(bo, 16)
		if err != nil {
			return nil, err
		}
		switch strings.TrimSpace(string(b)) {
		case "little":
		case "big":
			a.bigEndian = true
		default:
			return nil, fail("unknown byteorder %q", b)
		}
	}

	pkl, err := a.read(a.files[pkls[0]], maxPickleSize)
	if err != nil {
		return nil, err
	}
	if _, err := prescan(pkl); err != nil {
		return nil, fail("%s: %v", pkls[0], err)
	}
	u := newUnpickler(a, bytes.NewReader(pkl))
	root, err := u.Load()
	if err != nil {
		return nil, fail("%s: %v", pkls[0], err)
	}

	c := &collector{a: a, out: map[string]*Tensor{}, onPath: map[any]bool{}}
	if a.script {
		obj, ok := root.(*object)
		if !ok || !obj.class.isScript() {
			return nil, fail("TorchScript archive whose data.pkl is not a module (got %s)", describe(root))
		}
	}
	if err := c.walk("", root, 0); err != nil {
		return nil, err
	}
	if len(c.out) == 0 {
		return nil, fail("no tensors found in %s (got %s)", pkls[0], describe(root))
	}
	return c.out, nil
}

// read returns the whole content of a zip record, refusing more than limit
// bytes. The buffer grows with the data actually read, so a forged size in
// the zip directory cannot force a large allocation.
func (a *archive) read(zf *zip.File, limit int64) ([]byte, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, a.fail("record %s: %v", zf.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, a.fail("record %s: %v (truncated or corrupt?)", zf.Name, err)
	}
	if int64(len(b)) > limit {
		return nil, a.fail("record %s is larger than the %d-byte limit", zf.Name, limit)
	}
	return b, nil
}

// readN reads exactly n bytes from the start of a record.
func (a *archive) readN(zf *zip.File, n int64) ([]byte, error) {
	if zf.UncompressedSize64 < uint64(n) {
		return nil, a.fail("record %s holds %d bytes, the pickle expects at least %d", zf.Name, zf.UncompressedSize64, n)
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, a.fail("record %s: %v", zf.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, n))
	if err != nil {
		return nil, a.fail("record %s: %v (truncated or corrupt?)", zf.Name, err)
	}
	if int64(len(b)) != n {
		return nil, a.fail("record %s: got %d bytes, expected %d (truncated?)", zf.Name, len(b), n)
	}
	return b, nil
}

// describe names a pickled value's type for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case *object:
		return x.class.String() + " object"
	case *class:
		return "class " + x.String()
	}
	return fmt.Sprintf("%T", v)
}

var errTooLarge = errors.New("object graph too large")

// join builds a dotted state_dict name.
func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// scriptPath maps a TorchScript class's module to its code record, e.g.
// __torch__.clip.model → code/__torch__/clip/model.py.
func scriptPath(module string) string {
	return path.Join("code", strings.ReplaceAll(module, ".", "/")+".py")
}
