package clip

import (
	"fmt"
	"math/rand"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// badnessRegexp is badnessPattern compiled by Go's regexp, the reference
// that badnessMatcher must agree with: groups expanded into classes,
// Python's \s and \w spelled out.
var badnessRegexp = sync.OnceValue(func() *regexp.Regexp {
	// One pass, so that an expansion's own escapes (\x{c1} holds "{c1}")
	// are not read as groups; \x{ad} in the pattern names no group.
	expanded := regexp.MustCompile(`\{[a-z_0-9]+\}`).ReplaceAllStringFunc(badnessPattern, func(ref string) string {
		chars, ok := mojibakeGroups[ref[1:len(ref)-1]]
		if !ok {
			return ref
		}
		var body strings.Builder
		for _, r := range groupSet(chars).sorted() {
			fmt.Fprintf(&body, `\x{%x}`, r)
		}
		return body.String()
	})
	python := strings.NewReplacer(
		`\s`, `[\t\n\v\f\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]`,
		`\w`, `[\p{L}\p{N}_]`,
	)
	return regexp.MustCompile(python.Replace(strings.ReplaceAll(expanded, "\n", "|")))
})

// sorted lists the set in order.
func (s runeSet) sorted() []rune {
	out := make([]rune, 0, len(s))
	for r := range s {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// badnessAlphabet is every character the pattern names, plus ASCII, the
// whitespace and word characters it tests for, and a few it never names.
func badnessAlphabet() []rune {
	set := runeSet{}
	for _, chars := range mojibakeGroups {
		for r := range groupSet(chars) {
			set[r] = true
		}
	}
	for _, r := range badnessPattern {
		set[r] = true
	}
	for r := rune(0); r < 128; r++ {
		set[r] = true
	}
	for _, r := range "\u0085\u00a0\u1680\u2003\u2028\u3000日ə٣Ⅻ\u0301😀" {
		set[r] = true
	}
	return set.sorted()
}

// TestBadnessMatcherAgreesWithRegexp compares isBad with the regexp on
// ftfy's cases (and their extra layer), on every pair and triple of the
// pattern's characters that starts a sequence, and on random strings.
func TestBadnessMatcherAgreesWithRegexp(t *testing.T) {
	re := badnessRegexp()
	check := func(s string) {
		t.Helper()
		if got, want := isBad(s), re.MatchString(s); got != want {
			t.Fatalf("isBad(%q) = %v, the regexp says %v", s, got, want)
		}
	}
	bad := 0
	for _, c := range mojibakeCases {
		for _, s := range []string{c.in, c.fixed, latin1OfUTF8(c.in)} {
			check(s)
			if isBad(s) {
				bad++
			}
		}
	}
	if bad < 100 {
		t.Errorf("only %d of ftfy's texts look bad: the comparison proves little", bad)
	}
	alphabet := badnessAlphabet()
	rng := rand.New(rand.NewSource(1))
	for n := 0; n < 200000; n++ {
		rs := make([]rune, 1+rng.Intn(8))
		for i := range rs {
			rs[i] = alphabet[rng.Intn(len(alphabet))]
		}
		check(string(rs))
	}
	// Every sequence's characters, from each position's set in turn, so that
	// each sequence is seen matching (not only random near misses).
	for _, seq := range badness().seqs {
		for trial := 0; trial < 50; trial++ {
			var sb strings.Builder
			for _, set := range seq.sets {
				sb.WriteRune(memberOf(&set, alphabet, rng))
			}
			s := sb.String()
			if !isBad(s) {
				t.Fatalf("isBad(%q) = false for a sequence's own characters", s)
			}
			check(s)
			check("x " + s)
		}
	}
}

// memberOf picks a character of set from alphabet at random.
func memberOf(set *badSet, alphabet []rune, rng *rand.Rand) rune {
	for {
		if r := alphabet[rng.Intn(len(alphabet))]; set.has(r) {
			return r
		}
	}
}

// FuzzIsBad: the matcher and the regexp agree on any text.
func FuzzIsBad(f *testing.F) {
	for _, s := range []string{"cafÃ©", "x Ã¥", "Ã ", "ГўВЂВ™s", "Œ1", "aÂ «", "ØªØ", "ongeÃ«venaard"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isBad(s), badnessRegexp().MatchString(s); got != want {
			t.Fatalf("isBad(%q) = %v, the regexp says %v", s, got, want)
		}
	})
}
