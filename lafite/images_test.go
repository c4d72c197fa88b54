package lafite

import (
	"archive/zip"
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func encodedImage(t testing.TB, format string, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	img.Set(0, 0, color.RGBA{255, 0, 0, 255})
	var b bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&b, img)
	} else {
		err = jpeg.Encode(&b, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// imageFiles is a small collection with good images, captions and broken
// files of several kinds.
func imageFiles(t *testing.T) map[string][]byte {
	good := encodedImage(t, "png", 6, 4)
	return map[string][]byte{
		"a.png":           good,
		"a.txt":           []byte("a red square\n\n  on grey  \r\n"),
		"b.JPG":           encodedImage(t, "jpeg", 5, 5),
		"sub/c.png":       good,
		"sub/c.txt":       []byte("nested caption"),
		"broken.png":      []byte("not a png"),
		"truncated.png":   good[:len(good)/2],
		"mislabelled.jpg": []byte("GIF89a"),
		"notes.md":        []byte("not an image, ignored"),
	}
}

func checkReadImages(t *testing.T, good []NamedImage, bad []BadImage) {
	t.Helper()
	var names []string
	for _, g := range good {
		names = append(names, g.Name)
	}
	if want := []string{"a.png", "b.JPG", "sub/c.png"}; !slices.Equal(names, want) {
		t.Fatalf("good images %v, want %v", names, want)
	}
	if !slices.Equal(good[0].Captions, []string{"a red square", "on grey"}) || len(good[1].Captions) != 0 ||
		!slices.Equal(good[2].Captions, []string{"nested caption"}) {
		t.Fatalf("captions %q, %q, %q", good[0].Captions, good[1].Captions, good[2].Captions)
	}
	if b := good[0].Image.Bounds(); b.Dx() != 6 || b.Dy() != 4 {
		t.Fatalf("a.png decoded as %v", b)
	}
	var badNames []string
	for _, b := range bad {
		badNames = append(badNames, b.Name)
		if !strings.HasPrefix(b.Error(), b.Name+": ") || b.Err == nil {
			t.Fatalf("bad image %q reported as %q", b.Name, b.Error())
		}
	}
	if want := []string{"broken.png", "mislabelled.jpg", "truncated.png"}; !slices.Equal(badNames, want) {
		t.Fatalf("bad images %v, want %v", badNames, want)
	}
}

// TestReadImagesReportsBadFilesByName: from a folder and from a zip, every
// image that does not decode comes back by name with the reason, and the good
// ones with their captions (blank lines dropped, whitespace trimmed).
func TestReadImagesReportsBadFilesByName(t *testing.T) {
	files := imageFiles(t)
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, "folder", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	good, bad, err := ReadImages(filepath.Join(dir, "folder"))
	if err != nil {
		t.Fatal(err)
	}
	checkReadImages(t, good, bad)

	zipPath := filepath.Join(dir, "images.zip")
	writeZip(t, zipPath, files, zip.Deflate)
	good, bad, err = ReadImages(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	checkReadImages(t, good, bad)
}

func TestReadImagesErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.txt"), []byte("caption without image"), 0o644); err != nil {
		t.Fatal(err)
	}
	notZip := filepath.Join(dir, "x.txt")
	for _, c := range []struct{ path, want string }{
		{dir, "no .png or .jpg images"},
		{filepath.Join(dir, "missing"), "missing"},
		{notZip, "not a folder or a readable zip"},
	} {
		if _, _, err := ReadImages(c.path); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
			t.Errorf("ReadImages(%s): %v, want an error naming it and %q", c.path, err, c.want)
		}
	}
}

// writeZip writes files into a zip at path, each entry stored with method
// (zip.Store or zip.Deflate).
func writeZip(t testing.TB, path string, files map[string][]byte, method uint16) {
	t.Helper()
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	for name, data := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, zb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A COCO captions file gives each image its captions by file name, in the
// file's order, whatever folder the image sits in; images it does not
// list have none, and name.txt files are not read.
func TestCOCOCaptions(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "train2014"), 0o755)
	for _, n := range []string{"train2014/COCO_1.png", "train2014/COCO_2.png", "COCO_3.png"} {
		os.WriteFile(filepath.Join(dir, n), encodedImage(t, "png", 5, 4), 0o644)
	}
	os.WriteFile(filepath.Join(dir, "COCO_3.txt"), []byte("from a text file"), 0o644)
	js := `{"images": [{"id": 7, "file_name": "COCO_1.png"}, {"id": 9, "file_name": "COCO_3.png"}, {"id": 11, "file_name": "elsewhere.png"}],
		"annotations": [{"image_id": 9, "caption": " a cat \n"}, {"image_id": 7, "caption": "a dog"}, {"image_id": 9, "caption": "a cat on a mat"},
			{"image_id": 12, "caption": "no such image"}, {"image_id": 7, "caption": "  "}]}`
	capFile := filepath.Join(dir, "captions.json")
	os.WriteFile(capFile, []byte(js), 0o644)
	byName, err := ReadCOCOCaptions(capFile)
	if err != nil {
		t.Fatal(err)
	}
	f, err := OpenImages(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n := f.UseCaptions(byName); n != 2 {
		t.Fatalf("UseCaptions covers %d of the images, want 2", n)
	}
	got := map[string][]string{}
	for i := range f.Len() {
		im, err := f.Read(i)
		if err != nil {
			t.Fatal(err)
		}
		got[im.Name] = im.Captions
	}
	if !slices.Equal(got["train2014/COCO_1.png"], []string{"a dog"}) || len(got["train2014/COCO_2.png"]) != 0 ||
		!slices.Equal(got["COCO_3.png"], []string{"a cat", "a cat on a mat"}) {
		t.Fatalf("captions %q", got)
	}
	os.WriteFile(capFile, []byte(`{"images": []}`), 0o644)
	if _, err := ReadCOCOCaptions(capFile); err == nil || !strings.Contains(err.Error(), "not a COCO captions file") {
		t.Fatalf("a file without annotations: %v", err)
	}
	os.WriteFile(capFile, []byte(`{"images": [`), 0o644)
	if _, err := ReadCOCOCaptions(capFile); err == nil || !strings.Contains(err.Error(), "not a COCO captions file") {
		t.Fatalf("truncated JSON: %v", err)
	}
}
