// Package imagefile reads the PNG and JPEG files users hand the tools
// (training images, images to score) with bounds a hostile or corrupt file
// cannot get past: a size cap on the bytes read, and the header's claimed
// size checked before the decoder allocates the pixels.
package imagefile

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // registers the JPEG decoder image.Decode dispatches to
	_ "image/png"  // and the PNG decoder
	"io"
)

// MaxPixels bounds the image a header may ask us to allocate (512 MB as
// RGBA): a few hundred bytes of PNG can claim 100000x100000 pixels.
const MaxPixels = 1 << 27

// MaxFileBytes bounds one file: no PNG or JPEG a dataset holds is this
// large, and a zip entry's stated size is only the archive's word.
const MaxFileBytes = 256 << 20

// ReadAll reads r to its end, refusing more than MaxFileBytes.
func ReadAll(r io.Reader) ([]byte, error) { return readAtMost(r, MaxFileBytes) }

func readAtMost(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err == nil && int64(len(data)) > limit {
		err = fmt.Errorf("file larger than %d bytes", limit)
	}
	return data, err
}

// Decode decodes a PNG or JPEG held in memory once its header has said it
// is one and of at most MaxPixels pixels. Errors do not name the file; the
// caller does.
func Decode(data []byte) (image.Image, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%v (expected a PNG or JPEG file)", err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > MaxPixels/cfg.Height {
		return nil, fmt.Errorf("%s of %dx%d pixels, expected between 1 and %d pixels", format, cfg.Width, cfg.Height, MaxPixels)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s data: %v", format, err)
	}
	return img, nil
}
