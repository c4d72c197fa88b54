// Package hostsim runs the engine's real CUDA kernels — the .cu sources
// package cuda compiles with NVRTC — on the host CPU, so that machines
// without a GPU test the kernel code itself, not a model of it.
//
// The kernel files are compiled as C++ by the host's g++ against runtime.h,
// which supplies threadIdx, shared memory, barriers, warp shuffles and
// atomics, and linked into a device process (server.cc) that this package
// drives through pipes. Each block's threads are coroutines switched at
// barriers; blocks run in parallel on OS threads. Every device allocation
// ends at an inaccessible page, so a kernel that reads or writes past the end
// of a buffer faults, and the error names the kernel; shared memory starts
// each block as NaN.
//
// The build also stops, naming the kernel and the source line, at faults a
// GPU would have or would hide (-fsanitize=alignment,bounds,
// signed-integer-overflow): an access through a typed pointer off its type's
// alignment (a float4 off 16 bytes), an index past a fixed-size array
// (shared memory's included), a signed integer operation that overflows (an
// index computed in int that wraps). So does the runtime at a warp shuffle
// whose member mask names a lane that has returned (the simulator would read
// a stale value) and at threads of one block waiting at different
// __syncthreads calls.
//
// Device implements the memory, copy and launch methods of *cuda.Device that
// the tensor layer uses (tensor.CUDABackend), like package emu; where emu
// interprets each kernel's contract in Go, hostsim runs the kernel.
//
// What it cannot show: speed, and arithmetic differences that come from the
// GPU contracting multiply-adds into FMAs (the host build does not contract;
// the GPU tests' tolerances cover both).
package hostsim

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/lafite-go/lafite/kernels/cuda"
)

//go:embed csrc/runtime.h
var runtimeHeader string

//go:embed csrc/server.cc
var serverSource string

// Compiler is the C++ compiler the device process is built with: $CXX, or
// g++.
func Compiler() string {
	if c := os.Getenv("CXX"); c != "" {
		return c
	}
	return "g++"
}

// Available reports why the host simulator cannot be built here, or nil.
func Available() error {
	if _, err := exec.LookPath(Compiler()); err != nil {
		return fmt.Errorf("hostsim: no C++ compiler (%s): %w", Compiler(), err)
	}
	return nil
}

var (
	buildMu   sync.Mutex
	buildPath string
	buildErr  error
)

// Build compiles the device process once per set of sources (cached under
// $LAFITE_HOSTSIM_CACHE, or the user cache directory) and returns its path.
func Build() (string, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildPath != "" || buildErr != nil {
		return buildPath, buildErr
	}
	us, err := units()
	if err != nil {
		buildErr = err
		return "", err
	}
	buildPath, buildErr = build(us)
	return buildPath, buildErr
}

func cacheRoot() (string, error) {
	d, err := cuda.CacheDir("LAFITE_HOSTSIM_CACHE", "lafite-hostsim")
	if err != nil {
		return "", fmt.Errorf("hostsim: %w", err)
	}
	return d, nil
}

// unit is one translation unit of the device process.
type unit struct{ name, source string }

func units() ([]unit, error) {
	us := []unit{{"server.cpp", serverSource}}
	entries := cuda.Entries()
	for _, f := range cuda.KernelFiles() {
		src, err := cuda.KernelSource(f)
		if err != nil {
			return nil, err
		}
		var fileEntries []cuda.Entry
		for _, e := range entries {
			if e.File == f {
				fileEntries = append(fileEntries, e)
			}
		}
		tu, err := translate(f, src, fileEntries)
		if err != nil {
			return nil, fmt.Errorf("hostsim: %s: %w", f, err)
		}
		us = append(us, unit{strings.TrimSuffix(f, ".cu") + ".cpp", tu})
	}
	return us, nil
}

var (
	dynamicSharedRE = regexp.MustCompile(`extern\s+__shared__\s+(?:__align__\(\d+\)\s+)?([A-Za-z_][A-Za-z0-9_ ]*?)\s+(\w+)\s*\[\s*\]\s*;`)
	staticSharedRE  = regexp.MustCompile(`((?:^|[^\w])__shared__\s+(?:__align__\(\d+\)\s+)?[A-Za-z_]\w*\s+(\w+)\s*(?:\[[^\]]+\])+\s*;)`)
)

