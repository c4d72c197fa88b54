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

const datasetFormat = "lafite-go dataset v1"

// BuildDataset center-crops and resizes the images to res and computes their
// CLIP image features and, for images with captions, caption features.
func BuildDataset(imgs []NamedImage, res int, enc FeatureEncoder, batch int) (*DatasetFile, error) {
	if len(imgs) == 0 {
		return nil, fmt.Errorf("dataset: no images")
	}
	if batch < 1 {
		batch = 16
	}
	rgba := make([]*image.RGBA, len(imgs))
	var caps []string
	var capImg []int
	for i, im := range imgs {
		rgba[i] = CenterCropResize(im.Image, res)
		for _, c := range im.Captions {
			caps = append(caps, c)
			capImg = append(capImg, i)
		}
	}
	var imgFts []*tensor.Tensor
	for lo := 0; lo < len(rgba); lo += batch {
		f, err := enc.EncodeImages(rgba[lo:min(lo+batch, len(rgba))])
		if err != nil {
			return nil, fmt.Errorf("dataset: CLIP image features: %v", err)
		}
		imgFts = append(imgFts, f)
	}
	ds := &MemoryDataset{Images: ImagesToTensor(rgba), ImageFts: tensor.Concat(imgFts, 0), CaptionImage: capImg, Captions: caps}
	if len(caps) > 0 {
		var txt []*tensor.Tensor
		for lo := 0; lo < len(caps); lo += batch {
			f, err := enc.EncodeTexts(caps[lo:min(lo+batch, len(caps))])
			if err != nil {
				return nil, fmt.Errorf("dataset: CLIP text features: %v", err)
			}
			txt = append(txt, f)
		}
		ds.CaptionFts = tensor.Concat(txt, 0)
	}
	if err := ds.Index(); err != nil {
		return nil, err
	}
	names := make([]string, len(imgs))
	for i, im := range imgs {
		names[i] = im.Name
	}
	return &DatasetFile{MemoryDataset: ds, Names: names, Resolution: res}, nil
}

// Save writes the dataset atomically: images as U8, features as F32.
func (d *DatasetFile) Save(path string) error {
	imgs := d.Images.Contiguous().Data()
	u8 := make([]byte, len(imgs))
	for i, v := range imgs {
		u8[i] = uint8(max(0, min(255, (v+1)*127.5+0.5)))
	}
	ts := []*safetensors.Tensor{
		{Name: "images", DType: safetensors.U8, Shape: d.Images.Shape(), Data: u8},
		safetensors.F32Tensor("image_fts", d.ImageFts.Shape(), d.ImageFts.ToSlice()),
	}
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
	meta := map[string]string{"format": datasetFormat, "names": string(names), "captions": string(caps),
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
	if f.Metadata["format"] != datasetFormat {
		return nil, bad("not a lafite-go dataset (format %q; build one with `lafite dataset`)", f.Metadata["format"])
	}
	img, ok := f.Get("images")
	if !ok || img.DType != safetensors.U8 || len(img.Shape) != 4 {
		return nil, bad("missing or malformed images tensor")
	}
	px := make([]float32, len(img.Data))
	for i, b := range img.Data {
		px[i] = float32(b)/127.5 - 1
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
	ds := &MemoryDataset{Images: tensor.New(px, img.Shape...)}
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
