package clip

import (
	"compress/gzip"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Tokenizer is what a text tower needs from a tokenizer: fixed-width rows of
// ids, the vocabulary size for the embedding table and the end-of-text id
// (CLIP pools the text features at the EOT position).
type Tokenizer interface {
	Tokenize(texts []string, contextLength int) ([][]int, error)
	VocabSize() int
	EOT() int
}

var (
	_ Tokenizer = (*BPETokenizer)(nil)
	_ Tokenizer = (*WordTokenizer)(nil)
)

// Special tokens of OpenAI CLIP's vocabulary.
const (
	BPEStartOfText = "<|startoftext|>"
	BPEEndOfText   = "<|endoftext|>"
)

// bpeMerges is how many merge lines OpenAI's simple_tokenizer uses
// (merges[1:49152-256-2+1]): 49152 minus 256 byte symbols minus the two
// specials, so that with the 512 base symbols the vocabulary has 49408 entries.
const bpeMerges = 49152 - 256 - 2

// bpeCacheLimit bounds the per-word cache; arbitrary input (fuzzing, long
// corpora) would otherwise grow it without limit. When full it is reset.
const bpeCacheLimit = 1 << 17

// clipPattern is simple_tokenizer's pre-tokenization regex, which Python
// compiles with regex.IGNORECASE. Because the text is lower-cased first, case
// folding only matters in two places, both reproduced here: the literal
// alternatives also match fold variants such as "'ſ" (hence (?i:...) on
// them), and U+0345, which folds to a letter, is matched by neither the
// letter run nor the negated class in the regex module, so it is dropped
// (Go's (?i)\p{L} would include it, hence no (?i) on the classes and the
// explicit \x{345} exclusion). Go's leftmost-first alternation picks the same
// match as Python's backtracking for this pattern, and RE2's ASCII-only \s is
// enough because cleaning leaves no whitespace other than ' '.
var clipPattern = regexp.MustCompile(`(?i:<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d)|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}\x{345}]+`)

// BPETokenizer reproduces OpenAI CLIP's simple_tokenizer (byte-level BPE over
// the bpe_simple_vocab_16e6 merges) id for id. It is safe for concurrent use.
//
// Text cleaning follows the original: ftfy.fix_text as FixText reproduces
// it (mojibake repair included), then html.unescape twice, whitespace
// collapsing and lower-casing.
type BPETokenizer struct {
	vocab   []string       // id -> symbol (byte-unicode form)
	encoder map[string]int // symbol -> id
	ranks   map[uint64]bpeMerge
	sot     int
	eot     int
	byteID  [256]int // id of each byte's symbol, and with "</w>" (word end)
	endID   [256]int

	mu    sync.Mutex
	cache map[string][]int // cleaned pre-token -> ids

	skipFixText bool // tests: the reference cases were made with ftfy.fix_text as identity
}

type bpeMerge struct {
	rank   int32
	merged int32 // id of the joined symbol
}

// byteEncoder/byteDecoder are OpenAI's bytes_to_unicode: printable Latin-1
// bytes map to themselves and the rest to U+0100.., so every byte becomes a
// visible, non-space symbol the merges file can name.
var byteEncoder, byteDecoder, byteOrder = bytesToUnicode()

// bytesToUnicode also returns the bytes in the order of
// bytes_to_unicode().values(), which fixes the ids of the base symbols.
func bytesToUnicode() ([256]rune, map[rune]byte, []int) {
	var enc [256]rune
	var order []int // bs order; vocab ids follow it
	used := [256]bool{}
	for _, r := range [][2]int{{'!', '~'}, {0xA1, 0xAC}, {0xAE, 0xFF}} {
		for b := r[0]; b <= r[1]; b++ {
			enc[b] = rune(b)
			used[b] = true
			order = append(order, b)
		}
	}
	n := 0
	for b := 0; b < 256; b++ {
		if !used[b] {
			enc[b] = rune(256 + n)
			n++
			order = append(order, b)
		}
	}
	dec := make(map[rune]byte, 256)
	for b, r := range enc {
		dec[r] = byte(b)
	}
	return enc, dec, order
}

// LoadBPE reads a gzipped merges file in OpenAI's format (a version header
// line, then one "a b" merge per line) and builds CLIP's 49408-entry vocabulary.
func LoadBPE(path string) (*BPETokenizer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("clip: bpe vocab: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("clip: bpe vocab %s: not a gzip file: %w", path, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("clip: bpe vocab %s: reading: %w", path, err)
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("clip: bpe vocab %s: not valid UTF-8", path)
	}
	lines := strings.Split(string(data), "\n")
	if len(lines) < bpeMerges+1 {
		have := len(lines) - 1
		if have < 0 {
			have = 0
		}
		return nil, fmt.Errorf("clip: bpe vocab %s: %d merge lines, need %d", path, have, bpeMerges)
	}
	merges := make([][2]string, bpeMerges)
	for i, line := range lines[1 : bpeMerges+1] {
		parts := strings.Fields(line)
		if len(parts) != 2 {
			return nil, fmt.Errorf("clip: bpe vocab %s: line %d: want two symbols, got %q", path, i+2, line)
		}
		merges[i] = [2]string{parts[0], parts[1]}
	}

	vocab := make([]string, 0, 2*256+bpeMerges+2)
	for _, b := range byteOrder {
		vocab = append(vocab, string(byteEncoder[b]))
	}
	for _, b := range byteOrder {
		vocab = append(vocab, string(byteEncoder[b])+"</w>")
	}
	for _, m := range merges {
		vocab = append(vocab, m[0]+m[1])
	}
	vocab = append(vocab, BPEStartOfText, BPEEndOfText)

	// Later duplicates win, as with Python's dict(zip(vocab, range(...))).
	encoder := make(map[string]int, len(vocab))
	for id, s := range vocab {
		encoder[s] = id
	}
	ranks := make(map[uint64]bpeMerge, len(merges))
	for rank, m := range merges {
		a, okA := encoder[m[0]]
		b, okB := encoder[m[1]]
		if !okA || !okB {
			continue // a pair of unknown symbols can never occur in a word
		}
		ranks[pairKey(a, b)] = bpeMerge{rank: int32(rank), merged: int32(encoder[m[0]+m[1]])}
	}
	t := &BPETokenizer{
		vocab:   vocab,
		encoder: encoder,
		ranks:   ranks,
		sot:     encoder[BPEStartOfText],
		eot:     encoder[BPEEndOfText],
	}
	for b := 0; b < 256; b++ {
		t.byteID[b] = encoder[string(byteEncoder[b])]
		t.endID[b] = encoder[string(byteEncoder[b])+"</w>"]
	}
	t.resetCache()
	return t, nil
}

func pairKey(a, b int) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// resetCache seeds the cache with the specials, which is how the original
// makes a literal "<|endoftext|>" in the text encode as the special id.
func (t *BPETokenizer) resetCache() {
	t.cache = map[string][]int{
		BPEStartOfText: {t.sot},
		BPEEndOfText:   {t.eot},
	}
}

// VocabSize is 49408 for the standard merges file.
func (t *BPETokenizer) VocabSize() int { return len(t.vocab) }

// SOT is the <|startoftext|> id (49406).
func (t *BPETokenizer) SOT() int { return t.sot }

// EOT is the <|endoftext|> id (49407), the largest id, which CLIP's text tower
// relies on when it pools at argmax(tokens).
func (t *BPETokenizer) EOT() int { return t.eot }

// Encode cleans text and returns its BPE ids without start/end tokens.
func (t *BPETokenizer) Encode(text string) []int {
	text = cleanCLIPText(text, !t.skipFixText)
	var ids []int
	for _, tok := range clipPattern.FindAllString(text, -1) {
		ids = append(ids, t.bpe(tok)...)
	}
	return ids
}

// bpe returns the ids of one pre-token, merging the lowest-ranked adjacent pair
// (all its occurrences, left to right) until no ranked pair remains, exactly
// as simple_tokenizer.bpe does.
func (t *BPETokenizer) bpe(tok string) []int {
	t.mu.Lock()
	if ids, ok := t.cache[tok]; ok {
		t.mu.Unlock()
		return ids
	}
	t.mu.Unlock()

	word := make([]int, len(tok))
	for i := 0; i < len(tok); i++ {
		word[i] = t.byteID[tok[i]]
	}
	word[len(tok)-1] = t.endID[tok[len(tok)-1]]

	for len(word) > 1 {
		best := bpeMerge{rank: math.MaxInt32}
		var first, second int
		for i := 0; i+1 < len(word); i++ {
			if m, ok := t.ranks[pairKey(word[i], word[i+1])]; ok && m.rank < best.rank {
				best, first, second = m, word[i], word[i+1]
			}
		}
		if best.rank == math.MaxInt32 {
			break
		}
		out := word[:0] // writes never overtake reads
		for i := 0; i < len(word); {
			if i+1 < len(word) && word[i] == first && word[i+1] == second {
				out = append(out, int(best.merged))
				i += 2
			} else {
				out = append(out, word[i])
				i++
			}
		}
		word = out
	}
	ids := append([]int(nil), word...)

	t.mu.Lock()
	if len(t.cache) >= bpeCacheLimit {
		t.resetCache()
	}
	t.cache[tok] = ids
	t.mu.Unlock()
	return ids
}

// Decode maps ids back to text. "</w>" becomes a space (so words come back
// space separated, with a trailing space), invalid UTF-8 is replaced like
// Python's errors="replace", and ids outside the vocabulary are skipped.
func (t *BPETokenizer) Decode(ids []int) string {
	var sb strings.Builder
	for _, id := range ids {
		if id >= 0 && id < len(t.vocab) {
			sb.WriteString(t.vocab[id])
		}
	}
	var raw []byte
	for _, r := range sb.String() {
		if b, ok := byteDecoder[r]; ok {
			raw = append(raw, b)
		}
	}
	return strings.ReplaceAll(pyDecodeUTF8(raw), "</w>", " ")
}

// Tokenize is clip.tokenize(texts, contextLength, truncate=True), the form
// CLIP's own code uses for prompts.
func (t *BPETokenizer) Tokenize(texts []string, contextLength int) ([][]int, error) {
	return t.TokenizeOpts(texts, contextLength, true)
}

// TokenizeOpts is clip.tokenize: each row is [SOT] + ids + [EOT], zero padded
// to contextLength. An over-long row is cut to contextLength with its last id
// set to EOT when truncate is set, and is an error otherwise.
func (t *BPETokenizer) TokenizeOpts(texts []string, contextLength int, truncate bool) ([][]int, error) {
	if contextLength < 1 {
		return nil, fmt.Errorf("clip: context length %d < 1", contextLength)
	}
	rows := make([][]int, len(texts))
	for i, text := range texts {
		row, err := packRow(t.sot, t.Encode(text), t.eot, contextLength, truncate)
		if err != nil {
			return nil, fmt.Errorf("clip: input %q is too long for context length %d", text, contextLength)
		}
		rows[i] = row
	}
	return rows, nil
}

var errTooLong = errors.New("too long")

func packRow(sot int, ids []int, eot, contextLength int, truncate bool) ([]int, error) {
	row := make([]int, contextLength)
	n := len(ids) + 2
	if n > contextLength {
		if !truncate {
			return nil, errTooLong
		}
		row[0] = sot
		copy(row[1:], ids)
		row[contextLength-1] = eot
		return row, nil
	}
	row[0] = sot
	copy(row[1:], ids)
	row[n-1] = eot
	return row, nil
}

// cleanCLIPText is basic_clean (ftfy.fix_text when fix, html.unescape
// twice, strip) + whitespace_clean + lower() with Python's rules: str.strip
// trims str.isspace characters, while the collapse uses the regex module's
// \s, i.e. Unicode White_Space, which (unlike isspace) excludes
// U+001C..U+001F: without ftfy, which removes them, those survive inside the
// text.
func cleanCLIPText(s string, fix bool) string {
	if !utf8.ValidString(s) {
		s = pyDecodeUTF8([]byte(s))
	}
	if fix {
		s = FixText(s)
	}
	s = strings.TrimFunc(pyHTMLUnescape(pyHTMLUnescape(s)), pyIsSpace)
	var sb strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) { // Go's IsSpace is exactly White_Space
			space = true
			continue
		}
		if space {
			sb.WriteByte(' ')
			space = false
		}
		sb.WriteRune(r)
	}
	return pyLower(sb.String())
}

