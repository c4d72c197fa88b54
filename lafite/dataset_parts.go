package lafite

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lafite-go/lafite/internal/atomicfile"
	"github.com/lafite-go/lafite/safetensors"
	"github.com/lafite-go/lafite/tensor"
)

// A large collection takes hours to build (a CLIP forward pass per image),
// so BuildDataset can keep its work in a parts folder: build.json says what
// is being built, part-000000.safetensors onwards hold consecutive stretches
// of the source, each written whole (atomicfile), and a build run again
// with the same folder and inputs reads them back instead of redoing them.

const partsFormat = "lafite-go dataset parts v1"

// partsManifest is build.json: what a parts folder was started for.
type partsManifest struct {
	Format     string `json:"format"`
	Resolution int    `json:"resolution"`
	Captions   bool   `json:"captions"`
	Images     int    `json:"images"` // the source's length
	Source     string `json:"source"`
	// NamesSHA256 fingerprints the source's file names when it can list
	// them without decoding (ImageFolder does): images added, removed or
	// renamed since make it another source.
	NamesSHA256 string `json:"names_sha256,omitempty"`
}

type buildParts struct{ dir string }

func (b *datasetBuilder) manifest(src ImageList) partsManifest {
	m := partsManifest{Format: partsFormat, Resolution: b.res, Captions: b.o.Captions, Images: src.Len(), Source: b.o.Source}
	if named, ok := src.(interface{ Name(int) string }); ok {
		h := sha256.New()
		for i := range src.Len() {
			io.WriteString(h, named.Name(i))
			h.Write([]byte{0})
		}
		m.NamesSHA256 = hex.EncodeToString(h.Sum(nil))
	}
	return m
}

// openBuildParts creates the folder and its build.json, or checks that an
// existing one was started for the same build.
func openBuildParts(dir string, m partsManifest) (*buildParts, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("dataset parts: %v", err)
	}
	path := filepath.Join(dir, "build.json")
	want, _ := json.MarshalIndent(m, "", "  ")
	old, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := atomicfile.WriteFile(path, append(want, '\n')); err != nil {
			return nil, fmt.Errorf("dataset parts: %v", err)
		}
		return &buildParts{dir}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dataset parts: %v", err)
	}
	var got partsManifest
	if err := json.Unmarshal(old, &got); err != nil || got.Format != partsFormat {
		return nil, fmt.Errorf("dataset parts: %s is not a lafite-go build manifest; remove the folder %s or keep parts elsewhere", path, dir)
	}
	if got != m {
		return nil, fmt.Errorf("dataset parts: %s holds a build of other inputs (%s), not of these (%s); remove it to start over",
			dir, describeManifest(got), describeManifest(m))
	}
	return &buildParts{dir}, nil
}

func describeManifest(m partsManifest) string {
	s := fmt.Sprintf("%d images at %d, captions %v, source %q", m.Images, m.Resolution, m.Captions, m.Source)
	if len(m.NamesSHA256) >= 12 {
		s += ", names " + m.NamesSHA256[:12]
	}
	return s
}

func (p *buildParts) path(k int) string {
	return filepath.Join(p.dir, fmt.Sprintf("part-%06d.safetensors", k))
}

type badRecord struct{ Name, Err string }

// part is the part in progress as a file: source images [mark.first,
// next), its pixels and features, names, captions (their images counted
// from the part's first) and the images it skipped.
func (b *datasetBuilder) part(next int) ([]*safetensors.Tensor, map[string]string) {
	m, r := b.mark, b.res
	n := b.pix.N - m.images
	var ts []*safetensors.Tensor
	if n > 0 {
		ts = append(ts, &safetensors.Tensor{Name: "images", DType: safetensors.U8, Shape: []int{n, 3, r, r},
			Data: b.pix.Pix[m.images*3*r*r : b.pix.N*3*r*r]})
		f := tensor.Concat(b.imgFts[m.imgFts:], 0)
		ts = append(ts, safetensors.F32Tensor("image_fts", f.Shape(), f.ToSlice()))
	}
	if len(b.capFts) > m.capFts {
		f := tensor.Concat(b.capFts[m.capFts:], 0)
		links := make([]int64, len(b.capImg)-m.caps)
		for i, v := range b.capImg[m.caps:] {
			links[i] = int64(v - m.images)
		}
		ts = append(ts, safetensors.F32Tensor("caption_fts", f.Shape(), f.ToSlice()),
			safetensors.I64Tensor("caption_image", []int{len(links)}, links))
	}
	bad := make([]badRecord, 0, len(b.bad)-m.bad)
	for _, x := range b.bad[m.bad:] {
		bad = append(bad, badRecord{x.Name, x.Err.Error()})
	}
	js := func(v any) string { s, _ := json.Marshal(v); return string(s) }
	return ts, map[string]string{"format": partsFormat, "first": fmt.Sprint(m.first), "next": fmt.Sprint(next),
		"names": js(b.names[m.images:]), "captions": js(b.caps[m.caps:]), "bad": js(bad)}
}

