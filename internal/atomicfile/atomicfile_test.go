package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReplacesWholeOrNotAtAll(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bin")
	if err := WriteFile(path, []byte("first")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "first" {
		t.Fatalf("read %q, %v; want \"first\"", got, err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v, %v; want 0644", st.Mode().Perm(), err)
	}
	// A writer that fails half way leaves the old file and no temporary.
	boom := errors.New("disk full")
	err = Write(path, func(w io.Writer) error {
		if _, err := w.Write([]byte("sec")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write returned %v, want the writer's error", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "first" {
		t.Fatalf("a failed write changed the file to %q", got)
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("the folder holds %d entries after a failed write, want only the file", len(entries))
	}
	if err := WriteFile(path, []byte("second")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "second" {
		t.Fatalf("read %q after the second write", got)
	}
	// A missing folder is an error, not a new folder.
	missing := filepath.Join(dir, "missing", "x")
	if err := WriteFile(missing, []byte("y")); err == nil {
		t.Fatal("writing into a missing folder succeeded")
	}
	if _, err := os.Stat(filepath.Dir(missing)); err == nil {
		t.Fatal("a failed write made the missing folder")
	}
}

// WriteFileAll makes the missing folders and replaces a file already there
// (the kernel cache's and the grids' use).
func TestWriteFileAllMakesFoldersAndReplaces(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	p := filepath.Join(dir, "k.ptx")
	for _, content := range []string{"one", "two"} {
		if err := WriteFileAll(p, []byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(p)
	ents, _ := os.ReadDir(dir)
	if string(b) != "two" || len(ents) != 1 {
		t.Fatalf("content %q, %d files", b, len(ents))
	}
}
