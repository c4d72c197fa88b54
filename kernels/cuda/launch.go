package cuda

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"unsafe"

	"github.com/lafite-go/lafite/internal/atomicfile"
)

// Dim3 is a grid or block size.
type Dim3 struct{ X, Y, Z uint32 }

// D1 is a one-dimensional grid or block.
func D1(x int) Dim3 { return Dim3{uint32(x), 1, 1} }

// D3 is a three-dimensional grid or block.
func D3(x, y, z int) Dim3 { return Dim3{uint32(x), uint32(y), uint32(z)} }

// CeilDiv is the number of blocks of size b covering n.
func CeilDiv(n, b int) int { return (n + b - 1) / b }

// Module is one embedded kernel file loaded into a device's context.
type Module struct {
	d     *Device
	file  string
	h     uintptr
	Image []byte // what was loaded (CUBIN or PTX), for inspection
	Target
	funcs map[string]*Function
}

// Function is a kernel entry point of a loaded module.
type Function struct {
	m      *Module
	Name   string
	h      uintptr
	maxDyn int // dynamic shared memory opted in to, bytes
}

// Target returns the architecture the device's kernels are compiled for.
func (d *Device) Target() (Target, error) {
	d.modMu.Lock()
	defer d.modMu.Unlock()
	return d.targetLocked()
}

func (d *Device) targetLocked() (Target, error) {
	if d.target != nil {
		return *d.target, nil
	}
	n, err := sharedNVRTC()
	if err != nil {
		return Target{}, err
	}
	t, err := ChooseTarget(d.Props.CC(), n.SupportedArchs(), n.HasCUBIN())
	if err != nil {
		return Target{}, err
	}
	dir, err := KernelCacheDir()
	if err != nil {
		dir = "" // compile every run rather than fail
	}
	d.target, d.cache = &t, dir
	return t, nil
}