// pyIsSpace is Python's str.isspace: White_Space plus the ASCII information
// separators U+001C..U+001F.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1C && r <= 0x1F)
}

// pyLower is Python's str.lower: simple lower-case mapping except U+0130,
// which lowers to "i\u0307", and capital sigma, which becomes final sigma at
// the end of a word (Unicode's Final_Sigma condition).
func pyLower(s string) string {
	if !strings.ContainsAny(s, "\u0130\u03a3") {
		return strings.ToLower(s)
	}
	rs := []rune(s)
	var sb strings.Builder
	for i, r := range rs {
		switch r {
		case 0x130:
			sb.WriteString("i\u0307")
		case 0x3A3:
			if finalSigma(rs, i) {
				sb.WriteRune(0x3C2)
			} else {
				sb.WriteRune(0x3C3)
			}
		default:
			sb.WriteRune(unicode.ToLower(r))
		}
	}
	return sb.String()
}

// finalSigma mirrors CPython's handle_capital_sigma:
// \p{cased}\p{case-ignorable}* Σ !(\p{case-ignorable}* \p{cased}).
func finalSigma(rs []rune, i int) bool {
	j := i - 1
	for j >= 0 && isCaseIgnorable(rs[j]) {
		j--
	}
	if j < 0 || !isCased(rs[j]) {
		return false
	}
	j = i + 1
	for j < len(rs) && isCaseIgnorable(rs[j]) {
		j++
	}
	return j == len(rs) || !isCased(rs[j])
}

