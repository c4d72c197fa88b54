package lafite

import (
	"encoding/json"
	"fmt"
	"image"

	"github.com/lafite-go/lafite/safetensors"
	"github.com/lafite-go/lafite/tensor"
)

// FeatureEncoder gives L2-normalised CLIP features: what `lafite dataset`
// precomputes so that training never runs the CLIP text tower.
type FeatureEncoder interface {
	EncodeImages(imgs []*image.RGBA) (*tensor.Tensor, error)
	EncodeTexts(texts []string) (*tensor.Tensor, error)
}

// DatasetFile is a dataset plus the names and captions it was built from.
type DatasetFile struct {
	*MemoryDataset
	Names      []string
	Resolution int
	About      string // e.g. the CLIP model used
}

// DatasetFormat is the "format" metadata of a dataset file.
const DatasetFormat = "lafite-go dataset v1"

// BuildOptions steer BuildDataset.
type BuildOptions struct {
	Batch    int  // images (and captions) per CLIP call; 16 when 0
	Captions bool // keep the images' captions (and encode them)
	// Progress, when set, is called after each image is read.
	Progress func(done, total int)
}

// BuildDataset reads the images one at a time, center-crops and resizes
// each to res, and computes their CLIP image features and, when
// o.Captions, their captions' features. Only the images of one CLIP batch
// are held decoded, so memory is the output (res²·3 bytes an image), not
// the collection. Images that cannot be used are returned as bad; it fails
// only when none can.
func BuildDataset(src ImageList, res int, enc FeatureEncoder, o BuildOptions) (*DatasetFile, []BadImage, error) {
	if res < 1 {
		return nil, nil, fmt.Errorf("dataset: resolution %d", res)
	}
	if o.Batch < 1 {
		o.Batch = 16
	}
	total := src.Len()
	pix := &ImageBytes{C: 3, H: res, W: res, Pix: make([]uint8, total*3*res*res)}
	var names, caps []string
	var capImg []int
	var bad []BadImage
	var imgFts []*tensor.Tensor
	pending := make([]*image.RGBA, 0, o.Batch)
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		f, err := enc.EncodeImages(pending)
		if err != nil {
			return fmt.Errorf("dataset: CLIP image features: %v", err)
		}
		imgFts = append(imgFts, f)
		pending = pending[:0]
		return nil
	}
	for i := range total {
		im, err := src.Read(i)
		if err != nil {
			b, ok := err.(BadImage)
			if !ok {
				b = BadImage{fmt.Sprintf("image %d", i), err}
			}
			bad = append(bad, b)
		} else {
			rgba := CenterCropResize(im.Image, res)
			pix.set(pix.N, rgba)
			if o.Captions {
				for _, c := range im.Captions {
					caps = append(caps, c)
					capImg = append(capImg, pix.N)
				}
			}
			names = append(names, im.Name)
			pix.N++
			if pending = append(pending, rgba); len(pending) == o.Batch {
				if err := flush(); err != nil {
					return nil, bad, err
				}
			}
		}
		if o.Progress != nil {
			o.Progress(i+1, total)
		}
	}
	if err := flush(); err != nil {
		return nil, bad, err
	}
	if pix.N == 0 {
		return nil, bad, fmt.Errorf("dataset: no usable images (%d skipped)", len(bad))
	}
	pix.Pix = pix.Pix[: pix.N*3*res*res : pix.N*3*res*res]
	ds := &MemoryDataset{Bytes: pix, ImageFts: tensor.Concat(imgFts, 0), CaptionImage: capImg, Captions: caps}
	if len(caps) > 0 {
		var txt []*tensor.Tensor
		for lo := 0; lo < len(caps); lo += o.Batch {
			f, err := enc.EncodeTexts(caps[lo:min(lo+o.Batch, len(caps))])
			if err != nil {
				return nil, bad, fmt.Errorf("dataset: CLIP text features: %v", err)
			}
			txt = append(txt, f)
		}
		ds.CaptionFts = tensor.Concat(txt, 0)
	}
	if err := ds.Index(); err != nil {
		return nil, bad, err
	}
	return &DatasetFile{MemoryDataset: ds, Names: names, Resolution: res}, bad, nil
}

