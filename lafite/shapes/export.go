package shapes

import (
	"archive/zip"
	"bytes"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/lafite-go/lafite/internal/atomicfile"
)

// sampleName is the file stem of sample i, wide enough that names sort in
// order for any dataset this world is used for.
func sampleName(i int) string { return fmt.Sprintf("%06d", i) }

// encodeSample returns the PNG and the caption file (one caption per line) of s.
func encodeSample(s Sample) (pngBytes, txt []byte, err error) {
	var b bytes.Buffer
	if err := png.Encode(&b, s.Image); err != nil {
		return nil, nil, err
	}
	return b.Bytes(), []byte(strings.Join(s.Captions, "\n") + "\n"), nil
}

// Export writes NNNNNN.png and NNNNNN.txt (one caption per line) for every
// sample into dir, the layout `lafite dataset --images DIR` reads. It writes a
// sibling temporary folder and renames it into place, so a reader sees either
// the old folder or the complete new one, never a partial export.
func Export(samples []Sample, dir string) (err error) {
	dir = filepath.Clean(dir)
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	for i, s := range samples {
		p, txt, err := encodeSample(s)
		if err != nil {
			return fmt.Errorf("shapes.Export: sample %d: %w", i, err)
		}
		if err := os.WriteFile(filepath.Join(tmp, sampleName(i)+".png"), p, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(tmp, sampleName(i)+".txt"), txt, 0o644); err != nil {
			return err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	// A folder cannot be renamed over a non-empty one: move the old one
	// aside first and delete it only once the new one is in place.
	var old string
	if _, statErr := os.Stat(dir); statErr == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			os.Rename(old, dir)
		}
		return err
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}

// ExportZip writes the same files as Export into a zip archive at path,
// through a temporary file renamed into place.
func ExportZip(samples []Sample, path string) error {
	return atomicfile.Write(path, func(f io.Writer) error {
		zw := zip.NewWriter(f)
		for i, s := range samples {
			p, txt, err := encodeSample(s)
			if err != nil {
				return fmt.Errorf("shapes.ExportZip: sample %d: %w", i, err)
			}
			// PNG is already deflated: storing it avoids compressing twice.
			for _, e := range []struct {
				name   string
				data   []byte
				method uint16
			}{{sampleName(i) + ".png", p, zip.Store}, {sampleName(i) + ".txt", txt, zip.Deflate}} {
				w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: e.method})
				if err != nil {
					return err
				}
				if _, err := w.Write(e.data); err != nil {
					return err
				}
			}
		}
		return zw.Close()
	})
}