func isCased(r rune) bool {
	return unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt, unicode.Other_Lowercase, unicode.Other_Uppercase)
}

// isCaseIgnorable is Unicode's Case_Ignorable: Mn, Me, Cf, Lm, Sk, or
// Word_Break MidLetter, MidNumLet or Single_Quote (listed by hand; Go has no
// Word_Break tables).
func isCaseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', 0x00B7, 0x0387, 0x055F, 0x05F4, 0x2018, 0x2019, 0x2024, 0x2027,
		0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// pyDecodeUTF8 is bytes.decode("utf-8", errors="replace"): each maximal
// invalid subpart becomes one U+FFFD (Go's own conversion emits one per byte).
func pyDecodeUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			sb.WriteByte(c)
			i++
			continue
		}
		need, lo, hi := 0, byte(0x80), byte(0xBF)
		switch {
		case c >= 0xC2 && c <= 0xDF:
			need = 1
		case c == 0xE0:
			need, lo = 2, 0xA0
		case c == 0xED:
			need, hi = 2, 0x9F
		case c >= 0xE1 && c <= 0xEF:
			need = 2
		case c == 0xF0:
			need, lo = 3, 0x90
		case c >= 0xF1 && c <= 0xF3:
			need = 3
		case c == 0xF4:
			need, hi = 3, 0x8F
		default:
			sb.WriteRune(utf8.RuneError)
			i++
			continue
		}
		j := i + 1
		for k := 0; k < need && j < len(b); k++ {
			if b[j] < lo || b[j] > hi {
				break
			}
			lo, hi = 0x80, 0xBF
			j++
		}
		if j-i == need+1 {
			sb.Write(b[i:j])
		} else {
			sb.WriteRune(utf8.RuneError)
		}
		i = j
	}
	return sb.String()
}

