package torchfile

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"github.com/lafite-go/lafite/safetensors"
	"github.com/nlpodyssey/gopickle/types"
)

// collector walks the unpickled object graph and materialises every tensor
// under its dotted state_dict name.
type collector struct {
	a      *archive
	out    map[string]*Tensor
	onPath map[any]bool // containers on the current path: cycles are errors
	steps  int
	// Elements materialised so far and read from storages: a stride-0 view
	// or a tensor shared a million times must not blow up memory.
	outElems, storageElems int
	storagesSeen           map[*storage]bool
}

func (c *collector) walk(name string, v any, depth int) error {
	c.steps++
	if c.steps > maxWalkSteps {
		return c.a.fail("%v (more than %d objects)", errTooLarge, maxWalkSteps)
	}
	if depth > maxDepth {
		return c.a.fail("objects nested more than %d deep at %q", maxDepth, name)
	}
	switch x := v.(type) {
	case *rawTensor:
		return c.add(name, x)
	case *types.OrderedDict, *types.Dict, *types.List, *types.Tuple, *object:
		if c.onPath[x] {
			return c.a.fail("object graph has a cycle at %q", name)
		}
		c.onPath[x] = true
		defer delete(c.onPath, x)
	default:
		return nil // numbers, strings, None, classes: not part of a state dict
	}
	switch x := v.(type) {
	case *types.OrderedDict:
		for e := x.List.Front(); e != nil; e = e.Next() {
			entry, ok := e.Value.(*types.OrderedDictEntry)
			if !ok {
				continue
			}
			if err := c.entry(name, entry.Key, entry.Value, depth); err != nil {
				return err
			}
		}
	case *types.Dict:
		for _, entry := range *x {
			if err := c.entry(name, entry.Key, entry.Value, depth); err != nil {
				return err
			}
		}
	case *types.List:
		for i, item := range *x {
			if err := c.walk(join(name, strconv.Itoa(i)), item, depth+1); err != nil {
				return err
			}
		}
	case *types.Tuple:
		for i, item := range *x {
			if err := c.walk(join(name, strconv.Itoa(i)), item, depth+1); err != nil {
				return err
			}
		}
	case *object:
		return c.object(name, x, depth)
	}
	return nil
}

// entry walks one dict entry; keys that are not strings or ints (which
// state dicts never use) are skipped.
func (c *collector) entry(name string, key, value any, depth int) error {
	var k string
	switch kk := key.(type) {
	case string:
		k = kk
	case int:
		k = strconv.Itoa(kk)
	default:
		return nil
	}
	return c.walk(join(name, k), value, depth+1)
}

// object handles class instances: TorchScript modules, pickled nn.Modules,
// and tensor-rebuild functions this loader does not implement.
func (c *collector) object(name string, o *object, depth int) error {
	if strings.HasPrefix(o.class.name, "_rebuild") {
		return c.a.fail("tensor %q uses unsupported encoding %s", name, o.class)
	}
	for _, entry := range o.items {
		if err := c.entry(name, entry.Key, entry.Value, depth); err != nil {
			return err
		}
	}
	for i, v := range o.elems {
		if err := c.walk(join(name, strconv.Itoa(i)), v, depth+1); err != nil {
			return err
		}
	}
	attrs, ok := o.state.(*types.Dict)
	if !ok {
		return nil
	}
	if o.class.isScript() {
		return c.scriptModule(name, o, attrs, depth)
	}
	// A pickled nn.Module (torch.save(model)): its __dict__ holds
	// _parameters, _buffers and _modules, which state_dict() flattens.
	if params, ok := attrs.Get("_parameters"); ok {
		if err := c.walk(name, params, depth+1); err != nil {
			return err
		}
		skip := map[string]bool{}
		if np, ok := attrs.Get("_non_persistent_buffers_set"); ok {
			stringsIn(np, skip)
		}
		if bufs, ok := attrs.Get("_buffers"); ok {
			if od, ok := bufs.(*types.OrderedDict); ok {
				for e := od.List.Front(); e != nil; e = e.Next() {
					entry, ok := e.Value.(*types.OrderedDictEntry)
					if !ok {
						continue
					}
					if k, isStr := entry.Key.(string); isStr && skip[k] {
						continue
					}
					if err := c.entry(name, entry.Key, entry.Value, depth); err != nil {
						return err
					}
				}
			}
		}
		if mods, ok := attrs.Get("_modules"); ok {
			return c.walk(name, mods, depth+1)
		}
		return nil
	}
	for _, entry := range *attrs {
		if err := c.entry(name, entry.Key, entry.Value, depth); err != nil {
			return err
		}
	}
	return nil
}