func (p *buildParts) write(k int, ts []*safetensors.Tensor, meta map[string]string) error {
	if err := safetensors.WriteFile(p.path(k), ts, meta); err != nil {
		return fmt.Errorf("dataset parts: %v", err)
	}
	return nil
}

// restoreParts reads the parts already written, in order, into the
// builder and returns the source index the build continues from.
func (b *datasetBuilder) restoreParts() (int, error) {
	for k := 0; ; k++ {
		path := b.parts.path(k)
		f, err := safetensors.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return b.mark.first, nil
		}
		if err != nil {
			return 0, fmt.Errorf("dataset parts: %v (remove it to redo its images)", err)
		}
		if err := b.restorePart(f); err != nil {
			return 0, fmt.Errorf("dataset parts: %s: %v (remove it to redo its images)", path, err)
		}
		b.mark = partMark{first: b.mark.first, images: b.pix.N, caps: len(b.caps), bad: len(b.bad),
			imgFts: len(b.imgFts), capFts: len(b.capFts), index: k + 1}
	}
}

func (b *datasetBuilder) restorePart(f *safetensors.File) error {
	meta := f.Metadata
	if meta["format"] != partsFormat {
		return fmt.Errorf("not a dataset part (format %q)", meta["format"])
	}
	var first, next int
	if _, err := fmt.Sscan(meta["first"], &first); err != nil || first != b.mark.first {
		return fmt.Errorf("starts at image %q, want %d", meta["first"], b.mark.first)
	}
	if _, err := fmt.Sscan(meta["next"], &next); err != nil || next <= first || next > b.total {
		return fmt.Errorf("ends at image %q (from %d, of %d)", meta["next"], first, b.total)
	}
	var names, caps []string
	var bad []badRecord
	for key, v := range map[string]any{"names": &names, "captions": &caps, "bad": &bad} {
		if err := json.Unmarshal([]byte(meta[key]), v); err != nil {
			return fmt.Errorf("bad %s metadata: %v", key, err)
		}
	}
	n, r := len(names), b.res
	if n+len(bad) > next-first {
		return fmt.Errorf("%d images and %d skipped from %d source images", n, len(bad), next-first)
	}
	if n > 0 {
		img, ok := f.Get("images")
		if !ok || img.DType != safetensors.U8 || !slices.Equal(img.Shape, []int{n, 3, r, r}) {
			return fmt.Errorf("missing or malformed images (want [%d 3 %d %d] bytes)", n, r, r)
		}
		fts, err := partFloats(f, "image_fts", n)
		if err != nil {
			return err
		}
		if len(b.imgFts) > 0 && fts.Size(1) != b.imgFts[0].Size(1) {
			return fmt.Errorf("image features of size %d, earlier parts' %d", fts.Size(1), b.imgFts[0].Size(1))
		}
		copy(b.pix.Pix[b.pix.N*3*r*r:], img.Data)
		b.imgFts = append(b.imgFts, fts)
	}
	if len(caps) > 0 {
		fts, err := partFloats(f, "caption_fts", len(caps))
		if err != nil {
			return err
		}
		ci, ok := f.Get("caption_image")
		if !ok {
			return fmt.Errorf("caption features without caption_image")
		}
		links, err := ci.Int64()
		if err != nil || len(links) != len(caps) {
			return fmt.Errorf("caption_image: %d links for %d captions (%v)", len(links), len(caps), err)
		}
		for _, v := range links {
			if v < 0 || int(v) >= n {
				return fmt.Errorf("caption of image %d, of %d", v, n)
			}
			b.capImg = append(b.capImg, b.pix.N+int(v))
		}
		b.capFts = append(b.capFts, fts)
		b.caps = append(b.caps, caps...)
	}
	for _, x := range bad {
		b.bad = append(b.bad, BadImage{x.Name, errors.New(x.Err)})
	}
	b.names = append(b.names, names...)
	b.pix.N += n
	b.mark.first = next
	return nil
}

// partFloats reads a [rows, D] float tensor of a part.
func partFloats(f *safetensors.File, name string, rows int) (*tensor.Tensor, error) {
	t, ok := f.Get(name)
	if !ok || len(t.Shape) != 2 || t.Shape[0] != rows || t.Shape[1] < 1 {
		return nil, fmt.Errorf("missing or malformed %s (want %d rows)", name, rows)
	}
	v, err := t.Float32()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return tensor.New(v, t.Shape...), nil
}

// RemoveBuildParts deletes a parts folder once its dataset is saved: its
// manifest, parts and any half-written part an interrupted write left,
// then the folder if nothing else is in it. A missing folder is no error.
func RemoveBuildParts(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		ours := name == "build.json" || strings.HasPrefix(name, ".build.json.tmp-") ||
			strings.HasPrefix(strings.TrimPrefix(name, "."), "part-") && strings.Contains(name, ".safetensors")
		if ours && !e.IsDir() {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return err
			}
		}
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		return nil // the user's own files: the folder stays
	}
	return os.Remove(dir)
}
