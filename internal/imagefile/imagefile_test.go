package imagefile

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"strings"
	"testing"
)

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withSize rewrites a PNG's IHDR to claim w x h pixels, with a valid CRC:
// a few hundred bytes that ask the decoder for w·h·4 bytes.
func withSize(data []byte, w, h uint32) []byte {
	out := bytes.Clone(data)
	ihdr := out[8+8:] // signature, then the chunk's length and type
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	binary.BigEndian.PutUint32(ihdr[13:], crc32.ChecksumIEEE(out[12:8+8+13]))
	return out
}

func TestDecodeReadsPNGAndJPEG(t *testing.T) {
	img, err := Decode(pngOf(t, 5, 3))
	if err != nil || img.Bounds().Dx() != 5 || img.Bounds().Dy() != 3 {
		t.Fatalf("PNG: %v, %v", img, err)
	}
	var j bytes.Buffer
	if err := jpeg.Encode(&j, image.NewRGBA(image.Rect(0, 0, 4, 6)), nil); err != nil {
		t.Fatal(err)
	}
	if img, err := Decode(j.Bytes()); err != nil || img.Bounds().Dy() != 6 {
		t.Fatalf("JPEG: %v, %v", img, err)
	}
}

// A header claiming more than MaxPixels is refused before the decoder
// allocates anything (without the check, 100000x100000 asks for 40 GB).
func TestDecodeRefusesHugeHeaders(t *testing.T) {
	small := pngOf(t, 2, 2)
	if _, err := Decode(withSize(small, 2, 3)); err == nil || strings.Contains(err.Error(), "pixels") {
		t.Fatalf("a 2x3 header over 2x2 data: %v, want a data error (the header is within bounds)", err)
	}
	for _, size := range [][2]uint32{{100000, 100000}, {1 << 30, 1}, {MaxPixels + 1, 1}} {
		_, err := Decode(withSize(small, size[0], size[1]))
		if err == nil || !strings.Contains(err.Error(), "expected between 1 and") {
			t.Errorf("%dx%d: %v", size[0], size[1], err)
		}
	}
	for _, data := range [][]byte{nil, []byte("GIF89a"), small[:20]} {
		if _, err := Decode(data); err == nil || !strings.Contains(err.Error(), "expected a PNG or JPEG") {
			t.Errorf("%q: %v", data, err)
		}
	}
}

func TestReadAllStopsAtTheLimit(t *testing.T) {
	if data, err := readAtMost(strings.NewReader("12345"), 5); err != nil || string(data) != "12345" {
		t.Fatalf("at the limit: %q, %v", data, err)
	}
	endless := io.MultiReader(strings.NewReader("123456"), neverEnding{})
	if _, err := readAtMost(endless, 5); err == nil || !strings.Contains(err.Error(), "larger than 5 bytes") {
		t.Fatalf("past the limit: %v", err)
	}
}

type neverEnding struct{}

func (neverEnding) Read(p []byte) (int, error) { clear(p); return len(p), nil }
