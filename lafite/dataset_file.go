package lafite

import (
	"context"
	"encoding/json"
	"fmt"
	"image"

	"github.com/lafite-go/lafite/internal/sysmem"
	"github.com/lafite-go/lafite/safetensors"
	"github.com/lafite-go/lafite/tensor"
)

// FeatureEncoder gives L2-normalised CLIP features, on the host: what
// `lafite dataset` precomputes so that training never runs the CLIP text
// tower.
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
	// Progress, when set, is called after each image is read (and once
	// with the images a resumed build starts past).
	Progress func(done, total int)
	// Context, when set, stops the build between two images once it is
	// done; with Parts the work so far is kept first.
	Context context.Context
	// Parts, when set, is a folder where the build keeps its finished
	// parts, each written whole, so that a build that was stopped (an
	// interrupt, a crash, a full disk) continues from its last part when
	// run again with the same folder and inputs. RemoveBuildParts deletes
	// it once the dataset is saved.
	Parts string
	// PartImages is the number of usable images in a part (rounded up to a
	// multiple of Batch, so parts end where CLIP batches do); 1024 when 0.
	PartImages int
	// Source names the inputs (paths, the CLIP checkpoint): a parts folder
	// started for another source is refused rather than mixed in.
	Source string
	// Workers, when over 1, decode and resize that many images at a time
	// ahead of the CLIP batches (src.Read must then be safe to call
	// concurrently, as ImageFolder's is); the result is the same.
	Workers int
}

// BuildDataset reads the images one at a time, center-crops and resizes
// each to res, and computes their CLIP image features and, when
// o.Captions, their captions' features. Only the images of a CLIP batch
// (and, with o.Workers, a few batches decoded ahead) are held decoded, so
// memory is the output (res²·3 bytes an image), not the collection. Images that cannot be used are returned as bad; it fails
// only when none can. With o.Parts the work is kept part by part and a
// stopped build resumes (dataset_parts.go).
func BuildDataset(src ImageList, res int, enc FeatureEncoder, o BuildOptions) (*DatasetFile, []BadImage, error) {
	if res < 1 {
		return nil, nil, fmt.Errorf("dataset: resolution %d", res)
	}
	if o.Batch < 1 {
		o.Batch = 16
	}
	if o.Context == nil {
		o.Context = context.Background()
	}
	total := src.Len()
	if err := sysmem.Check(uint64(total)*3*uint64(res)*uint64(res),
		fmt.Sprintf("dataset: %d images at %dx%d", total, res, res)); err != nil {
		return nil, nil, fmt.Errorf("%v; use a lower resolution or fewer images", err)
	}
	b := &datasetBuilder{res: res, total: total, enc: enc, o: o, pending: make([]*image.RGBA, 0, o.Batch),
		pix: &ImageBytes{C: 3, H: res, W: res, Pix: make([]uint8, total*3*res*res)}}
	partImages := total + 1 // no parts: one stretch, never cut
	start := 0
	if o.Parts != "" {
		if o.PartImages < 1 {
			o.PartImages = 1024
		}
		partImages = (o.PartImages + o.Batch - 1) / o.Batch * o.Batch
		var err error
		if b.parts, err = openBuildParts(o.Parts, b.manifest(src)); err != nil {
			return nil, nil, err
		}
		if start, err = b.restoreParts(); err != nil {
			return nil, b.bad, err
		}
		if start > 0 && o.Progress != nil {
			o.Progress(start, total)
		}
	}
	var ahead *readAhead
	if o.Workers > 1 && start < total {
		ahead = startReadAhead(src, start, total, res, o.Workers)
		defer ahead.close()
	}
	for i := start; i < total; i++ {
		if err := o.Context.Err(); err != nil {
			return nil, b.bad, b.stopped(i, total, err)
		}
		var r readResult
		if ahead != nil {
			r = ahead.take()
		} else {
			r = readOne(src, i, res)
		}
		if r.bad != nil {
			b.bad = append(b.bad, *r.bad)
		} else if err := b.add(r.im, r.rgba); err != nil {
			return nil, b.bad, err
		}
		if b.pix.N-b.mark.images == partImages {
			if err := b.endPart(i + 1); err != nil {
				return nil, b.bad, err
			}
		}
		if o.Progress != nil {
			o.Progress(i+1, total)
		}
	}
	if err := b.endPart(total); err != nil {
		return nil, b.bad, err
	}
	if b.pix.N == 0 {
		return nil, b.bad, fmt.Errorf("dataset: no usable images (%d skipped)", len(b.bad))
	}
	n := b.pix.N * 3 * res * res
	b.pix.Pix = b.pix.Pix[:n:n]
	ds := &MemoryDataset{Bytes: b.pix, ImageFts: tensor.Concat(b.imgFts, 0), CaptionImage: b.capImg, Captions: b.caps}
	if len(b.capFts) > 0 {
		ds.CaptionFts = tensor.Concat(b.capFts, 0)
	}
	if err := ds.Index(); err != nil {
		return nil, b.bad, err
	}
	return &DatasetFile{MemoryDataset: ds, Names: b.names, Resolution: res}, b.bad, nil
}

