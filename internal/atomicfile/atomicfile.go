// Package atomicfile writes files so that a crash, a full disk or a
// concurrent reader never sees a partial one: the bytes go to a temporary
// file in the target's folder, which is synced and then renamed over the
// target. Every file the tools write (checkpoints, images, vocabularies,
// archives, cached kernels) goes through it.
package atomicfile

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
)

// Write writes what write produces to path atomically; path's folder
// must exist (a mistyped folder is an error, not a new folder). The file is
// readable by all (0644), as os.Create's files are under the usual umask.
// On any error path is left as it was and the temporary file is removed.
func Write(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// Make the rename itself durable. Not every filesystem can sync a
	// folder, and the data is safe already, so a failure here is ignored.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// WriteFile writes data to path atomically (see Write).
func WriteFile(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := io.Copy(w, bytes.NewReader(data))
		return err
	})
}

// WriteFileAll is WriteFile that first makes path's folder and any
// parents, as os.MkdirAll: for outputs whose folder the program names
// (caches, a grid's output folder), not one the user may have mistyped.
func WriteFileAll(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return WriteFile(path, data)
}