// Save writes the dataset atomically: images as U8, features as F32.
func (d *DatasetFile) Save(path string) error {
	if d.Images == nil && d.Bytes == nil {
		return fmt.Errorf("dataset %s: no images to save", path)
	}
	var images *safetensors.Tensor
	if b := d.Bytes; b != nil {
		images = &safetensors.Tensor{Name: "images", DType: safetensors.U8, Shape: []int{b.N, b.C, b.H, b.W}, Data: b.Pix}
	} else {
		imgs := d.Images.Contiguous().Data()
		u8 := make([]byte, len(imgs))
		for i, v := range imgs {
			u8[i] = uint8(max(0, min(255, (v+1)*127.5+0.5)))
		}
		images = &safetensors.Tensor{Name: "images", DType: safetensors.U8, Shape: d.Images.Shape(), Data: u8}
	}
	ts := []*safetensors.Tensor{images, safetensors.F32Tensor("image_fts", d.ImageFts.Shape(), d.ImageFts.ToSlice())}
	if d.CaptionFts != nil {
		ci := make([]int64, len(d.CaptionImage))
		for i, v := range d.CaptionImage {
			ci[i] = int64(v)
		}
		ts = append(ts, safetensors.F32Tensor("caption_fts", d.CaptionFts.Shape(), d.CaptionFts.ToSlice()),
			safetensors.I64Tensor("caption_image", []int{len(ci)}, ci))
	}
	names, _ := json.Marshal(d.Names)
	caps, _ := json.Marshal(d.Captions)
	meta := map[string]string{"format": DatasetFormat, "names": string(names), "captions": string(caps),
		"resolution": fmt.Sprint(d.Resolution), "about": d.About}
	return safetensors.WriteFile(path, ts, meta)
}

// LoadDataset reads a file written by Save.
func LoadDataset(path string) (*DatasetFile, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, err
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("dataset %s: %s", path, fmt.Sprintf(format, a...))
	}
	if f.Metadata["format"] != DatasetFormat {
		return nil, bad("not a lafite-go dataset (format %q; build one with `lafite dataset`)", f.Metadata["format"])
	}
	img, ok := f.Get("images")
	if !ok || img.DType != safetensors.U8 || len(img.Shape) != 4 {
		return nil, bad("missing or malformed images tensor")
	}
	if sh := img.Shape; sh[1] != 3 || sh[2] != sh[3] || sh[2] < 1 {
		return nil, bad("images of shape %v, want [N, 3, R, R]", sh)
	}
	getF := func(name string) (*tensor.Tensor, error) {
		t, ok := f.Get(name)
		if !ok {
			return nil, bad("missing tensor %s", name)
		}
		v, err := t.Float32()
		if err != nil {
			return nil, bad("%v", err)
		}
		return tensor.New(v, t.Shape...), nil
	}
	// The pixels stay bytes, read in place from the file's data.
	ds := &MemoryDataset{Bytes: &ImageBytes{N: img.Shape[0], C: img.Shape[1], H: img.Shape[2], W: img.Shape[3], Pix: img.Data}}
	if ds.ImageFts, err = getF("image_fts"); err != nil {
		return nil, err
	}
	if _, ok := f.Get("caption_fts"); ok {
		if ds.CaptionFts, err = getF("caption_fts"); err != nil {
			return nil, err
		}
		ci, ok := f.Get("caption_image")
		if !ok {
			return nil, bad("caption features without caption_image")
		}
		links, err := ci.Int64()
		if err != nil {
			return nil, bad("%v", err)
		}
		for _, v := range links {
			ds.CaptionImage = append(ds.CaptionImage, int(v))
		}
	}
	out := &DatasetFile{MemoryDataset: ds}
	if err := json.Unmarshal([]byte(f.Metadata["names"]), &out.Names); err != nil {
		return nil, bad("bad names metadata: %v", err)
	}
	if err := json.Unmarshal([]byte(f.Metadata["captions"]), &ds.Captions); err != nil {
		return nil, bad("bad captions metadata: %v", err)
	}
	fmt.Sscan(f.Metadata["resolution"], &out.Resolution)
	out.About = f.Metadata["about"]
	if err := ds.Index(); err != nil {
		return nil, bad("%v", err)
	}
	return out, nil
}