// datasetBuilder accumulates a dataset image by image; mark is where the
// part in progress starts in each of its lists.
type datasetBuilder struct {
	res     int
	total   int // the source's images
	enc     FeatureEncoder
	o       BuildOptions
	pix     *ImageBytes
	names   []string
	caps    []string
	capImg  []int
	bad     []BadImage
	imgFts  []*tensor.Tensor // one per CLIP batch
	capFts  []*tensor.Tensor
	pending []*image.RGBA // decoded images waiting for their CLIP batch
	parts   *buildParts   // nil without o.Parts
	mark    partMark
}

type partMark struct{ first, images, caps, bad, imgFts, capFts, index int }

// add appends image im, rgba its pixels at the dataset's resolution.
func (b *datasetBuilder) add(im NamedImage, rgba *image.RGBA) error {
	b.pix.set(b.pix.N, rgba)
	if b.o.Captions {
		for _, c := range im.Captions {
			b.caps = append(b.caps, c)
			b.capImg = append(b.capImg, b.pix.N)
		}
	}
	b.names = append(b.names, im.Name)
	b.pix.N++
	if b.pending = append(b.pending, rgba); len(b.pending) == b.o.Batch {
		return b.encodeImages()
	}
	return nil
}

func (b *datasetBuilder) encodeImages() error {
	if len(b.pending) == 0 {
		return nil
	}
	f, err := b.enc.EncodeImages(b.pending)
	if err != nil {
		return fmt.Errorf("dataset: CLIP image features: %v", err)
	}
	b.imgFts = append(b.imgFts, f)
	clear(b.pending)
	b.pending = b.pending[:0]
	return nil
}

// endPart finishes the part in progress, whose images came from the
// source up to next: its last CLIP batch and its captions are encoded,
// and with o.Parts it is written.
func (b *datasetBuilder) endPart(next int) error {
	if err := b.encodeImages(); err != nil {
		return err
	}
	caps := b.caps[b.mark.caps:]
	for lo := 0; lo < len(caps); lo += b.o.Batch {
		f, err := b.enc.EncodeTexts(caps[lo:min(lo+b.o.Batch, len(caps))])
		if err != nil {
			return fmt.Errorf("dataset: CLIP text features: %v", err)
		}
		b.capFts = append(b.capFts, f)
	}
	if b.parts != nil && next > b.mark.first {
		ts, meta := b.part(next)
		if err := b.parts.write(b.mark.index, ts, meta); err != nil {
			return err
		}
		b.mark.index++
	}
	b.mark = partMark{first: next, images: b.pix.N, caps: len(b.caps), bad: len(b.bad),
		imgFts: len(b.imgFts), capFts: len(b.capFts), index: b.mark.index}
	return nil
}

// stopped keeps what was done before the build stopped at image i. The
// error is the context's, described by its cause (an interrupt, say).
func (b *datasetBuilder) stopped(i, total int, err error) error {
	cause := err
	if c := context.Cause(b.o.Context); c != nil && c != err {
		cause = fmt.Errorf("%v: %w", c, err)
	}
	if b.parts == nil {
		return fmt.Errorf("dataset: stopped after %d of %d images: %w", i, total, cause)
	}
	if err := b.endPart(i); err != nil {
		return fmt.Errorf("dataset: stopped after %d of %d images, and the last part was not kept: %v (%w)", i, total, err, cause)
	}
	return fmt.Errorf("dataset: stopped after %d of %d images, kept in %s (the same build continues from there): %w",
		i, total, b.parts.dir, cause)
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
