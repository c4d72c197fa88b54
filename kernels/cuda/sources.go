package cuda

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// The kernels travel inside the binary so that a GPU machine needs no source
// tree, only NVRTC.
//
//go:embed kernels/*.cu
var kernelFS embed.FS

// KernelFiles returns the embedded kernel files ("bias_act.cu", ...), sorted.
func KernelFiles() []string {
	ents, err := fs.ReadDir(kernelFS, "kernels")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".cu") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// KernelSource returns the source of one embedded kernel file; the ".cu"
// suffix is optional.
func KernelSource(file string) (string, error) {
	if !strings.HasSuffix(file, ".cu") {
		file += ".cu"
	}
	b, err := kernelFS.ReadFile("kernels/" + file)
	if err != nil {
		return "", fmt.Errorf("cuda: no embedded kernel file %q", file)
	}
	return string(b), nil
}
