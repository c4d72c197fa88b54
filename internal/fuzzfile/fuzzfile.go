// Package fuzzfile is the shared harness of the fuzz targets for loaders
// of user files: each mutated input is written to a file and loaded, and
// the loader may return any error but must not panic.
package fuzzfile

import (
	"os"
	"path/filepath"
	"testing"
)

// Fuzz seeds f with the file at seed (a valid one, written by the matching
// Save) and loads every mutation of it through load.
func Fuzz(f *testing.F, seed string, load func(path string) error) {
	b, err := os.ReadFile(seed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "in")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_ = load(path)
	})
}
