package main

import (
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/lafite-go/lafite/clip"
	"github.com/lafite-go/lafite/internal/atomicfile"
	"github.com/lafite-go/lafite/internal/sysmem"
	"github.com/lafite-go/lafite/lafite"
	"github.com/lafite-go/lafite/tensor"
)

type repeatedFlag []string

func (r *repeatedFlag) String() string     { return fmt.Sprint(*r) }
func (r *repeatedFlag) Set(v string) error { *r = append(*r, v); return nil }

func init() {
	register("generate", "render images from text prompts (and/or an image) with a trained generator", runGenerate)
}

func runGenerate(args []string, stdout io.Writer) error {
	fs := newFlags("generate", os.Stderr)
	gf := addGeneratorFlags(fs)
	var prompts repeatedFlag
	fs.Var(&prompts, "prompt", "text prompt (repeatable: one grid row per prompt)")
	imagePath := fs.String("image", "", "image condition (alone, or mixed with the prompt by --mix)")
	mix := fs.Float64("mix", 0.5, "weight of the text feature when both --prompt and --image are given")
	n := fs.Int("n", 8, "images per prompt")
	batch := fs.Int("batch", 16, "images rendered at a time (memory grows with it; the images do not change)")
	seed := fs.Uint64("seed", 0, "latent seed")
	psi := fs.Float64("psi", 1, "truncation ψ")
	out := fs.String("out", "grid.png", "output PNG grid")
	each := fs.String("each", "", "also write every image to this folder as ROW-SAMPLE.png (rows as the grid's), with rows.txt naming the rows")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dev, err := gf.parseDevice()
	if err != nil {
		return err
	}
	if dev == tensor.CUDA {
		// One pass over each shape: timing every way to run it would cost
		// more than the fastest saves (LAFITE_CUDA_AUTOTUNE=1 keeps it).
		if os.Getenv("LAFITE_CUDA_AUTOTUNE") != "1" {
			defer tensor.SetCUDAAutotune(false)()
		}
	}
	if *gf.ckpt == "" {
		return fmt.Errorf("--ckpt is required")
	}
	if len(prompts) == 0 && *imagePath == "" {
		return fmt.Errorf("give at least one --prompt or an --image")
	}
	if *n < 1 || *batch < 1 {
		return fmt.Errorf("--n and --batch must be positive")
	}
	if math.IsNaN(*psi) || math.IsInf(*psi, 0) || !(*mix >= 0 && *mix <= 1) {
		return fmt.Errorf("--psi %v must be a number and --mix %v in [0, 1]", *psi, *mix)
	}
	g, enc, err := gf.load(dev)
	if err != nil {
		return err
	}
	// Every image is held, then drawn into the grid: refused up front when
	// that cannot fit, rather than after the generator ran out of memory.
	res, cell, rows := uint64(g.Config.Resolution), uint64(max(64, g.Config.Resolution)), uint64(max(len(prompts), 1))
	if err := sysmem.Check(rows*uint64(*n)*4*(res*res+cell*cell), fmt.Sprintf("a grid of %d x %d images", rows, *n)); err != nil {
		return fmt.Errorf("%v; ask for fewer with --n", err)
	}
	var imgFeat *tensor.Tensor
	if *imagePath != "" {
		im, err := clip.LoadImage(*imagePath)
		if err != nil {
			return err
		}
		b := im.Bounds()
		side := min(b.Dx(), b.Dy())
		if imgFeat, err = enc.EncodeImages([]*image.RGBA{lafite.CenterCropResize(im, side)}); err != nil {
			return err
		}
	}
	var conds []*tensor.Tensor
	var titles []string
	if len(prompts) == 0 {
		conds, titles = append(conds, imgFeat), append(titles, "[image]")
	}
	if len(prompts) > 0 {
		txt, err := enc.EncodeTexts(prompts)
		if err != nil {
			return err
		}
		for i, p := range prompts {
			row := txt.Narrow(0, i, 1)
			if imgFeat != nil {
				row = lafite.MixConditions(row, imgFeat, float32(*mix))
				p = fmt.Sprintf("%s + [image] (%.2f)", p, *mix)
			}
			conds, titles = append(conds, row), append(titles, p)
		}
	}
	// The same latents in every row: only the condition changes.
	z := tensor.NewRNG(*seed).Normal(*n, g.Config.ZDim)
	var cells []*image.RGBA
	for _, c := range conds {
		for lo := 0; lo < *n; lo += *batch {
			m := min(*batch, *n-lo)
			scope := tensor.OpenScope() // on a GPU, a batch's memory is freed once its images are on the host
			img, err := lafite.GenerateFrom(g, z.Narrow(0, lo, m), tensor.Concat(repeatRows(c, m), 0), float32(*psi))
			if err == nil {
				cells = append(cells, lafite.TensorToImages(img)...)
			}
			scope.Close()
			if err != nil {
				return err
			}
		}
	}
	if *each != "" {
		for i, im := range cells {
			if err := lafite.WritePNG(filepath.Join(*each, fmt.Sprintf("%03d-%04d.png", i / *n, i%*n)), im); err != nil {
				return err
			}
		}
		var rows strings.Builder
		for i, t := range titles {
			fmt.Fprintf(&rows, "%03d\t%s\n", i, t)
		}
		if err := atomicfile.WriteFile(filepath.Join(*each, "rows.txt"), []byte(rows.String())); err != nil {
			return err
		}
	}
	grid := lafite.Grid{Images: cells, Cols: *n, Cell: max(64, g.Config.Resolution), RowTitles: titles}
	if err := lafite.WritePNG(*out, grid.Render()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d prompt(s) x %d images at %dx%d\n", *out, len(conds), *n, g.Config.Resolution, g.Config.Resolution)
	return nil
}

func repeatRows(row *tensor.Tensor, n int) []*tensor.Tensor {
	out := make([]*tensor.Tensor, n)
	for i := range out {
		out[i] = row
	}
	return out
}