// pyHTMLUnescape is Python's html.unescape. It scans with Python's charref
// pattern, &(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?), and
// resolves numeric references itself: Go's html package keeps invalid code
// points (Python drops e.g. &#127;), wraps huge numbers and turns "&#x;" into
// U+FFFD. Each named match alone is handed to html.UnescapeString, whose
// longest-prefix rule for legacy entities (&notit; -> ¬it;) equals Python's;
// the two HTML5 entities Go does not know are added.
func pyHTMLUnescape(s string) string {
	if strings.IndexByte(s, '&') < 0 {
		return s
	}
	var out strings.Builder
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '&')
		if j < 0 {
			out.WriteString(s[i:])
			break
		}
		out.WriteString(s[i : i+j])
		i += j
		if rep, n := pyCharRefAt(s[i:]); n > 0 {
			out.WriteString(rep)
			i += n
		} else {
			out.WriteByte('&')
			i++
		}
	}
	return out.String()
}

// pyCharRefAt resolves the reference at the start of s (s[0] == '&') and
// returns its replacement and length, or n == 0 when Python's pattern does not
// match there.
func pyCharRefAt(s string) (rep string, n int) {
	if len(s) < 2 {
		return "", 0
	}
	if s[1] == '#' {
		base, start := 10, 2
		j := start
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == start && len(s) > 3 && (s[2] == 'x' || s[2] == 'X') {
			base, start = 16, 3
			j = start
			for j < len(s) && isHexDigit(s[j]) {
				j++
			}
		}
		if j == start {
			return "", 0
		}
		digits := s[start:j]
		if j < len(s) && s[j] == ';' {
			j++
		}
		return pyCharRef(digits, base), j
	}
	j, count := 1, 0
	for j < len(s) && count < 32 {
		r, size := utf8.DecodeRuneInString(s[j:])
		if strings.ContainsRune("\t\n\f <&#;", r) {
			break
		}
		j += size
		count++
	}
	if count == 0 {
		return "", 0
	}
	if j < len(s) && s[j] == ';' {
		j++
	}
	if v, ok := pyExtraEntities[s[1:j]]; ok {
		return v, j
	}
	return html.UnescapeString(s[:j]), j
}

