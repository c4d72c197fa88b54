// Package goldendir locates the reference cases the tests compare against:
// the directory named by $LAFITE_GOLDEN, else ../shared/golden beside the
// module root (the folder holding go.mod).
package goldendir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Find returns the golden directory, or an error saying why there is none
// (tests usually skip on it).
func Find() (string, error) {
	if d := os.Getenv("LAFITE_GOLDEN"); d != "" {
		if _, err := os.Stat(d); err != nil {
			return "", fmt.Errorf("LAFITE_GOLDEN=%s is not readable: %v", d, err)
		}
		return d, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory; cannot locate ../shared/golden (set LAFITE_GOLDEN)")
		}
		dir = parent
	}
	g := filepath.Join(dir, "..", "shared", "golden")
	if _, err := os.Stat(g); err != nil {
		return "", fmt.Errorf("golden directory %s missing (set LAFITE_GOLDEN): %v", g, err)
	}
	return g, nil
}

// Dir is Find for tests: it skips t when there is no golden directory.
func Dir(t testing.TB) string {
	t.Helper()
	g, err := Find()
	if err != nil {
		t.Skip(err)
	}
	return g
}