// translate turns a kernel file into a host translation unit: dynamic shared
// memory becomes the block's buffer, each static shared array is filled with
// NaN bytes when a block first reaches it (on a GPU its contents start
// undefined; here the thread_local array would keep the previous block's),
// and each entry point gets a wrapper that unpacks its arguments and
// registers it by name. The file's names live in a namespace of their own
// (the entry points' C names are unique).
func translate(file, src string, entries []cuda.Entry) (string, error) {
	var b strings.Builder
	ns := "kernel_file_" + strings.TrimSuffix(file, ".cu")
	fmt.Fprintf(&b, "#include \"runtime.h\"\nnamespace %s {\n#line 1 %q\n", ns, file)
	src = dynamicSharedRE.ReplaceAllString(src, "$1* $2 = reinterpret_cast<$1*>(sim::dynamic_shared);")
	src = staticSharedRE.ReplaceAllString(src, "$1 sim::fresh_shared($2, sizeof($2));")
	b.WriteString(src)
	b.WriteString("\n")
	for _, e := range entries {
		ps, err := e.Parameters()
		if err != nil {
			return "", err
		}
		var args []string
		for i, p := range ps {
			args = append(args, fmt.Sprintf("*reinterpret_cast<%s*>(a[%d])", p.CType, i))
		}
		fmt.Fprintf(&b, "void launch_%s(void** a) { %s(%s); }\n", e.Name, e.Name, strings.Join(args, ", "))
		fmt.Fprintf(&b, "sim::Registration register_%s(%q, launch_%s);\n", e.Name, e.Name, e.Name)
	}
	fmt.Fprintf(&b, "} // namespace %s\n", ns)
	return b.String(), nil
}

func build(us []unit) (string, error) {
	if err := Available(); err != nil {
		return "", err
	}
	version, err := exec.Command(Compiler(), "--version").Output()
	if err != nil {
		return "", fmt.Errorf("hostsim: %s --version: %w", Compiler(), err)
	}
	flags := []string{"-std=c++17", "-O2", "-ffp-contract=off", "-fno-strict-aliasing", "-U_FORTIFY_SOURCE", "-w", "-pthread",
		"-fsanitize=alignment,bounds,signed-integer-overflow", "-fno-sanitize-recover=alignment,bounds,signed-integer-overflow"} // faults a GPU would have, or hide
	h := sha256.New()
	h.Write(version)
	fmt.Fprintf(h, "%q\x00", flags)
	h.Write([]byte(runtimeHeader))
	for _, u := range us {
		fmt.Fprintf(h, "%s\x00%s\x00", u.name, u.source)
	}
	root, err := cacheRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, hex.EncodeToString(h.Sum(nil))[:16])
	bin := filepath.Join(dir, "device")
	if _, err := os.Stat(bin); err == nil {
		now := time.Now()
		os.Chtimes(bin, now, now) // in use: not pruned
		return bin, nil
	}
	// Build in a fresh folder and rename it into place, so that test
	// processes building at the same time never see half a build.
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("hostsim: %w", err)
	}
	tmp, err := os.MkdirTemp(root, "build-")
	if err != nil {
		return "", fmt.Errorf("hostsim: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "runtime.h"), []byte(runtimeHeader), 0o644); err != nil {
		return "", fmt.Errorf("hostsim: %w", err)
	}
	objs := make([]string, len(us))
	errs := make([]error, len(us))
	sem := make(chan struct{}, runtime.NumCPU())
	var wg sync.WaitGroup
	for i, u := range us {
		src := filepath.Join(tmp, u.name)
		if err := os.WriteFile(src, []byte(u.source), 0o644); err != nil {
			return "", fmt.Errorf("hostsim: %w", err)
		}
		objs[i] = strings.TrimSuffix(src, ".cpp") + ".o"
		wg.Add(1)
		go func(i int, src string) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			args := append(append([]string{}, flags...), "-c", "-o", objs[i], src)
			if out, err := exec.Command(Compiler(), args...).CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("hostsim: compiling %s: %w\n%s", filepath.Base(src), err, out)
			}
		}(i, src)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	args := append(append(append([]string{}, flags...), "-o", filepath.Join(tmp, "device")), objs...)
	if out, err := exec.Command(Compiler(), args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("hostsim: linking: %w\n%s", err, out)
	}
	final := tmp + ".done"
	if err := os.MkdirAll(final, 0o755); err != nil {
		return "", fmt.Errorf("hostsim: %w", err)
	}
	if err := os.Rename(filepath.Join(tmp, "device"), filepath.Join(final, "device")); err != nil {
		return "", fmt.Errorf("hostsim: %w", err)
	}
	if err := os.Rename(final, dir); err != nil {
		os.RemoveAll(final)
		if _, serr := os.Stat(bin); serr == nil {
			return bin, nil // another process finished first
		}
		return "", fmt.Errorf("hostsim: %w", err)
	}
	prune(root, dir)
	return bin, nil
}