// pyExtraEntities are the entries of Python's html.entities.html5 that Go's
// html package lacks.
var pyExtraEntities = map[string]string{
	"nGt;": "\u226b\u20d2",
	"nLt;": "\u226a\u20d2",
}

func isDigit(c byte) bool    { return c >= '0' && c <= '9' }
func isHexDigit(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// pyInvalidCharRefs is html._invalid_charrefs (the HTML5 windows-1252 table).
var pyInvalidCharRefs = map[int64]string{
	0x00: "\ufffd", 0x0d: "\r", 0x80: "\u20ac", 0x81: "\u0081", 0x82: "\u201a", 0x83: "\u0192",
	0x84: "\u201e", 0x85: "\u2026", 0x86: "\u2020", 0x87: "\u2021", 0x88: "\u02c6", 0x89: "\u2030",
	0x8a: "\u0160", 0x8b: "\u2039", 0x8c: "\u0152", 0x8d: "\u008d", 0x8e: "\u017d", 0x8f: "\u008f",
	0x90: "\u0090", 0x91: "\u2018", 0x92: "\u2019", 0x93: "\u201c", 0x94: "\u201d", 0x95: "\u2022",
	0x96: "\u2013", 0x97: "\u2014", 0x98: "\u02dc", 0x99: "\u2122", 0x9a: "\u0161", 0x9b: "\u203a",
	0x9c: "\u0153", 0x9d: "\u009d", 0x9e: "\u017e", 0x9f: "\u0178",
}

func pyCharRef(digits string, base int) string {
	digits = strings.TrimLeft(digits, "0")
	num := int64(0)
	if len(digits) > 8 { // certainly > 0x10FFFF in either base
		num = math.MaxInt64
	} else if digits != "" {
		num, _ = strconv.ParseInt(digits, base, 64)
	}
	if v, ok := pyInvalidCharRefs[num]; ok {
		return v
	}
	if num >= 0xD800 && num <= 0xDFFF || num > 0x10FFFF {
		return "\ufffd"
	}
	if num >= 0x1 && num <= 0x8 || num == 0xB || num >= 0xE && num <= 0x1F || num >= 0x7F && num <= 0x9F ||
		num >= 0xFDD0 && num <= 0xFDEF || num&0xFFFE == 0xFFFE {
		return ""
	}
	return string(rune(num))
}
