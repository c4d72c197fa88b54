package shapes

import (
	"fmt"
	"image"
	"image/color"
	"math"
)

// Supersample is the number of subsamples per pixel along each axis: a
// pixel's shape colour is weighted by the fraction of its 4x4 subsamples that
// fall inside the shape, which antialiases the edges.
const Supersample = 4

// Shapes are defined in a local frame (u, v) = ((x-cx)/r, (y-cy)/r) with v
// pointing down, each fitting in [-1, 1]² and filling a similar area, so size
// reads the same for every shape.
var (
	trianglePoly = [][2]float64{{0, -0.866}, {1, 0.866}, {-1, 0.866}}
	starPoly     = starPolygon(5, 1, 0.42, 0.095)
)

// starPolygon returns the outline of a star with the given number of points,
// outer and inner radii, first point straight up, moved down by shift so
// its bounding box is centred.
func starPolygon(points int, outer, inner, shift float64) [][2]float64 {
	poly := make([][2]float64, 0, 2*points)
	for k := range 2 * points {
		rad := outer
		if k%2 == 1 {
			rad = inner
		}
		a := -math.Pi/2 + math.Pi*float64(k)/float64(points)
		poly = append(poly, [2]float64{rad * math.Cos(a), rad*math.Sin(a) + shift})
	}
	return poly
}

// insidePolygon is the even-odd rule: a ray towards +u crosses the outline an
// odd number of times from inside.
func insidePolygon(poly [][2]float64, u, v float64) bool {
	in := false
	j := len(poly) - 1
	for i := range poly {
		ui, vi := poly[i][0], poly[i][1]
		uj, vj := poly[j][0], poly[j][1]
		if (vi > v) != (vj > v) && u < (uj-ui)*(v-vi)/(vj-vi)+ui {
			in = !in
		}
		j = i
	}
	return in
}

// Inside reports whether the local point (u, v) lies in shape s.
func Inside(s int, u, v float64) bool {
	switch s {
	case Circle:
		return u*u+v*v <= 0.92*0.92
	case Square:
		return math.Abs(u) <= 0.8 && math.Abs(v) <= 0.8
	case Triangle:
		return insidePolygon(trianglePoly, u, v)
	case Star:
		return insidePolygon(starPoly, u, v)
	case Cross:
		au, av := math.Abs(u), math.Abs(v)
		return (au <= 0.32 && av <= 0.95) || (av <= 0.32 && au <= 0.95)
	case Heart:
		// (X²+Y²-1)³ - X²Y³ ≤ 0 spans X ∈ ±1.14, Y ∈ [-1, 1.24] (Y up);
		// the map below centres it and points it down.
		x, y := 1.15*u, 0.12-1.12*v
		q := x*x + y*y - 1
		return q*q*q-x*x*y*y*y <= 0
	}
	panic(fmt.Sprintf("shapes.Inside: shape %d out of range [0, %d)", s, NumShapes))
}

// Draw fills img with bg and paints shape s of radius r centred at (cx, cy),
// all in units of the image side, blending fg over bg by subsample coverage.
func Draw(img *image.RGBA, s int, cx, cy, r float64, fg, bg color.RGBA) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	for y := range h {
		for x := range w {
			img.SetRGBA(b.Min.X+x, b.Min.Y+y, bg)
		}
	}
	side := float64(min(w, h))
	// Only pixels touching the shape's bounding square can be covered.
	x0 := max(0, int(math.Floor((cx-r)*side))-1)
	x1 := min(w-1, int(math.Ceil((cx+r)*side))+1)
	y0 := max(0, int(math.Floor((cy-r)*side))-1)
	y1 := min(h-1, int(math.Ceil((cy+r)*side))+1)
	const total = Supersample * Supersample
	for py := y0; py <= y1; py++ {
		for px := x0; px <= x1; px++ {
			n := 0
			for sy := range Supersample {
				v := ((float64(py)+(float64(sy)+0.5)/Supersample)/side - cy) / r
				for sx := range Supersample {
					u := ((float64(px)+(float64(sx)+0.5)/Supersample)/side - cx) / r
					if Inside(s, u, v) {
						n++
					}
				}
			}
			if n == 0 {
				continue
			}
			a := float64(n) / total
			img.SetRGBA(b.Min.X+px, b.Min.Y+py, color.RGBA{
				R: blend(bg.R, fg.R, a), G: blend(bg.G, fg.G, a), B: blend(bg.B, fg.B, a), A: 255,
			})
		}
	}
}

func blend(bg, fg uint8, a float64) uint8 {
	return uint8(math.Round(float64(bg) + a*(float64(fg)-float64(bg))))
}
