package clip

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/internal/goldendir"
)

func gzipped(t testing.TB, s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// FuzzLoadTokenizer feeds arbitrary vocabulary files (word lists and gzipped
// BPE merges) to LoadTokenizer: it must return an error naming the file, or
// a tokenizer whose rows have the context length and ids inside its vocabulary.
func FuzzLoadTokenizer(f *testing.F) {
	words := strings.Join([]string{WordPadToken, WordUnkToken, WordSOTToken, "a", "dog", WordEOTToken}, "\n") + "\n"
	f.Add([]byte(words))
	f.Add([]byte(words[:len(words)/2]))
	f.Add([]byte(strings.Replace(words, "dog", "a", 1))) // duplicate token
	f.Add([]byte(strings.Replace(words, "dog", "two words", 1)))
	f.Add([]byte(""))
	f.Add(gzipped(f, "#version: 0.2\ni n\nt h\n"))
	f.Add(gzipped(f, "\xff\xfe"))
	f.Add([]byte{0x1f, 0x8b})
	if dir, err := goldendir.Find(); err == nil {
		if data, err := os.ReadFile(filepath.Join(dir, "clip_files", "bpe_simple_vocab_16e6.txt.gz")); err == nil {
			f.Add(data)
			f.Add(data[:len(data)/2])
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "vocab")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		tok, err := LoadTokenizer(p)
		if err != nil {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		rows, err := tok.Tokenize([]string{"a dog", "", "\xff zz 🙂"}, 8)
		if err != nil {
			t.Fatalf("Tokenize: %v", err)
		}
		for _, row := range rows {
			if len(row) != 8 {
				t.Fatalf("row of %d ids, want 8", len(row))
			}
			for _, id := range row {
				if id < 0 || id >= tok.VocabSize() {
					t.Fatalf("id %d outside the vocabulary of %d", id, tok.VocabSize())
				}
			}
		}
	})
}
