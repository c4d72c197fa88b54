package inception

import (
	"path/filepath"
	"testing"

	"github.com/lafite-go/lafite/internal/fuzzfile"
)

// FuzzLoad: a damaged weights file is an error, never a panic or a network
// whose convolutions do not fit the layout.
func FuzzLoad(f *testing.F) {
	fuzzfile.Fuzz(f, filepath.Join("testdata", "tiny_inception.pth"), func(path string) error {
		_, err := Load(path)
		return err
	})
}
