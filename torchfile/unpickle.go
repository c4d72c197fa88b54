package torchfile

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// class stands for any Python global the loader has no special meaning for
// (TorchScript module classes, nn.Module subclasses, torch.device, ...).
// Calling or instantiating it gives an object that records its arguments and
// state, so that arbitrary class trees unpickle and can be walked afterwards.
type class struct{ module, name string }

func (c *class) String() string { return c.module + "." + c.name }

// isScript reports a TorchScript class (from the archive's code/ records).
func (c *class) isScript() bool { return strings.HasPrefix(c.module, "__torch__") }

func (c *class) PyNew(args ...any) (any, error) { return &object{class: c, args: args}, nil }
func (c *class) Call(args ...any) (any, error)  { return &object{class: c, args: args}, nil }

// object is an instance of a class: its constructor arguments, the state
// given by BUILD (usually the attribute dict), and the items or elements
// that SETITEMS and APPENDS add to instances of dict and list subclasses
// (such as the EasyDicts of StyleGAN2-ADA's pickles).
type object struct {
	class *class
	args  []any
	state any
	items types.Dict
	elems []any
}

func (o *object) Set(key, value any) { o.items.Set(key, value) }
func (o *object) Append(v any)       { o.elems = append(o.elems, v) }

func (o *object) PySetState(state any) error {
	o.state = state
	return nil
}

// storageClass is torch.FloatStorage and friends: it only carries the dtype.
type storageClass struct {
	dtype string
	size  int
}

var storageClasses = map[string]storageClass{
	"FloatStorage":    {"float32", 4},
	"DoubleStorage":   {"float64", 8},
	"HalfStorage":     {"float16", 2},
	"BFloat16Storage": {"bfloat16", 2},
	"LongStorage":     {"int64", 8},
	"IntStorage":      {"int32", 4},
	"ShortStorage":    {"int16", 2},
	"CharStorage":     {"int8", 1},
	"ByteStorage":     {"uint8", 1},
	"BoolStorage":     {"bool", 1},
}

// storage is one data/<key> record, read in full with its dtype.
type storage struct {
	cls   storageClass
	key   string
	numel int
	data  []byte
}

// rawTensor is what torch._utils._rebuild_tensor_v2 describes: a strided view
// of a storage. It is materialised only once its name is known.
type rawTensor struct {
	storage *storage
	offset  any
	size    any
	stride  any
}

// rebuildFunc is one of the torch functions that pickles call to rebuild a
// tensor or parameter.
type rebuildFunc struct{ name string }

func (r *rebuildFunc) Call(args ...any) (any, error) {
	switch r.name {
	case "_rebuild_tensor_v2":
		// (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
		if len(args) < 4 {
			return nil, fmt.Errorf("%s: expected at least 4 arguments, got %d", r.name, len(args))
		}
		s, ok := args[0].(*storage)
		if !ok {
			return nil, fmt.Errorf("%s: first argument is %s, not a storage", r.name, describe(args[0]))
		}
		return &rawTensor{storage: s, offset: args[1], size: args[2], stride: args[3]}, nil
	case "_rebuild_parameter", "_rebuild_parameter_with_state":
		// (data, requires_grad, backward_hooks[, state]): a Parameter is its data.
		if len(args) < 1 {
			return nil, fmt.Errorf("%s: no arguments", r.name)
		}
		return args[0], nil
	case "_rebuild_from_type_v2":
		// (func, new_type, args, state): tensor subclasses; the data is func(*args).
		if len(args) < 3 {
			return nil, fmt.Errorf("%s: expected 4 arguments, got %d", r.name, len(args))
		}
		fn, ok := args[0].(types.Callable)
		t, ok2 := args[2].(*types.Tuple)
		if !ok || !ok2 {
			return nil, fmt.Errorf("%s: unexpected arguments", r.name)
		}
		return fn.Call(*t...)
	}
	return nil, fmt.Errorf("unsupported tensor encoding torch._utils.%s", r.name)
}