// prune removes the builds of other sources not used for a week, and build
// folders that a killed process left behind, so that the cache does not grow
// with every edit of a kernel.
func prune(root, keep string) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range ents {
		path := filepath.Join(root, e.Name())
		if !e.IsDir() || path == keep {
			continue
		}
		info, err := os.Stat(path)
		if err != nil {
			continue
		}
		age := time.Since(info.ModTime())
		if d, err := os.Stat(filepath.Join(path, "device")); err == nil {
			age = time.Since(d.ModTime())
		}
		stale := strings.HasPrefix(e.Name(), "build-") && age > time.Hour
		if stale || (!strings.HasPrefix(e.Name(), "build-") && age > 7*24*time.Hour) {
			os.RemoveAll(path)
		}
	}
}

// Device is a running device process.
type Device struct {
	mu       sync.Mutex
	cmd      *exec.Cmd
	in       *bufio.Writer
	inClose  io.Closer
	out      *bufio.Reader
	stderr   *lockedBuffer
	dead     error
	sizes    map[cuda.DevicePtr]int64
	live     int64
	peak     int64
	launches map[string]int
	params   map[string][]cuda.Param
	props    cuda.DeviceProps
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.TrimSpace(l.b.String())
}

// TB is what ForTest needs of a *testing.T (an interface, so that the
// binaries that link this package do not link package testing).
type TB interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Skip(args ...any)
	Cleanup(func())
}

// ForTest starts a device for a test and stops it when the test ends. Without
// a C++ compiler it skips the test, or fails it under CI (CI=true), which
// must install one.
func ForTest(tb TB) *Device {
	tb.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("CI must install a C++ compiler for the host simulator: %v", err)
		}
		tb.Skip(err)
	}
	d, err := New()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

// New builds the device process if needed and starts it. Close stops it.
func New() (*Device, error) {
	bin, err := Build()
	if err != nil {
		return nil, err
	}
	return start(bin)
}

// start runs the device process bin.
func start(bin string) (*Device, error) {
	params := map[string][]cuda.Param{}
	for _, e := range cuda.Entries() {
		ps, err := e.Parameters()
		if err != nil {
			return nil, err
		}
		params[e.Name] = ps
	}
	cmd := exec.Command(bin)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("hostsim: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("hostsim: %w", err)
	}
	d := &Device{cmd: cmd, in: bufio.NewWriterSize(in, 1<<16), inClose: in, out: bufio.NewReaderSize(out, 1<<16),
		stderr: &lockedBuffer{}, sizes: map[cuda.DevicePtr]int64{}, launches: map[string]int{}, params: params,
		props: cuda.DeviceProps{Name: "host simulator (" + Compiler() + ")", Major: 8, Minor: 0, SMs: 4,
			MaxSharedOptin: 99 << 10, TotalMem: 1 << 32}}
	cmd.Stderr = d.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("hostsim: starting %s: %w", bin, err)
	}
	return d, nil
}

// Close stops the device process; its memory goes with it.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dead == nil {
		d.dead = errors.New("hostsim: device closed")
	}
	d.inClose.Close()
	return d.cmd.Wait()
}

// Props describes the simulated device (what launch planning reads).
func (d *Device) Props() cuda.DeviceProps { return d.props }

// request sends one framed request and reads the status; payload, when not
// nil, receives the reply's data. what names the request in errors.
func (d *Device) request(what string, req []byte, payload []byte) error {
	if d.dead != nil {
		return d.dead
	}
	_, err := d.in.Write(req)
	if err == nil {
		err = d.in.Flush()
	}
	var status uint32
	if err == nil { // a failed write (the process gone) is the error, not the read after it
		err = binary.Read(d.out, binary.LittleEndian, &status)
	}
	if err == nil && status == 0 && len(payload) > 0 {
		_, err = io.ReadFull(d.out, payload)
	}
	if err != nil {
		// The process is gone: wait for it so that its last words are in.
		d.inClose.Close()
		werr := d.cmd.Wait()
		msg := d.stderr.String()
		if msg == "" && werr != nil {
			msg = werr.Error()
		}
		d.dead = fmt.Errorf("hostsim: the device process died during %s: %s", what, msg)
		return d.dead
	}
	if status != 0 {
		var n uint32
		if err := binary.Read(d.out, binary.LittleEndian, &n); err != nil {
			return fmt.Errorf("hostsim: %s: unreadable error reply: %w", what, err)
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(d.out, msg); err != nil {
			return fmt.Errorf("hostsim: %s: unreadable error reply: %w", what, err)
		}
		return fmt.Errorf("hostsim: %s: %s", what, msg)
	}
	return nil
}

func le(b []byte, vs ...any) []byte {
	for _, v := range vs {
		b, _ = binary.Append(b, binary.LittleEndian, v)
	}
	return b
}

// Alloc allocates device memory.
func (d *Device) Alloc(bytes int64) (cuda.DevicePtr, error) {
	if bytes < 0 {
		return 0, fmt.Errorf("hostsim: alloc of %d bytes", bytes)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var p [8]byte
	if err := d.request("alloc", le([]byte{'A'}, uint64(bytes)), p[:]); err != nil {
		return 0, err
	}
	ptr := cuda.DevicePtr(binary.LittleEndian.Uint64(p[:]))
	d.sizes[ptr] = bytes
	d.live += bytes
	d.peak = max(d.peak, d.live)
	return ptr, nil
}

// Free releases an allocation.
func (d *Device) Free(p cuda.DevicePtr) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.request("free", le([]byte{'F'}, uint64(p)), nil); err != nil {
		return err
	}
	d.live -= d.sizes[p]
	delete(d.sizes, p)
	return nil
}

// Stats returns the bytes allocated now and at most.
func (d *Device) Stats() (live, peak int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.live, d.peak
}

func (d *Device) write(dst cuda.DevicePtr, data []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.request("copy to device", append(le([]byte{'W'}, uint64(dst), uint64(len(data))), data...), nil)
}

func (d *Device) read(dst []byte, src cuda.DevicePtr) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.request("copy from device", le([]byte{'R'}, uint64(src), uint64(len(dst))), dst)
}

