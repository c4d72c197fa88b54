package lafite

import (
	"bytes"
	"image"
	"image/color"
	"image/png"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/lafite-go/lafite/internal/atomicfile"
)

// Grid lays images out in rows of cols, each scaled to cell pixels, with an
// optional label under each image (labels[i] for image i) and an optional
// title per row drawn to the left (rowTitles).
type Grid struct {
	Images    []*image.RGBA
	Cols      int
	Cell      int
	Labels    []string
	RowTitles []string
}

const labelHeight = 16

// Render draws the grid on a white canvas.
func (g Grid) Render() *image.RGBA {
	cols := max(g.Cols, 1)
	rows := (len(g.Images) + cols - 1) / cols
	cell := g.Cell
	if cell <= 0 && len(g.Images) > 0 {
		cell = g.Images[0].Bounds().Dx()
	}
	titleW := 0
	for _, t := range g.RowTitles {
		titleW = max(titleW, 7*len(t)+8)
	}
	lh := 0
	if len(g.Labels) > 0 {
		lh = labelHeight
	}
	pad := 4
	w := titleW + cols*(cell+pad) + pad
	h := rows*(cell+lh+pad) + pad
	canvas := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(canvas, canvas.Bounds(), image.White, image.Point{}, draw.Src)
	for i, im := range g.Images {
		r, c := i/cols, i%cols
		x := titleW + pad + c*(cell+pad)
		y := pad + r*(cell+lh+pad)
		draw.NearestNeighbor.Scale(canvas, image.Rect(x, y, x+cell, y+cell), im, im.Bounds(), draw.Src, nil)
		if i < len(g.Labels) {
			drawText(canvas, x, y+cell+12, g.Labels[i], cell)
		}
	}
	for r, t := range g.RowTitles {
		drawText(canvas, 4, pad+r*(cell+lh+pad)+cell/2+4, t, titleW)
	}
	return canvas
}

// drawText writes s in the 7x13 basic font, cut to fit width pixels.
func drawText(dst *image.RGBA, x, y int, s string, width int) {
	if maxChars := width / 7; len(s) > maxChars && maxChars > 1 {
		s = s[:maxChars-1] + "…"
	}
	d := font.Drawer{Dst: dst, Src: image.NewUniform(color.Black), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// WritePNG encodes img to path atomically (temp file + rename), making the
// folder if needed.
func WritePNG(path string, img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	return atomicfile.WriteFileAll(path, buf.Bytes())
}
