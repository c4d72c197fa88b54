package cuda

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ebitengine/purego"
)

// nvrtcSonames lists the NVRTC sonames we can bind, newest first, so that a
// machine with several toolkits uses the one that knows the newest GPUs.
var nvrtcSonames = []string{"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"}

// pythonPrefixes are the places pip and conda put site-packages; PyTorch
// machines often have NVRTC only as a wheel (nvidia-cuda-nvrtc-cuXX).
var pythonPrefixes = []string{
	"$VIRTUAL_ENV/lib/python3*/site-packages",
	"$CONDA_PREFIX/lib/python3*/site-packages",
	"$HOME/.local/lib/python3*/site-packages",
	"/usr/local/lib/python3*/dist-packages",
	"/usr/local/lib/python3*/site-packages",
	"/usr/lib/python3/dist-packages",
	"/usr/lib/python3*/site-packages",
	"/opt/conda/lib/python3*/site-packages",
	"/opt/*/.venv/lib/python3*/site-packages", // a virtualenv under /opt (some GPU images)
}

// wheelLibDirs are the library folders of the NVRTC wheels below site-packages
// (cu11/cu12 wheels use nvidia/cuda_nvrtc/lib, CUDA 13 wheels nvidia/cu13/lib).
var wheelLibDirs = []string{"nvidia/cuda_nvrtc/lib", "nvidia/cu13/lib"}

// libLookup abstracts the environment and file system so that the search order
// can be tested without the libraries.
type libLookup struct {
	getenv func(string) string
	glob   func(pattern string) ([]string, error)
}

func osLookup() libLookup { return libLookup{getenv: os.Getenv, glob: filepath.Glob} }

// nvrtcCandidates returns the NVRTC files to try, in order. A candidate
// without a slash is left to the dynamic loader's own search. When
// LAFITE_NVRTC is set it is the only candidate.
//
// Order: $CUDA_HOME/lib64, /usr/local/cuda/lib64, python wheels, then the
// loader; within a folder the newest soname first.
func nvrtcCandidates(l libLookup) []string {
	if p := l.getenv("LAFITE_NVRTC"); p != "" {
		return []string{p}
	}
	var dirs []string
	if h := l.getenv("CUDA_HOME"); h != "" {
		dirs = append(dirs, filepath.Join(h, "lib64"))
	}
	dirs = append(dirs, "/usr/local/cuda/lib64")
	for _, pre := range pythonPrefixes {
		pat, ok := expandVars(pre, l.getenv)
		if !ok {
			continue
		}
		sites, err := l.glob(pat)
		if err != nil {
			continue
		}
		for _, site := range sites {
			for _, w := range wheelLibDirs {
				dirs = append(dirs, filepath.Join(site, w))
			}
		}
	}
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, d := range dirs {
		for _, so := range nvrtcSonames {
			add(filepath.Join(d, so))
		}
	}
	for _, so := range nvrtcSonames {
		add(so)
	}
	return out
}

// expandVars expands $NAME at the start of a pattern; ok is false when the
// variable is unset, so that "/lib/python3*" is not searched by accident.
func expandVars(p string, getenv func(string) string) (string, bool) {
	if !strings.HasPrefix(p, "$") {
		return p, true
	}
	i := strings.IndexByte(p, '/')
	v := getenv(p[1:i])
	if v == "" {
		return "", false
	}
	return v + p[i:], true
}

// openFirst dlopens the candidates in order and returns the first that opens.
// The error lists every failure because "not found" alone is useless when a
// library exists but cannot be loaded (wrong architecture, missing builtins).
func openFirst(cands []string, open func(string) (uintptr, error)) (uintptr, string, error) {
	var errs []string
	for _, c := range cands {
		h, err := open(c)
		if err == nil {
			return h, c, nil
		}
		// Missing absolute paths are the common case; keep the message short.
		if filepath.IsAbs(c) {
			if _, statErr := os.Stat(c); errors.Is(statErr, os.ErrNotExist) {
				continue
			}
		}
		errs = append(errs, fmt.Sprintf("%s: %v", c, err))
	}
	if len(errs) == 0 {
		return 0, "", fmt.Errorf("none of %d candidates exists", len(cands))
	}
	return 0, "", errors.New(strings.Join(errs, "; "))
}

func dlopen(path string) (uintptr, error) {
	return purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
}

// bindRequired binds each symbol or returns an error naming the one missing,
// instead of purego's panic.
func bind(handle uintptr, lib string, fns map[string]any, optional map[string]bool) error {
	for name, fptr := range fns {
		sym, err := purego.Dlsym(handle, name)
		if err != nil || sym == 0 {
			if optional[name] {
				continue
			}
			return fmt.Errorf("%s: symbol %s not found", lib, name)
		}
		purego.RegisterFunc(fptr, sym)
	}
	return nil
}
