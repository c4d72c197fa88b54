package lafite

import (
	"archive/zip"
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // registers the JPEG decoder
	_ "image/png"  // registers the PNG decoder
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/image/draw"

	"github.com/lafite-go/lafite/tensor"
)

// NamedImage is one training image and its captions (from name.txt, one per
// non-empty line).
type NamedImage struct {
	Name     string
	Image    image.Image
	Captions []string
}

// BadImage is an input that could not be used, with the reason.
type BadImage struct {
	Name string
	Err  error
}

func (b BadImage) Error() string { return fmt.Sprintf("%s: %v", b.Name, b.Err) }

var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true}

// ReadImages reads every PNG/JPEG in a folder or .zip (recursively, sorted by
// path) with its captions. Files that do not decode are returned as bad,
// never silently dropped.
func ReadImages(path string) ([]NamedImage, []BadImage, error) {
	files := map[string]func() ([]byte, error){}
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if st.IsDir() {
		err = filepath.WalkDir(path, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(path, p)
			files[filepath.ToSlash(rel)] = func() ([]byte, error) { return os.ReadFile(p) }
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	} else {
		zr, err := zip.OpenReader(path)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: not a folder or a readable zip: %v", path, err)
		}
		defer zr.Close()
		for _, f := range zr.File {
			if f.FileInfo().IsDir() {
				continue
			}
			f := f
			files[f.Name] = func() ([]byte, error) {
				rc, err := f.Open()
				if err != nil {
					return nil, err
				}
				defer rc.Close()
				return io.ReadAll(io.LimitReader(rc, 1<<30))
			}
		}
	}
	var names []string
	for n := range files {
		if imageExts[strings.ToLower(filepath.Ext(n))] {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var good []NamedImage
	var bad []BadImage
	for _, n := range names {
		data, err := files[n]()
		if err != nil {
			bad = append(bad, BadImage{n, err})
			continue
		}
		img, _, err := image.Decode(bytes.NewReader(data))
		if err != nil {
			bad = append(bad, BadImage{n, fmt.Errorf("cannot decode image: %v", err)})
			continue
		}
		if b := img.Bounds(); b.Dx() < 1 || b.Dy() < 1 {
			bad = append(bad, BadImage{n, fmt.Errorf("empty image")})
			continue
		}
		ni := NamedImage{Name: n, Image: img}
		if read, ok := files[strings.TrimSuffix(n, filepath.Ext(n))+".txt"]; ok {
			txt, err := read()
			if err != nil {
				bad = append(bad, BadImage{n, fmt.Errorf("captions: %v", err)})
				continue
			}
			for _, line := range strings.Split(string(txt), "\n") {
				if line = strings.TrimSpace(line); line != "" {
					ni.Captions = append(ni.Captions, line)
				}
			}
		}
		good = append(good, ni)
	}
	if len(names) == 0 {
		return nil, nil, fmt.Errorf("%s: no .png or .jpg images found", path)
	}
	return good, bad, nil
}

// CenterCropResize crops the largest centred square and resizes it to res.
func CenterCropResize(img image.Image, res int) *image.RGBA {
	b := img.Bounds()
	side := min(b.Dx(), b.Dy())
	x0 := b.Min.X + (b.Dx()-side)/2
	y0 := b.Min.Y + (b.Dy()-side)/2
	dst := image.NewRGBA(image.Rect(0, 0, res, res))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, image.Rect(x0, y0, x0+side, y0+side), draw.Src, nil)
	return dst
}

// ImagesToTensor stacks same-sized RGBA images into [N, 3, H, W] with values
// v/127.5 − 1 in [−1, 1], the range generators, discriminators and judges
// work in (alpha is dropped). It panics on an empty list or mixed sizes.
func ImagesToTensor(imgs []*image.RGBA) *tensor.Tensor {
	if len(imgs) == 0 {
		panic("lafite.ImagesToTensor: no images")
	}
	b0 := imgs[0].Bounds()
	h, w := b0.Dy(), b0.Dx()
	data := make([]float32, len(imgs)*3*h*w)
	plane := h * w
	for n, img := range imgs {
		b := img.Bounds()
		if b.Dx() != w || b.Dy() != h {
			panic(fmt.Sprintf("lafite.ImagesToTensor: image %d is %dx%d, image 0 is %dx%d", n, b.Dx(), b.Dy(), w, h))
		}
		base := n * 3 * plane
		for y := range h {
			row := img.Pix[y*img.Stride:]
			for x := range w {
				p := row[4*x:]
				for c := range 3 {
					data[base+c*plane+y*w+x] = float32(p[c])/127.5 - 1
				}
			}
		}
	}
	return tensor.FromSlice(data, len(imgs), 3, h, w)
}

// TensorToImages converts [N, 3, H, W] in [−1, 1] back to RGBA images,
// rounding and clamping (generated images overshoot the range).
func TensorToImages(t *tensor.Tensor) []*image.RGBA {
	if t.Dim() != 4 || t.Size(1) != 3 {
		panic(fmt.Sprintf("lafite.TensorToImages: shape %v, want [N, 3, H, W]", t.Shape()))
	}
	n, h, w := t.Size(0), t.Size(2), t.Size(3)
	d := t.To(tensor.CPU).Contiguous().Data() // a GPU tensor is downloaded once
	plane := h * w
	to8 := func(v float32) uint8 { return uint8(math.Round(float64(min(max((v+1)*127.5, 0), 255)))) }
	out := make([]*image.RGBA, n)
	for i := range out {
		im := image.NewRGBA(image.Rect(0, 0, w, h))
		base := i * 3 * plane
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				o := im.PixOffset(x, y)
				for c := 0; c < 3; c++ {
					im.Pix[o+c] = to8(d[base+c*plane+y*w+x])
				}
				im.Pix[o+3] = 255
			}
		}
		out[i] = im
	}
	return out
}
