package cuda

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lafite-go/lafite/internal/atomicfile"
)

// Target is what NVRTC is asked to produce for one GPU.
type Target struct {
	Arch  string // "sm_90" (CUBIN) or "compute_86" (PTX the driver JIT-compiles)
	CUBIN bool
	// Note says why the target differs from the GPU's own architecture, if it
	// does (e.g. NVRTC too old for the GPU).
	Note string
}

// ChooseTarget picks NVRTC's output for a GPU of compute capability cc (e.g.
// 90). CUBIN for the exact architecture when NVRTC can emit it saves the
// driver's JIT step; when NVRTC does not know the GPU, PTX for the newest
// architecture it knows still runs, because the driver compiles PTX forward.
func ChooseTarget(cc int, archs []int, hasCUBIN bool) (Target, error) {
	supported := archs == nil // unknown: let the compile decide
	for _, a := range archs {
		if a == cc {
			supported = true
		}
	}
	if supported {
		if hasCUBIN {
			return Target{Arch: fmt.Sprintf("sm_%d", cc), CUBIN: true}, nil
		}
		return Target{Arch: fmt.Sprintf("compute_%d", cc)}, nil
	}
	best := 0
	for _, a := range archs {
		if a <= cc && a > best {
			best = a
		}
	}
	if best == 0 {
		return Target{}, fmt.Errorf("cuda: NVRTC supports none of the architectures up to compute_%d (it knows %v)", cc, archs)
	}
	return Target{
		Arch: fmt.Sprintf("compute_%d", best),
		Note: fmt.Sprintf("NVRTC does not know compute_%d; PTX for compute_%d, JIT-compiled by the driver", cc, best),
	}, nil
}

// CompileOptions are the NVRTC options for every embedded kernel and target.
// No fast-math: kernels are checked against float64 CPU references.
func CompileOptions(n *NVRTC, t Target) []string {
	std := "--std=c++14"
	if n.Major >= 11 {
		std = "--std=c++17"
	}
	return []string{"--gpu-architecture=" + t.Arch, std, "-lineinfo"}
}

// KernelCacheDir is where compiled kernels are kept: $LAFITE_KERNEL_CACHE, or
// lafite/kernels under the user cache directory.
func KernelCacheDir() (string, error) {
	d, err := CacheDir("LAFITE_KERNEL_CACHE", "lafite", "kernels")
	if err != nil {
		return "", fmt.Errorf("cuda: kernel cache: %w", err)
	}
	return d, nil
}

// CacheDir is the directory the environment variable env names, or else
// elems joined under the user's cache directory (the kernel cache, the host
// simulator's builds).
func CacheDir(env string, elems ...string) (string, error) {
	if d := os.Getenv(env); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (%v); set %s", err, env)
	}
	return filepath.Join(append([]string{d}, elems...)...), nil
}

// cacheKey hashes everything that changes the compiled output. Fields are
// length-prefixed so that no two different inputs hash the same bytes.
func cacheKey(src string, opts []string, nvrtcVersion, arch string) string {
	h := sha256.New()
	put := func(s string) {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	put("lafite-kernel-cache-v1")
	put(src)
	put(fmt.Sprint(len(opts)))
	for _, o := range opts {
		put(o)
	}
	put(nvrtcVersion)
	put(arch)
	return hex.EncodeToString(h.Sum(nil))
}

// cachePath names a cache entry; the kernel name and arch are there for people
// looking at the folder, the key is what matters.
func cachePath(dir, name, arch, key string, cubin bool) string {
	ext := ".ptx"
	if cubin {
		ext = ".cubin"
	}
	base := strings.TrimSuffix(filepath.Base(name), ".cu")
	return filepath.Join(dir, fmt.Sprintf("%s-%s-%s%s", base, arch, key, ext))
}

// compileCached returns the compiled image of src for target t, from the cache
// directory when present. A cache that cannot be written is not an error: the
// kernel is still compiled, only not kept.
func compileCached(n *NVRTC, dir, name, src string, t Target) (image []byte, fromCache bool, err error) {
	opts := CompileOptions(n, t)
	key := cacheKey(src, opts, n.Version(), t.Arch)
	path := ""
	if dir != "" {
		path = cachePath(dir, name, t.Arch, key, t.CUBIN)
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return b, true, nil
		}
	}
	ptx, cubin, log, err := n.Compile(src, name, opts)
	if err != nil {
		return nil, false, fmt.Errorf("cuda: compiling %s for %s: %w", name, t.Arch, err)
	}
	_ = log // warnings are caught by TestKernelsCompileNVRTC, not at run time
	image = ptx
	if t.CUBIN {
		if cubin == nil {
			return nil, false, fmt.Errorf("cuda: compiling %s for %s: NVRTC returned no CUBIN", name, t.Arch)
		}
		image = cubin
	}
	if path != "" {
		_ = atomicfile.WriteFileAll(path, image) // atomic: a concurrent reader never sees half a kernel
	}
	return image, false, nil
}