// scriptModule collects a TorchScript module's parameters and buffers, then
// recurses into its submodules, as Module.state_dict() does. The archive's
// code records declare which attributes are parameters and buffers; other
// tensor attributes are not part of the state dict.
func (c *collector) scriptModule(name string, o *object, attrs *types.Dict, depth int) error {
	info := c.a.scriptClass(o.class)
	if info != nil && !info.module {
		return nil // a TorchScript class that is not a Module has no state dict
	}
	for _, entry := range *attrs {
		key, ok := entry.Key.(string)
		if !ok {
			continue
		}
		switch v := entry.Value.(type) {
		case *rawTensor:
			if info == nil || info.stateNames[key] {
				if err := c.walk(join(name, key), v, depth+1); err != nil {
					return err
				}
			}
		case *object:
			if v.class.isScript() {
				if err := c.walk(join(name, key), v, depth+1); err != nil {
					return err
				}
			} else if strings.HasPrefix(v.class.name, "_rebuild") {
				return c.a.fail("tensor %q uses unsupported encoding %s", join(name, key), v.class)
			}
		}
	}
	return nil
}

// scriptClass is what the loader needs from a TorchScript class definition.
type scriptClass struct {
	module     bool            // subclass of Module
	stateNames map[string]bool // __parameters__ and __buffers__
}

var (
	classLine = regexp.MustCompile(`^class\s+(\w+)\s*\(([^)]*)\)\s*:`)
	listLine  = regexp.MustCompile(`^\s+(__parameters__|__buffers__)\s*=\s*\[(.*)\]`)
	quoted    = regexp.MustCompile(`"([^"]*)"`)
)

// scriptClass parses (once per record) the class declarations in the
// TorchScript code record of cl's module. It returns nil when the record or
// class is missing, in which case every tensor attribute is kept.
func (a *archive) scriptClass(cl *class) *scriptClass {
	rec := a.prefix + scriptPath(cl.module)
	classes, ok := a.code[rec]
	if !ok {
		classes = map[string]*scriptClass{}
		a.code[rec] = classes
		zf, ok := a.files[rec]
		if !ok {
			return nil
		}
		src, err := a.read(zf, 64<<20)
		if err != nil {
			return nil
		}
		var cur *scriptClass
		sc := bufio.NewScanner(bytes.NewReader(src))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			l := sc.Text()
			if m := classLine.FindStringSubmatch(l); m != nil {
				cur = &scriptClass{module: strings.TrimSpace(m[2]) == "Module", stateNames: map[string]bool{}}
				classes[m[1]] = cur
				continue
			}
			if m := listLine.FindStringSubmatch(l); m != nil && cur != nil {
				for _, q := range quoted.FindAllStringSubmatch(m[2], -1) {
					cur.stateNames[q[1]] = true
				}
			}
		}
	}
	return classes[cl.name]
}

// add materialises a tensor view into a fresh row-major array.
func (c *collector) add(name string, rt *rawTensor) error {
	bad := func(format string, args ...any) error {
		return c.a.fail("tensor %q: "+format, append([]any{name}, args...)...)
	}
	if _, dup := c.out[name]; dup {
		return bad("name appears twice")
	}
	s := rt.storage
	offset, ok := rt.offset.(int)
	if !ok || offset < 0 {
		return bad("invalid storage offset %v", rt.offset)
	}
	shape, err := intTuple(rt.size)
	if err != nil {
		return bad("size: %v", err)
	}
	stride, err := intTuple(rt.stride)
	if err != nil {
		return bad("stride: %v", err)
	}
	if len(stride) != len(shape) {
		return bad("%d strides for %d dimensions", len(stride), len(shape))
	}
	n := 1
	last := offset // highest element index the view touches
	for i, d := range shape {
		if d < 0 || stride[i] < 0 {
			return bad("negative size or stride (size %v, stride %v)", shape, stride)
		}
		if d == 0 {
			n = 0
			continue
		}
		if n > maxElems/d {
			return bad("size %v too large", shape)
		}
		n *= d
		if stride[i] > 0 && d-1 > (math.MaxInt-last)/stride[i] {
			return bad("stride %v overflows", stride)
		}
		last += (d - 1) * stride[i]
	}
	if n > 0 && last >= s.numel {
		return bad("view (offset %d, size %v, stride %v) reaches element %d of a %d-element storage",
			offset, shape, stride, last, s.numel)
	}
	if c.storagesSeen == nil {
		c.storagesSeen = map[*storage]bool{}
	}
	if !c.storagesSeen[s] {
		c.storagesSeen[s] = true
		c.storageElems += s.numel
	}
	c.outElems += n
	if c.outElems > 16*c.storageElems+(1<<20) {
		return bad("tensors hold far more elements (%d) than the file's storages (%d): refusing the expansion", c.outElems, c.storageElems)
	}

	t := &Tensor{Name: name, Shape: shape, DType: s.cls.dtype}
	conv := converter(s.cls.dtype)
	if conv.float != nil {
		t.Data = make([]float32, n)
	} else {
		t.Int = make([]int64, n)
	}
	if n > 0 {
		gather(shape, stride, offset, func(dst, src, count, step int) {
			if conv.float != nil {
				conv.float(t.Data[dst:dst+count], s.data, src, step)
			} else {
				conv.int(t.Int[dst:dst+count], s.data, src, step)
			}
		})
	}
	c.out[name] = t
	return nil
}