func newUnpickler(a *archive, r io.Reader) *pickle.Unpickler {
	u := pickle.NewUnpickler(r)
	u.FindClass = func(module, name string) (any, error) {
		switch module + "." + name {
		case "torch.storage._load_from_bytes":
			return &storageFromBytes{fail: a.fail}, nil
		case "torch_utils.persistence._reconstruct_persistent_obj":
			return persistentObject{}, nil
		case "_codecs.encode":
			return latin1Bytes{}, nil
		}
		switch module {
		case "torch":
			if sc, ok := storageClasses[name]; ok {
				return &sc, nil
			}
		case "torch._utils", "torch._tensor":
			if strings.HasPrefix(name, "_rebuild_") {
				return &rebuildFunc{name: name}, nil
			}
		}
		return &class{module: module, name: name}, nil
	}
	u.PersistentLoad = func(pid any) (any, error) {
		// ('storage', storage_type, key, location, numel), and in the legacy
		// format a sixth element, view metadata (None unless the storage is a
		// view of another, which PyTorch stopped writing long ago).
		t, ok := pid.(*types.Tuple)
		// A legacy torch.save of a whole module also names each module
		// class as ('module', class, source file, source): the class.
		if ok && t.Len() >= 2 && t.Get(0) == "module" && a.legacy {
			return t.Get(1), nil
		}
		if !ok || t.Len() < 5 {
			return nil, fmt.Errorf("persistent id %s is not a storage tuple", describe(pid))
		}
		if kind, _ := t.Get(0).(string); kind != "storage" {
			return nil, fmt.Errorf("unsupported persistent id kind %v", t.Get(0))
		}
		sc, ok1 := t.Get(1).(*storageClass)
		key, ok2 := t.Get(2).(string)
		numel, ok3 := t.Get(4).(int)
		if !ok1 {
			return nil, fmt.Errorf("unsupported storage type %s", describe(t.Get(1)))
		}
		if !ok2 || !ok3 || numel < 0 {
			return nil, fmt.Errorf("malformed storage id (key %v, numel %v)", t.Get(2), t.Get(4))
		}
		if s, ok := a.storages[key]; ok {
			if s.cls != *sc || s.numel != numel {
				return nil, fmt.Errorf("storage %q referenced with two different types or sizes", key)
			}
			return s, nil
		}
		if numel > math.MaxInt/8 {
			return nil, fmt.Errorf("storage %q: absurd element count %d", key, numel)
		}
		if a.legacy {
			if t.Len() > 5 && t.Get(5) != nil {
				return nil, fmt.Errorf("storage %q is a view of another storage (pre-0.4 format), not supported", key)
			}
			s := &storage{cls: *sc, key: key, numel: numel} // data follows the pickles
			a.storages[key] = s
			return s, nil
		}
		name := a.prefix + "data/" + key
		zf, ok := a.files[name]
		if !ok {
			return nil, fmt.Errorf("storage %q: record %s missing from the archive", key, name)
		}
		data, err := a.readN(zf, int64(numel)*int64(sc.size))
		if err != nil {
			return nil, err
		}
		if a.bigEndian {
			swapBytes(data, sc.size)
		}
		s := &storage{cls: *sc, key: key, numel: numel, data: data}
		a.storages[key] = s
		return s, nil
	}
	return &u
}

func swapBytes(b []byte, size int) {
	for i := 0; i+size <= len(b); i += size {
		for j, k := i, i+size-1; j < k; j, k = j+1, k-1 {
			b[j], b[k] = b[k], b[j]
		}
	}
}

// prescan walks the pickle's opcodes and checks that every length-prefixed
// argument fits in the data. gopickle allocates a buffer of the announced
// length before reading, so without this a few corrupt bytes could ask for
// gigabytes (an unrecoverable out-of-memory, not a panic). It returns the
// pickle's length up to and including its STOP (a legacy file holds several
// pickles, then raw data).
func prescan(p []byte) (int, error) {
	i := 0
	need := func(n uint64, op byte, at int) error {
		if n > uint64(len(p)-i) {
			return fmt.Errorf("pickle opcode %#02x at offset %d needs %d bytes, only %d remain (truncated or corrupt)", op, at, n, len(p)-i)
		}
		i += int(n)
		return nil
	}
	line := func(op byte, at int) error {
		for i < len(p) {
			i++
			if p[i-1] == '\n' {
				return nil
			}
		}
		return fmt.Errorf("pickle opcode %#02x at offset %d: unterminated line (truncated)", op, at)
	}
	for i < len(p) {
		at := i
		op := p[i]
		i++
		var err error
		switch op {
		case '.': // STOP
			return i, nil
		case '(', '0', '1', '2', 'N', 'R', 'a', 'b', 'd', 'e', 'l', 'o', 's', 't', 'u', ']', '}', ')', 'Q',
			0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98:
		case 'K', 'h', 'q', 0x80, 0x82:
			err = need(1, op, at)
		case 'M', 0x83:
			err = need(2, op, at)
		case 'J', 'j', 'r', 0x84:
			err = need(4, op, at)
		case 'G':
			err = need(8, op, at)
		case 0x95: // FRAME: 8-byte length of opcodes that follow
			if err = need(8, op, at); err == nil {
				n := binary.LittleEndian.Uint64(p[i-8:])
				if n > uint64(len(p)-i) {
					err = fmt.Errorf("pickle frame at offset %d announces %d bytes, only %d remain (truncated or corrupt)", at, n, len(p)-i)
				}
			}
		case 'I', 'L', 'F', 'S', 'V', 'P', 'g', 'p':
			err = line(op, at)
		case 'c', 'i':
			if err = line(op, at); err == nil {
				err = line(op, at)
			}
		case 'U', 'C', 0x8c, 0x8a:
			if err = need(1, op, at); err == nil {
				err = need(uint64(p[i-1]), op, at)
			}
		case 'T', 'B', 'X', 0x8b:
			if err = need(4, op, at); err == nil {
				err = need(uint64(binary.LittleEndian.Uint32(p[i-4:])), op, at)
			}
		case 0x8d, 0x8e, 0x96:
			if err = need(8, op, at); err == nil {
				err = need(binary.LittleEndian.Uint64(p[i-8:]), op, at)
			}
		default:
			return 0, fmt.Errorf("unknown pickle opcode %#02x at offset %d", op, at)
		}
		if err != nil {
			return 0, err
		}
	}
	return 0, fmt.Errorf("pickle ends without STOP after %d bytes (truncated)", len(p))
}
