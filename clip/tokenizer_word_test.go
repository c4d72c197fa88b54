package clip

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var toyCorpus = []string{
	"a small red circle on the left",
	"A large blue square on the right.",
	"a small green triangle, on the left!",
	"two red circles",
}

func TestWordBuild(t *testing.T) {
	tok := BuildWordTokenizer(toyCorpus, 1)
	words := tok.Words()
	if words[0] != "<pad>" || words[1] != "<unk>" || words[2] != "<sot>" || words[len(words)-1] != "<eot>" {
		t.Fatalf("specials misplaced: %v", words)
	}
	// Most frequent first ("a", "on", "the" 3 times), ties alphabetical.
	if want := []string{"a", "on", "the", "left", "red", "small"}; !reflect.DeepEqual(words[3:9], want) {
		t.Errorf("order %v want prefix %v", words[3:], want)
	}
	if tok.VocabSize() != len(words) || tok.EOT() != len(words)-1 || tok.SOT() != 2 {
		t.Errorf("VocabSize %d EOT %d SOT %d for %d words", tok.VocabSize(), tok.EOT(), tok.SOT(), len(words))
	}
	for id, w := range words[:len(words)-1] {
		if id >= tok.EOT() {
			t.Errorf("%q has id %d >= EOT %d", w, id, tok.EOT())
		}
	}
	// Deterministic regardless of map order.
	if again := BuildWordTokenizer(toyCorpus, 1); !reflect.DeepEqual(again.Words(), words) {
		t.Error("BuildWordTokenizer is not deterministic")
	}
}

func TestWordMinCount(t *testing.T) {
	tok := BuildWordTokenizer(toyCorpus, 2)
	if got := tok.Words(); !reflect.DeepEqual(got, []string{"<pad>", "<unk>", "<sot>", "a", "on", "the", "left", "red", "small", "<eot>"}) {
		t.Errorf("minCount 2 vocab %v", got)
	}
	if got := BuildWordTokenizer(nil, 0).Words(); !reflect.DeepEqual(got, []string{"<pad>", "<unk>", "<sot>", "<eot>"}) {
		t.Errorf("empty corpus vocab %v", got)
	}
}

func TestWordEncodeDecode(t *testing.T) {
	tok := BuildWordTokenizer(toyCorpus, 1)
	ids := tok.Encode("A Small RED circle... on the LEFT, purple!")
	if len(ids) != 8 || ids[7] != WordUnk {
		t.Fatalf("Encode = %v", ids)
	}
	for _, id := range ids[:7] {
		if id <= WordSOT || id >= tok.EOT() {
			t.Errorf("word id %d out of the word range", id)
		}
	}
	if got := tok.Decode(ids); got != "a small red circle on the left <unk>" {
		t.Errorf("Decode = %q", got)
	}
	// Specials cannot be typed in: "<eot>" is split into the word "eot".
	if got := tok.Encode("<eot> <sot>"); !reflect.DeepEqual(got, []int{WordUnk, WordUnk}) {
		t.Errorf("typed specials = %v", got)
	}
	if got := tok.Decode([]int{WordSOT, ids[0], tok.EOT(), WordPad, WordPad, -5, 1000}); got != "a <unk> <unk>" {
		t.Errorf("Decode with specials = %q", got)
	}
	if got := splitWords("Top-left: 2 circles,ſmall café"); !reflect.DeepEqual(got, []string{"top", "left", "2", "circles", "ſmall", "café"}) {
		t.Errorf("splitWords = %q", got)
	}
	// Text as CLIP's tokenizer fixes it: full width, ligatures, NFC.
	if got := splitWords("ＲＥＤ ﬁsh cafe\u0301"); !reflect.DeepEqual(got, []string{"red", "fish", "café"}) {
		t.Errorf("splitWords of unfixed text = %q", got)
	}
}

func TestWordTokenize(t *testing.T) {
	tok := BuildWordTokenizer(toyCorpus, 1)
	eot := tok.EOT()
	a, small, red := tok.Encode("a")[0], tok.Encode("small")[0], tok.Encode("red")[0]
	rows, err := tok.Tokenize([]string{"a small red", "", "a small red a small red"}, 6)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int{
		{WordSOT, a, small, red, eot, 0},
		{WordSOT, eot, 0, 0, 0, 0},
		{WordSOT, a, small, red, a, eot},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows %v want %v", rows, want)
	}
	// argmax of every row is the EOT position, as CLIP's text tower assumes.
	for i, row := range rows {
		best := 0
		for j, id := range row {
			if id > row[best] {
				best = j
			}
		}
		if row[best] != eot {
			t.Errorf("row %d: argmax %d is not EOT", i, row[best])
		}
	}
	if _, err := tok.Tokenize([]string{"a"}, 0); err == nil {
		t.Error("context 0 accepted")
	}
	var iface Tokenizer = tok
	if iface.VocabSize() != eot+1 {
		t.Error("interface VocabSize")
	}
}

func TestWordSaveLoad(t *testing.T) {
	tok := BuildWordTokenizer(toyCorpus, 1)
	dir := t.TempDir()
	path := filepath.Join(dir, "vocab.txt")
	if err := tok.Save(path); err != nil {
		t.Fatal(err)
	}
	again, err := LoadWordTokenizer(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again.Words(), tok.Words()) {
		t.Errorf("loaded %v want %v", again.Words(), tok.Words())
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), "<pad>\n<unk>\n<sot>\na\n") || !strings.HasSuffix(string(data), "\n<eot>\n") {
		t.Errorf("file format %q", data)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	// Overwriting works and CRLF files load.
	if err := BuildWordTokenizer([]string{"x"}, 1).Save(path); err != nil {
		t.Fatal(err)
	}
	crlf := filepath.Join(dir, "crlf.txt")
	os.WriteFile(crlf, []byte("<pad>\r\n<unk>\r\n<sot>\r\nx\r\n<eot>\r\n"), 0o644)
	if w, err := LoadWordTokenizer(crlf); err != nil || w.VocabSize() != 5 {
		t.Errorf("CRLF load: %v", err)
	}
	if err := tok.Save(filepath.Join(dir, "missing", "v.txt")); err == nil {
		t.Error("Save into a missing folder succeeded")
	}
}

func TestWordLoadErrors(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"too short":   "<pad>\n<unk>\n<eot>\n",
		"pad":         "<unk>\n<pad>\n<sot>\na\n<eot>\n",
		"no eot last": "<pad>\n<unk>\n<sot>\n<eot>\na\n",
		"duplicate":   "<pad>\n<unk>\n<sot>\na\na\n<eot>\n",
		"empty line":  "<pad>\n<unk>\n<sot>\n\na\n<eot>\n",
		"space":       "<pad>\n<unk>\n<sot>\na b\n<eot>\n",
		"empty":       "",
	}
	for name, content := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".txt")
		os.WriteFile(path, []byte(content), 0o644)
		if _, err := LoadWordTokenizer(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v should name %s", name, err, path)
		}
	}
	missing := filepath.Join(dir, "missing.txt")
	if _, err := LoadWordTokenizer(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: %v", err)
	}
}
