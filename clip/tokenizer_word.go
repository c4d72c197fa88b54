package clip

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"unicode"

	"github.com/lafite-go/lafite/internal/atomicfile"
)

// Fixed ids and spellings of the WordTokenizer's special tokens. <eot> has no
// fixed id: it is always the last (largest) id, see WordTokenizer.
const (
	WordPad = 0
	WordUnk = 1
	WordSOT = 2

	WordPadToken = "<pad>"
	WordUnkToken = "<unk>"
	WordSOTToken = "<sot>"
	WordEOTToken = "<eot>"
)

// WordTokenizer is a word-level tokenizer for text towers trained from scratch
// on small, closed vocabularies (e.g. synthetic captions), where BPE's 49408
// entries would be mostly unused embedding rows.
//
// Ids: 0 <pad>, 1 <unk>, 2 <sot>, then the words, then <eot> as the largest id.
// <eot> is last because CLIP's text tower finds the end of each sequence as
// argmax(tokens); that only works if EOT outranks every other id, as
// <|endoftext|> does in OpenAI's vocabulary.
//
// A WordTokenizer is immutable and safe for concurrent use.
type WordTokenizer struct {
	tokens []string // id -> token
	ids    map[string]int
}

// splitWords fixes text as CLIP's tokenizer does (FixText: full-width
// letters, ligatures, NFC), lower-cases it and keeps runs of letters, digits
// and combining marks; everything else (spaces, punctuation) separates words
// and is dropped.
func splitWords(text string) []string {
	return strings.FieldsFunc(strings.ToLower(FixText(text)), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
	})
}

// BuildWordTokenizer keeps the words seen at least minCount times (minCount < 1
// counts as 1), most frequent first and ties alphabetical, so that the same
// corpus always gives the same ids.
func BuildWordTokenizer(corpus []string, minCount int) *WordTokenizer {
	if minCount < 1 {
		minCount = 1
	}
	counts := map[string]int{}
	for _, text := range corpus {
		for _, w := range splitWords(text) {
			counts[w]++
		}
	}
	words := make([]string, 0, len(counts))
	for w, c := range counts {
		if c >= minCount {
			words = append(words, w)
		}
	}
	sort.Slice(words, func(i, j int) bool {
		if counts[words[i]] != counts[words[j]] {
			return counts[words[i]] > counts[words[j]]
		}
		return words[i] < words[j]
	})
	tokens := append([]string{WordPadToken, WordUnkToken, WordSOTToken}, words...)
	tokens = append(tokens, WordEOTToken)
	return newWordTokenizer(tokens)
}

func newWordTokenizer(tokens []string) *WordTokenizer {
	ids := make(map[string]int, len(tokens))
	for id, tok := range tokens {
		ids[tok] = id
	}
	return &WordTokenizer{tokens: tokens, ids: ids}
}

// LoadWordTokenizer reads a vocabulary written by Save: one token per line,
// line number = id.
func LoadWordTokenizer(path string) (*WordTokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("clip: word vocab: %w", err)
	}
	return ParseWordVocab(string(data), path)
}

// ParseWordVocab reads a vocabulary in Save's format from text (for
// vocabularies stored inside a checkpoint); source names it in errors.
func ParseWordVocab(data, source string) (*WordTokenizer, error) {
	path := source
	text := strings.TrimSuffix(strings.ReplaceAll(data, "\r\n", "\n"), "\n")
	tokens := strings.Split(text, "\n")
	if len(tokens) < 4 {
		return nil, fmt.Errorf("clip: word vocab %s: %d tokens, need at least the 4 specials", path, len(tokens))
	}
	for _, sp := range []struct {
		id   int
		want string
	}{{WordPad, WordPadToken}, {WordUnk, WordUnkToken}, {WordSOT, WordSOTToken}, {len(tokens) - 1, WordEOTToken}} {
		if id, want := sp.id, sp.want; tokens[id] != want {
			return nil, fmt.Errorf("clip: word vocab %s: line %d is %q, want %q", path, id+1, tokens[id], want)
		}
	}
	seen := make(map[string]int, len(tokens))
	for id, tok := range tokens {
		if tok == "" || strings.ContainsFunc(tok, unicode.IsSpace) {
			return nil, fmt.Errorf("clip: word vocab %s: line %d: empty token or token with spaces %q", path, id+1, tok)
		}
		if prev, dup := seen[tok]; dup {
			return nil, fmt.Errorf("clip: word vocab %s: %q on lines %d and %d", path, tok, prev+1, id+1)
		}
		seen[tok] = id
	}
	return newWordTokenizer(tokens), nil
}

// Save writes the vocabulary atomically (temporary file in the same folder,
// then rename), so a crash never leaves a truncated vocabulary behind.
func (t *WordTokenizer) Save(path string) error {
	if err := atomicfile.WriteFile(path, []byte(strings.Join(t.tokens, "\n")+"\n")); err != nil {
		return fmt.Errorf("clip: saving word vocab %s: %w", path, err)
	}
	return nil
}

// VocabSize counts the specials too; it is EOT()+1.
func (t *WordTokenizer) VocabSize() int { return len(t.tokens) }

// EOT is the largest id (see WordTokenizer).
func (t *WordTokenizer) EOT() int { return len(t.tokens) - 1 }

// SOT is always 2.
func (t *WordTokenizer) SOT() int { return WordSOT }

// Words returns the vocabulary in id order, specials included.
func (t *WordTokenizer) Words() []string { return append([]string(nil), t.tokens...) }

// Encode returns the ids of text's words, <unk> for words not in the
// vocabulary, without <sot>/<eot>.
func (t *WordTokenizer) Encode(text string) []int {
	words := splitWords(text)
	ids := make([]int, len(words))
	for i, w := range words {
		id, ok := t.ids[w]
		if !ok || id == t.EOT() || id <= WordSOT {
			id = WordUnk // specials cannot be typed in; "<" splits words anyway
		}
		ids[i] = id
	}
	return ids
}

// Decode joins the words with single spaces, skipping <pad>, <sot> and <eot>;
// unknown and out-of-range ids come back as "<unk>".
func (t *WordTokenizer) Decode(ids []int) string {
	words := make([]string, 0, len(ids))
	for _, id := range ids {
		switch {
		case id == WordPad || id == WordSOT || id == t.EOT():
		case id < 0 || id >= len(t.tokens):
			words = append(words, WordUnkToken)
		default:
			words = append(words, t.tokens[id])
		}
	}
	return strings.Join(words, " ")
}

// Tokenize gives rows of [<sot>] + ids + [<eot>] padded with 0; over-long rows
// are cut to contextLength with <eot> last, as clip.tokenize(truncate=True).
func (t *WordTokenizer) Tokenize(texts []string, contextLength int) ([][]int, error) {
	if contextLength < 1 {
		return nil, fmt.Errorf("clip: context length %d < 1", contextLength)
	}
	rows := make([][]int, len(texts))
	for i, text := range texts {
		rows[i], _ = packRow(WordSOT, t.Encode(text), t.EOT(), contextLength, true)
	}
	return rows, nil
}
