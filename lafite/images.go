package lafite

import (
	"archive/zip"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/image/draw"

	"github.com/lafite-go/lafite/internal/imagefile"
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

// ImageList is a sequence of images read one at a time, so a dataset is
// built without holding every decoded image at once.
type ImageList interface {
	Len() int
	// Read decodes image i with its captions; a file that cannot be used
	// is a BadImage naming it.
	Read(i int) (NamedImage, error)
}

// ImageFolder lists the PNG/JPEG images of a folder or .zip (recursively,
// sorted by path) and decodes each when it is read. Close it when done (a
// zip stays open while it is read).
type ImageFolder struct {
	names    []string
	files    map[string]func() ([]byte, error)
	zip      *zip.ReadCloser
	captions map[string][]string // UseCaptions' table; nil: name.txt files
}

// OpenImages lists the images under path, a folder or a .zip; it fails if
// there are none.
func OpenImages(path string) (*ImageFolder, error) {
	f := &ImageFolder{files: map[string]func() ([]byte, error){}}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		err = filepath.WalkDir(path, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(path, p)
			f.files[filepath.ToSlash(rel)] = func() ([]byte, error) { return readLimited(p) }
			return nil
		})
		if err != nil {
			return nil, err
		}
	} else {
		zr, err := zip.OpenReader(path)
		if err != nil {
			return nil, fmt.Errorf("%s: not a folder or a readable zip: %v", path, err)
		}
		f.zip = zr
		for _, e := range zr.File {
			if e.FileInfo().IsDir() {
				continue
			}
			f.files[e.Name] = func() ([]byte, error) {
				rc, err := e.Open()
				if err != nil {
					return nil, err
				}
				defer rc.Close()
				return imagefile.ReadAll(rc)
			}
		}
	}
	for n := range f.files {
		if imageExts[strings.ToLower(filepath.Ext(n))] {
			f.names = append(f.names, n)
		}
	}
	if len(f.names) == 0 {
		f.Close()
		return nil, fmt.Errorf("%s: no .png or .jpg images found", path)
	}
	sort.Strings(f.names)
	return f, nil
}

func readLimited(path string) ([]byte, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return imagefile.ReadAll(file)
}

// Len is the number of images.
func (f *ImageFolder) Len() int { return len(f.names) }

// Name is image i's path within the folder or zip, without reading it
// (what a resumed build checks its parts against).
func (f *ImageFolder) Name(i int) string { return f.names[i] }

// Read implements ImageList: image i, decoded, with the non-empty lines of
// name.txt beside it as its captions. Its header is checked before the
// pixels are allocated (imagefile.Decode), so a small file claiming a huge
// image is refused. The error is always a BadImage.
func (f *ImageFolder) Read(i int) (NamedImage, error) {
	n := f.names[i]
	data, err := f.files[n]()
	if err != nil {
		return NamedImage{}, BadImage{n, err}
	}
	img, err := imagefile.Decode(data)
	if err != nil {
		return NamedImage{}, BadImage{n, fmt.Errorf("cannot decode image: %v", err)}
	}
	ni := NamedImage{Name: n, Image: img}
	if f.captions != nil {
		ni.Captions = f.captionsOf(n)
		return ni, nil
	}
	if read, ok := f.files[strings.TrimSuffix(n, filepath.Ext(n))+".txt"]; ok {
		txt, err := read()
		if err != nil {
			return NamedImage{}, BadImage{n, fmt.Errorf("captions: %v", err)}
		}
		for _, line := range strings.Split(string(txt), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				ni.Captions = append(ni.Captions, line)
			}
		}
	}
	return ni, nil
}

// Close releases the zip, if the images came from one.
func (f *ImageFolder) Close() error {
	if f.zip != nil {
		return f.zip.Close()
	}
	return nil
}

// ReadImages decodes every image OpenImages lists: for small collections;
// BuildDataset reads an ImageFolder one image at a time. Files that do not
// decode are returned as bad, never silently dropped.
func ReadImages(path string) ([]NamedImage, []BadImage, error) {
	f, err := OpenImages(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var good []NamedImage
	var bad []BadImage
	for i := range f.Len() {
		ni, err := f.Read(i)
		if err != nil {
			bad = append(bad, err.(BadImage))
			continue
		}
		good = append(good, ni)
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