func bytesOf[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(s[0])))
}

// CopyHtoDF32 copies host floats to the device.
func (d *Device) CopyHtoDF32(dst cuda.DevicePtr, src []float32) error {
	return d.write(dst, bytesOf(src))
}

// CopyHtoDI32 copies host ints to the device.
func (d *Device) CopyHtoDI32(dst cuda.DevicePtr, src []int32) error {
	return d.write(dst, bytesOf(src))
}

// CopyDtoHF32 copies device floats to the host.
func (d *Device) CopyDtoHF32(dst []float32, src cuda.DevicePtr) error {
	return d.read(bytesOf(dst), src)
}

// CopyDtoD copies between device buffers.
func (d *Device) CopyDtoD(dst, src cuda.DevicePtr, bytes int64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.request("device copy", le([]byte{'C'}, uint64(dst), uint64(src), uint64(bytes)), nil)
}

// MemsetD32 fills n 32-bit words with v.
func (d *Device) MemsetD32(dst cuda.DevicePtr, v uint32, n int64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.request("memset", le([]byte{'M'}, uint64(dst), v, uint64(n)), nil)
}

// Synchronize returns at once: a launch's reply comes when it has finished.
func (d *Device) Synchronize() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dead
}

// Function looks up an entry point of an embedded kernel file.
func (d *Device) Function(file, entry string) (*cuda.Function, error) {
	for _, en := range cuda.Entries() {
		if en.File == file && en.Name == entry {
			return &cuda.Function{Name: entry}, nil
		}
	}
	return nil, fmt.Errorf("hostsim: no entry point %s in %s", entry, file)
}

// Launch runs a kernel to completion. The arguments follow the kernel's C
// parameters exactly, as for (*cuda.Device).Launch; a launch the GPU would
// refuse is refused here.
func (d *Device) Launch(f *cuda.Function, grid, block cuda.Dim3, shared int, args ...any) error {
	ps, ok := d.params[f.Name]
	if !ok {
		return fmt.Errorf("hostsim: no entry point %s", f.Name)
	}
	if n := block.X * block.Y * block.Z; n == 0 || n > 1024 || block.Z > 64 {
		return fmt.Errorf("hostsim: %s: block %v", f.Name, block)
	}
	if grid.X == 0 || grid.Y == 0 || grid.Z == 0 || grid.Y > 65535 || grid.Z > 65535 {
		return fmt.Errorf("hostsim: %s: grid %v", f.Name, grid)
	}
	if shared < 0 || shared > d.props.MaxSharedOptin {
		return fmt.Errorf("hostsim: %s: %d bytes of shared memory", f.Name, shared)
	}
	if len(args) != len(ps) {
		return fmt.Errorf("hostsim: %s takes %d arguments, launched with %d", f.Name, len(ps), len(args))
	}
	req := le([]byte{'L'}, uint32(len(f.Name)))
	req = append(req, f.Name...)
	req = le(req, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, uint32(shared), uint32(len(args)))
	for i, a := range args {
		if reflect.TypeOf(a) != ps[i].Go {
			return fmt.Errorf("hostsim: %s argument %d (%s) is %T, the kernel takes %v", f.Name, i, ps[i].Name, a, ps[i].Go)
		}
		v := reflect.ValueOf(a)
		cell := reflect.New(v.Type())
		cell.Elem().Set(v)
		raw := unsafe.Slice((*byte)(cell.UnsafePointer()), v.Type().Size())
		req = le(req, uint32(len(raw)))
		req = append(req, raw...)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.launches[f.Name]++
	return d.request("kernel "+f.Name, req, nil)
}

// Launches returns "entry=n" for every kernel launched so far, sorted.
func (d *Device) Launches() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return cuda.LaunchCounts(d.launches)
}