// stringsIn adds the strings of a pickled set to m. A set pickles as
// builtins.set([...]) (protocol 2) or as EMPTY_SET + ADDITEMS (protocol 4).
func stringsIn(v any, m map[string]bool) {
	var items []any
	switch x := v.(type) {
	case *object:
		for _, a := range x.args {
			if l, ok := a.(*types.List); ok {
				items = append(items, *l...)
			}
		}
	case *types.Set:
		for k := range *x {
			items = append(items, k)
		}
	case *types.List:
		items = *x
	}
	for _, it := range items {
		if s, ok := it.(string); ok {
			m[s] = true
		}
	}
}

// intTuple converts a pickled tuple of ints (a torch.Size or stride).
func intTuple(v any) ([]int, error) {
	t, ok := v.(*types.Tuple)
	if !ok {
		return nil, fmt.Errorf("expected a tuple, got %s", describe(v))
	}
	out := make([]int, t.Len())
	for i := range out {
		switch x := t.Get(i).(type) {
		case int:
			out[i] = x
		case *big.Int:
			return nil, fmt.Errorf("dimension %v out of range", x)
		default:
			return nil, fmt.Errorf("expected ints, got %s", describe(x))
		}
	}
	return out, nil
}

// gather visits a strided view in row-major order, one innermost row at a
// time: fn copies count elements from storage index src (stepping by step)
// to output index dst.
func gather(shape, stride []int, offset int, fn func(dst, src, count, step int)) {
	nd := len(shape)
	if nd == 0 {
		fn(0, offset, 1, 1)
		return
	}
	inner, innerStride := shape[nd-1], stride[nd-1]
	idx := make([]int, nd-1)
	src, dst := offset, 0
	for {
		fn(dst, src, inner, innerStride)
		dst += inner
		k := nd - 2
		for ; k >= 0; k-- {
			idx[k]++
			src += stride[k]
			if idx[k] < shape[k] {
				break
			}
			src -= idx[k] * stride[k]
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

// conv converts count elements of one dtype from little-endian storage bytes.
type conv struct {
	float func(dst []float32, b []byte, src, step int)
	int   func(dst []int64, b []byte, src, step int)
}

func converter(dtype string) conv {
	le := binary.LittleEndian
	switch dtype {
	case "float32":
		return conv{float: func(d []float32, b []byte, s, st int) {
			for i := range d {
				d[i] = math.Float32frombits(le.Uint32(b[4*(s+i*st):]))
			}
		}}
	case "float64":
		return conv{float: func(d []float32, b []byte, s, st int) {
			for i := range d {
				d[i] = float32(math.Float64frombits(le.Uint64(b[8*(s+i*st):])))
			}
		}}
	case "float16":
		return conv{float: func(d []float32, b []byte, s, st int) {
			for i := range d {
				d[i] = safetensors.HalfToFloat32(le.Uint16(b[2*(s+i*st):]))
			}
		}}
	case "bfloat16":
		return conv{float: func(d []float32, b []byte, s, st int) {
			for i := range d {
				d[i] = safetensors.BFloat16ToFloat32(le.Uint16(b[2*(s+i*st):]))
			}
		}}
	case "int64":
		return conv{int: func(d []int64, b []byte, s, st int) {
			for i := range d {
				d[i] = int64(le.Uint64(b[8*(s+i*st):]))
			}
		}}
	case "int32":
		return conv{int: func(d []int64, b []byte, s, st int) {
			for i := range d {
				d[i] = int64(int32(le.Uint32(b[4*(s+i*st):])))
			}
		}}
	case "int16":
		return conv{int: func(d []int64, b []byte, s, st int) {
			for i := range d {
				d[i] = int64(int16(le.Uint16(b[2*(s+i*st):])))
			}
		}}
	case "int8":
		return conv{int: func(d []int64, b []byte, s, st int) {
			for i := range d {
				d[i] = int64(int8(b[s+i*st]))
			}
		}}
	case "uint8":
		return conv{int: func(d []int64, b []byte, s, st int) {
			for i := range d {
				d[i] = int64(b[s+i*st])
			}
		}}
	default: // bool
		return conv{int: func(d []int64, b []byte, s, st int) {
			for i := range d {
				if b[s+i*st] != 0 {
					d[i] = 1
				}
			}
		}}
	}
}
