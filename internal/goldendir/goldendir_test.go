package goldendir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("LAFITE_GOLDEN", dir)
	if got, err := Find(); err != nil || got != dir {
		t.Fatalf("Find() = %q, %v; want $LAFITE_GOLDEN", got, err)
	}
	missing := filepath.Join(dir, "missing")
	t.Setenv("LAFITE_GOLDEN", missing)
	if _, err := Find(); err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("Find() with a missing $LAFITE_GOLDEN: %v", err)
	}
	// Without the variable: ../shared/golden beside the folder with go.mod.
	t.Setenv("LAFITE_GOLDEN", "")
	root := filepath.Join(dir, "repo")
	want := filepath.Join(dir, "shared", "golden")
	for _, d := range []string{filepath.Join(root, "pkg", "sub"), want} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(root, "pkg", "sub"))
	if got, err := Find(); err != nil || filepath.Clean(got) != want {
		t.Fatalf("Find() = %q, %v; want %s", got, err, want)
	}
}