// Module compiles (or fetches from the disk cache) and loads one embedded
// kernel file, e.g. "sgemm" or "sgemm.cu". Loaded modules are kept until
// Close.
func (d *Device) Module(file string) (*Module, error) {
	file = strings.TrimSuffix(file, ".cu") + ".cu"
	d.modMu.Lock()
	defer d.modMu.Unlock()
	if m := d.modules[file]; m != nil {
		return m, nil
	}
	src, err := KernelSource(file)
	if err != nil {
		return nil, err
	}
	t, err := d.targetLocked()
	if err != nil {
		return nil, err
	}
	n, _ := sharedNVRTC()
	img, cached, err := compileCached(n, d.cache, file, src, t)
	if err != nil {
		return nil, err
	}
	m := &Module{d: d, file: file, Target: t, funcs: map[string]*Function{}}
	err = m.load(img)
	var ce *Error
	if err != nil && cached && errors.As(err, &ce) {
		// A damaged or foreign cache entry: compile afresh and overwrite it.
		img, _, err = compileCached(n, "", file, src, t)
		if err == nil {
			err = m.load(img)
			if err == nil && d.cache != "" {
				opts := CompileOptions(n, t)
				_ = atomicfile.WriteFileAll(cachePath(d.cache, file, t.Arch, cacheKey(src, opts, n.Version(), t.Arch), t.CUBIN), img)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cuda: loading %s (%s): %w", file, t.Arch, err)
	}
	d.modules[file] = m
	return m, nil
}

func (m *Module) load(img []byte) error {
	if !m.CUBIN {
		img = append(append([]byte(nil), img...), 0) // PTX is read as a C string
	}
	m.Image = img
	d := m.d
	return d.Do(func() error {
		err := d.drv.check("cuModuleLoadData", d.drv.cuModuleLoadData(&m.h, &img[0]))
		runtime.KeepAlive(img)
		return err
	})
}

func (m *Module) unload() error {
	return m.d.Do(func() error { return m.d.drv.check("cuModuleUnload", m.d.drv.cuModuleUnload(m.h)) })
}

// Function returns a kernel entry point of the module.
func (m *Module) Function(name string) (*Function, error) {
	m.d.modMu.Lock()
	defer m.d.modMu.Unlock()
	if f := m.funcs[name]; f != nil {
		return f, nil
	}
	f := &Function{m: m, Name: name}
	err := m.d.Do(func() error {
		return m.d.drv.check("cuModuleGetFunction", m.d.drv.cuModuleGetFunction(&f.h, m.h, name))
	})
	if err != nil {
		return nil, fmt.Errorf("%s in %s: %w", name, m.file, err)
	}
	m.funcs[name] = f
	return f, nil
}

// Function is Module(file) then Function(entry).
func (d *Device) Function(file, entry string) (*Function, error) {
	m, err := d.Module(file)
	if err != nil {
		return nil, err
	}
	return m.Function(entry)
}

// Launch queues f on the device's stream. Arguments are passed by value in
// order and must match the kernel's C parameters exactly: DevicePtr for
// pointers, int32/uint32/int64/uint64/float32/float64, or the parameter
// structs of params.go. Go's int and uint are refused because C's int is 32
// bits. Launch returns once the launch is queued for the owner goroutine:
// launch errors (bad geometry, too many resources) are returned by the next
// call that reports errors (another Launch, a copy, Synchronize), naming the
// kernel; faults inside the kernel surface at the next Synchronize.
func (d *Device) Launch(f *Function, grid, block Dim3, sharedMem int, args ...any) error {
	vals, err := packArgs(args)
	if err != nil {
		return fmt.Errorf("cuda: launching %s: %w", f.Name, err)
	}
	// The cells stay pinned until the owner goroutine has launched: Launch
	// returns before that (see enqueue).
	pin := new(runtime.Pinner)
	var params *unsafe.Pointer
	if len(vals) > 0 {
		for _, v := range vals {
			pin.Pin(v)
		}
		params = &vals[0]
	}
	return d.enqueue(func() error {
		defer pin.Unpin()
		defer runtime.KeepAlive(vals)
		if sharedMem > 48<<10 && sharedMem > f.maxDyn {
			// Above 48 KiB a kernel must opt in to dynamic shared memory.
			if d.drv.cuFuncSetAttribute == nil {
				return fmt.Errorf("cuda: launching %s: %d bytes of shared memory need cuFuncSetAttribute, absent from this driver", f.Name, sharedMem)
			}
			if err := d.drv.check("cuFuncSetAttribute", d.drv.cuFuncSetAttribute(f.h, funcAttrMaxDynamicSharedSizeBytes, int32(sharedMem))); err != nil {
				return fmt.Errorf("cuda: launching %s: %w", f.Name, err)
			}
			f.maxDyn = sharedMem
		}
		err := d.drv.check("cuLaunchKernel", d.drv.cuLaunchKernel(f.h, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z,
			uint32(sharedMem), d.stream, params, 0))
		if err != nil {
			return fmt.Errorf("cuda: launching %s grid %v block %v smem %d: %w", f.Name, grid, block, sharedMem, err)
		}
		return nil
	})
}

// packArgs copies each argument into its own heap cell and returns pointers
// to the cells: cuLaunchKernel wants void*[] with one pointer per parameter.
func packArgs(args []any) ([]unsafe.Pointer, error) {
	out := make([]unsafe.Pointer, len(args))
	for i, a := range args {
		if a == nil {
			return nil, fmt.Errorf("argument %d is nil (pass DevicePtr(0) for a null pointer)", i)
		}
		v := reflect.ValueOf(a)
		if err := checkArgType(v.Type()); err != nil {
			return nil, fmt.Errorf("argument %d (%s): %w", i, v.Type(), err)
		}
		p := reflect.New(v.Type())
		p.Elem().Set(v)
		out[i] = p.UnsafePointer()
	}
	return out, nil
}

// checkArgType accepts types whose Go layout is the C layout: fixed-size
// numbers and structs/arrays of them.
func checkArgType(t reflect.Type) error {
	switch t.Kind() {
	case reflect.Int8, reflect.Uint8, reflect.Int16, reflect.Uint16, reflect.Int32, reflect.Uint32,
		reflect.Int64, reflect.Uint64, reflect.Float32, reflect.Float64, reflect.Bool:
		return nil
	case reflect.Int, reflect.Uint, reflect.Uintptr:
		return errors.New("size differs from C's int; use int32 or int64 (DevicePtr for pointers)")
	case reflect.Array:
		return checkArgType(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if err := checkArgType(t.Field(i).Type); err != nil {
				return fmt.Errorf("field %s: %w", t.Field(i).Name, err)
			}
		}
		return nil
	default:
		return fmt.Errorf("kind %s cannot be a kernel parameter", t.Kind())
	}
}
