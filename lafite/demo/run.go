package demo

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/lafite-go/lafite/internal/atomicfile"
	"github.com/lafite-go/lafite/lafite"
	"github.com/lafite-go/lafite/lafite/miniclip"
	"github.com/lafite-go/lafite/lafite/shapes"
)

// The bundled models, trained on the CPU with the commands in the README.
//
//go:embed assets/*.safetensors
var assets embed.FS

// Models are the three networks of the demo.
type Models struct {
	CLIP      *lafite.CLIPEncoder
	Generator *lafite.Generator
	Judge     *shapes.Judge
}

// assetPath materialises an embedded asset as a file (the loaders read
// paths) in the user cache, named by its content hash so that a changed
// bundle never reads a stale copy.
func assetPath(name string) (string, error) {
	data, err := assets.ReadFile("assets/" + name)
	if err != nil {
		return "", fmt.Errorf("demo: bundled %s missing: %v", name, err)
	}
	sum := sha256.Sum256(data)
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "lafite", "demo")
	path := filepath.Join(dir, hex.EncodeToString(sum[:8])+"-"+name)
	if st, err := os.Stat(path); err == nil && st.Size() == int64(len(data)) {
		return path, nil
	}
	return path, atomicfile.WriteFileAll(path, data)
}

// LoadModels reads models from files, or the bundled ones where a path is "".
func LoadModels(clipPath, genPath, judgePath string) (*Models, error) {
	var err error
	resolve := func(p *string, name string) {
		if *p == "" && err == nil {
			*p, err = assetPath(name)
		}
	}
	resolve(&clipPath, "miniclip.safetensors")
	resolve(&genPath, "generator.safetensors")
	resolve(&judgePath, "judge.safetensors")
	if err != nil {
		return nil, err
	}
	m := &Models{}
	if m.CLIP, err = lafite.OpenCLIP(clipPath, ""); err != nil {
		return nil, err
	}
	if m.Generator, err = lafite.LoadGenerator(genPath); err != nil {
		return nil, err
	}
	if m.Judge, err = shapes.LoadJudge(judgePath); err != nil {
		return nil, err
	}
	return m, nil
}

// Run evaluates the models on every colour × shape prompt, writes the
// labelled grid to gridPath and prints the table.
func Run(m *Models, gridPath string, o EvalOptions, w io.Writer) (*Report, error) {
	start := time.Now()
	r, err := Evaluate(m.Generator, m.CLIP, m.Judge, o)
	if err != nil {
		return nil, err
	}
	if err := writeGrid(r, gridPath); err != nil {
		return nil, err
	}
	r.Print(w, fmt.Sprintf("grid: %s (%.1fs)", gridPath, time.Since(start).Seconds()))
	return r, nil
}

// writeGrid lays out one row per shape and one column per colour: the first
// image of each prompt, labelled with its prompt.
func writeGrid(r *Report, path string) error {
	_, shapeOf, colourOf := miniclip.Prompts()
	cells := make([]*image.RGBA, shapes.NumShapes*shapes.NumColors)
	labels := make([]string, len(cells))
	for p, img := range r.Images {
		i := shapeOf[p]*shapes.NumColors + colourOf[p]
		cells[i] = lafite.TensorToImages(img.Narrow(0, 0, 1))[0]
		labels[i] = shapes.ColorNames[colourOf[p]] + " " + shapes.ShapeNames[shapeOf[p]]
	}
	g := lafite.Grid{Images: cells, Cols: shapes.NumColors, Cell: 112, Labels: labels}
	return lafite.WritePNG(path, g.Render())
}
