package clip

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/lafite-go/lafite/internal/goldendir"
)

var (
	bpeOnce sync.Once
	bpeTok  *BPETokenizer
	bpeErr  error
)

// loadTestBPE loads the 16e6 vocabulary once per test binary.
func loadTestBPE(t testing.TB) *BPETokenizer {
	t.Helper()
	path := filepath.Join(goldendir.Dir(t), "clip_files", "bpe_simple_vocab_16e6.txt.gz")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("bpe vocab missing: %v", err)
	}
	bpeOnce.Do(func() { bpeTok, bpeErr = LoadBPE(path) })
	if bpeErr != nil {
		t.Fatal(bpeErr)
	}
	return bpeTok
}

// readSafetensors is a minimal reader for the golden files: I64 tensors only,
// plus the __metadata__ map.
func readSafetensors(t *testing.T, path string) (map[string][]int64, map[string][]int, map[string]string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("golden file: %v", err)
	}
	n := binary.LittleEndian.Uint64(data[:8])
	var header map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	body := data[8+n:]
	tensors, shapes, meta := map[string][]int64{}, map[string][]int{}, map[string]string{}
	for name, raw := range header {
		if name == "__metadata__" {
			if err := json.Unmarshal(raw, &meta); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var info struct {
			Dtype       string   `json:"dtype"`
			Shape       []int    `json:"shape"`
			DataOffsets [2]int64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw, &info); err != nil {
			t.Fatal(err)
		}
		if info.Dtype != "I64" {
			t.Fatalf("%s: dtype %s, this reader only knows I64", name, info.Dtype)
		}
		b := body[info.DataOffsets[0]:info.DataOffsets[1]]
		v := make([]int64, len(b)/8)
		for i := range v {
			v[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
		}
		tensors[name], shapes[name] = v, info.Shape
	}
	return tensors, shapes, meta
}

func TestBPEGolden(t *testing.T) {
	tok := loadTestBPE(t)
	tensors, shapes, meta := readSafetensors(t, filepath.Join(goldendir.Dir(t), "clip_tokenize.safetensors"))
	var texts []string
	if err := json.Unmarshal([]byte(meta["texts"]), &texts); err != nil {
		t.Fatalf("metadata texts: %v", err)
	}
	want, shape := tensors["out.tokens"], shapes["out.tokens"]
	if len(shape) != 2 || shape[0] != len(texts) {
		t.Fatalf("out.tokens shape %v for %d texts", shape, len(texts))
	}
	ctx := shape[1]
	got, err := tok.TokenizeOpts(texts, ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range got {
		for j, id := range row {
			if int64(id) != want[i*ctx+j] {
				t.Errorf("text %d %q: got %v\nwant %v", i, texts[i], row, want[i*ctx:(i+1)*ctx])
				break
			}
		}
	}
	t.Logf("%d golden rows checked", len(got))
}

// TestBPEReferenceCases compares against testdata/bpe_cases.json, produced by
// OpenAI's simple_tokenizer (ftfy.fix_text as identity) on Unicode, HTML-entity
// and whitespace cases the golden file does not cover; the tokenizer here
// skips FixText too (text_fix_test.go checks that and its effect on ids).
func TestBPEReferenceCases(t *testing.T) {
	loadTestBPE(t) // skips when the vocabulary is missing
	tok, err := LoadBPE(filepath.Join(goldendir.Dir(t), "clip_files", "bpe_simple_vocab_16e6.txt.gz"))
	if err != nil {
		t.Fatal(err)
	}
	tok.skipFixText = true // as the reference that made the file
	data, err := os.ReadFile(filepath.Join("testdata", "bpe_cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []struct {
			Text string `json:"text"`
			IDs  []int  `json:"ids"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	for _, c := range file.Cases {
		got := tok.Encode(c.Text)
		if len(got) == 0 && len(c.IDs) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, c.IDs) {
			t.Errorf("Encode(%q)\n got %v\nwant %v", c.Text, got, c.IDs)
		}
	}
	t.Logf("%d reference cases checked", len(file.Cases))
}

func TestBPEVocab(t *testing.T) {
	tok := loadTestBPE(t)
	if tok.VocabSize() != 49408 || tok.SOT() != 49406 || tok.EOT() != 49407 {
		t.Fatalf("vocab %d sot %d eot %d", tok.VocabSize(), tok.SOT(), tok.EOT())
	}
	// First base symbol is '!', byte 0 is the first shifted one (U+0100).
	if tok.vocab[0] != "!" || tok.vocab[188] != "\u0100" || tok.vocab[256] != "!</w>" {
		t.Fatalf("base symbols %q %q %q", tok.vocab[0], tok.vocab[188], tok.vocab[256])
	}
}

func TestBPERoundTrip(t *testing.T) {
	tok := loadTestBPE(t)
	for _, s := range []string{
		"a photo of a cat",
		"the quick brown fox jumps over the lazy dog",
		"hello, world! it's 3 apples.",
		"unusualwordzzyx qwertyuiop",
		"café naïve 東京 emoji 🙂",
	} {
		got := strings.TrimSpace(tok.Decode(tok.Encode(s)))
		// Decode separates every pre-token with a space.
		want := strings.Join(clipPattern.FindAllString(s, -1), " ")
		if got != want {
			t.Errorf("round trip %q: got %q want %q", s, got, want)
		}
	}
	if got := tok.Decode([]int{-1, 49408, 320}); got != "a " {
		t.Errorf("Decode with out-of-range ids = %q", got)
	}
	if got := tok.Decode([]int{tok.SOT(), 320, tok.EOT()}); got != "<|startoftext|>a <|endoftext|>" {
		t.Errorf("Decode specials = %q", got)
	}
}

func TestBPESpecialTokensInText(t *testing.T) {
	tok := loadTestBPE(t)
	got := tok.Encode("a <|endoftext|> b <|startoftext|>")
	want := append(append(append(tok.Encode("a"), 49407), tok.Encode("b")...), 49406)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
	// Lower-casing happens first, so upper-case specials are special too.
	if got := tok.Encode("<|ENDOFTEXT|>"); !reflect.DeepEqual(got, []int{49407}) {
		t.Fatalf("upper-case special: %v", got)
	}
	// A near miss is ordinary text.
	if got := tok.Encode("<|endoftext>"); len(got) < 2 {
		t.Fatalf("near miss encoded as %v", got)
	}
}

func TestBPECleaning(t *testing.T) {
	tok := loadTestBPE(t)
	same := [][2]string{
		{"  A\tPhoto\n\nOF  a CAT ", "a photo of a cat"},
		{"a &amp;amp; b", "a & b"},                      // unescaped twice
		{"x&#65;&#x42;", "xab"},                         // numeric refs, then lower-cased
		{"\x1ca\u00a0b\u3000c\x1cd \x1f", "a b c\x1cd"}, // White_Space collapses, isspace strips
		{"a&#127;b", "ab"},                              // Python drops invalid code points
		{"ΟΔΟΣ ΟΔΟΣ.", "οδος οδος."},                    // final sigma as str.lower()
		{"İ", "i\u0307"},                                // full lower-case mapping
		{"a\xffb", "a\ufffdb"},                          // invalid UTF-8 as errors="replace"
		{"&#x110000;&#99999999999;", "\ufffd\ufffd"},
	}
	for _, c := range same {
		if got := cleanCLIPText(c[0], false); got != c[1] {
			t.Errorf("clean(%q) = %q, want %q", c[0], got, c[1])
		}
		if got, want := tok.Encode(c[0]), tok.Encode(c[1]); !reflect.DeepEqual(got, want) {
			t.Errorf("Encode(%q) = %v, want Encode(%q) = %v", c[0], got, c[1], want)
		}
	}
}

func TestBPETruncation(t *testing.T) {
	tok := loadTestBPE(t)
	long := strings.Repeat("cat ", 10) // 10 tokens
	rows, err := tok.TokenizeOpts([]string{long, "cat"}, 8, true)
	if err != nil {
		t.Fatal(err)
	}
	cat := tok.Encode("cat")[0]
	if want := []int{49406, cat, cat, cat, cat, cat, cat, 49407}; !reflect.DeepEqual(rows[0], want) {
		t.Errorf("truncated row %v want %v", rows[0], want)
	}
	if want := []int{49406, cat, 49407, 0, 0, 0, 0, 0}; !reflect.DeepEqual(rows[1], want) {
		t.Errorf("padded row %v want %v", rows[1], want)
	}
	// Exactly fitting is not truncated.
	rows, err = tok.TokenizeOpts([]string{strings.Repeat("cat ", 6)}, 8, false)
	if err != nil || rows[0][6] != cat || rows[0][7] != 49407 {
		t.Errorf("exact fit: %v %v", rows, err)
	}
	_, err = tok.TokenizeOpts([]string{"ok", long}, 8, false)
	if err == nil || !strings.Contains(err.Error(), "cat cat") {
		t.Errorf("want a too-long error naming the text, got %v", err)
	}
	if r, err := tok.Tokenize([]string{long}, 8); err != nil || !reflect.DeepEqual(r[0], []int{49406, cat, cat, cat, cat, cat, cat, 49407}) {
		t.Errorf("Tokenize truncates: %v %v", r, err)
	}
	if r, err := tok.Tokenize([]string{"cat"}, 1); err != nil || !reflect.DeepEqual(r[0], []int{49407}) {
		t.Errorf("context 1: %v %v", r, err)
	}
	if _, err := tok.Tokenize([]string{"cat"}, 0); err == nil {
		t.Error("context 0 accepted")
	}
}

func TestBPEConcurrent(t *testing.T) {
	tok := loadTestBPE(t)
	texts := []string{"a photo of a dog", "zebras grazing near acacias", "quantum chromodynamics"}
	want := make([][]int, len(texts))
	for i, s := range texts {
		want[i] = tok.Encode(s)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 50; k++ {
				i := (g + k) % len(texts)
				if got := tok.Encode(texts[i]); !reflect.DeepEqual(got, want[i]) {
					t.Errorf("goroutine %d: %v != %v", g, got, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
}

func writeGz(t *testing.T, content string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(content))
	zw.Close()
	path := filepath.Join(t.TempDir(), "vocab.txt.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadBPEErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.txt.gz")
	plain := filepath.Join(dir, "plain.txt.gz")
	os.WriteFile(plain, []byte("#version: 0.2\ni n\n"), 0o644)

	var full strings.Builder
	full.WriteString("#version: 0.2\n")
	for i := 0; i < bpeMerges; i++ {
		full.WriteString("a b\n")
	}
	good := writeGz(t, full.String())
	if _, err := LoadBPE(good); err != nil {
		t.Fatalf("well-formed synthetic vocab rejected: %v", err)
	}
	raw, _ := os.ReadFile(good)
	cut := filepath.Join(dir, "cut.txt.gz")
	os.WriteFile(cut, raw[:len(raw)/2], 0o644)

	cases := map[string]string{
		"missing":   missing,
		"not gzip":  plain,
		"truncated": cut,
		"few":       writeGz(t, "#version: 0.2\ni n\nt h\n"),
		"malformed": writeGz(t, strings.Replace(full.String(), "a b\n", "abc\n", 1)),
		"not utf8":  writeGz(t, "#version: 0.2\n\xff\xfe\n"),
	}
	for name, path := range cases {
		_, err := LoadBPE(path)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %q does not name %s", name, err, path)
		}
	}
}

func TestPyHTMLUnescape(t *testing.T) {
	// Expected values from Python's html.unescape.
	for _, c := range [][2]string{
		{"&amp;amp;", "&amp;"},
		{"&#x;", "&#x;"},
		{"&#X41", "A"},
		{"&#0x41", "\ufffdx41"},
		{"&notit;", "\u00acit;"},
		{"&ampx", "&x"},
		{"&amp-x;", "&-x;"},
		{"&nGt;", "\u226b\u20d2"},
		{"&NotEqualTilde;", "\u2242\u0338"},
		{"&#127;", ""},
		{"&#128;", "\u20ac"},
		{"&#129;", "\u0081"},
		{"&#xD800;", "\ufffd"},
		{"&#x110000;", "\ufffd"},
		{"&#99999999999999;", "\ufffd"},
		{"&#1114111;", ""},
		{"&#65534;", ""},
		{"&#00000000065;", "A"},
		{"&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;", "&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;"},
		{"& amp;", "& amp;"},
		{"&#;", "&#;"},
		{"&;", "&;"},
	} {
		if got := pyHTMLUnescape(c[0]); got != c[1] {
			t.Errorf("pyHTMLUnescape(%q) = %q want %q", c[0], got, c[1])
		}
	}
}

func TestPyDecodeUTF8(t *testing.T) {
	// Expected values from Python: b.decode("utf-8", errors="replace").
	for in, want := range map[string]string{
		"ok":                    "ok",
		"\xe2\x82a":             "\ufffda",
		"\xe2\x82\xac":          "€",
		"\xed\xa0\x80":          "\ufffd\ufffd\ufffd",
		"\xf0\x9f\x99":          "\ufffd",
		"\xc0\xaf":              "\ufffd\ufffd",
		"\xf4\x90\x80\x80":      "\ufffd\ufffd\ufffd\ufffd",
		"a\xf0\x9f\x99\x82\x80": "a🙂\ufffd",
	} {
		if got := pyDecodeUTF8([]byte(in)); got != want {
			t.Errorf("pyDecodeUTF8(%q) = %q want %q", in, got, want)
		}
	}
}

func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", "a photo of a cat", "<|endoftext|>", "&amp;#65;", "ΣΣ İ \xff\xfe", "🙂🙂🙂", "'s'S'll", strings.Repeat("x", 300)} {
		f.Add(s)
	}
	tok := loadTestBPE(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, id := range tok.Encode(s) {
			if id < 0 || id >= 49408 {
				t.Fatalf("Encode(%q): id %d out of range", s, id)
			}
		}
		rows, err := tok.Tokenize([]string{s}, 77)
		if err != nil || len(rows[0]) != 77 {
			t.Fatalf("Tokenize(%q): %v", s, err)
		}
	})
}
