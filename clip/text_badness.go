package clip

import (
	"math/bits"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// Which text looks like mojibake: ftfy 6.3's badness heuristic. It knows the
// few hundred characters that UTF-8 mojibake is made of, in groups, and
// lists the neighbourships of those groups that intended text almost never
// has (a lower-case accented letter followed by a currency sign, "â€" and
// so on). Text with none of them is left alone.

// mojibakeGroups are the character groups, as ranges ("a-z") and single
// characters.
var mojibakeGroups = map[string]string{
	// Common in intended text, so only telling in longer sequences.
	"common": "\u00a0\u00ad·´–—―…’",
	// C1 controls, which only mojibake makes nowadays.
	"c1": "\u0080-\u009f",
	// Characters almost only seen in mojibake.
	"bad":               "¦¤¨¬¯¸ƒˆˇ˘˛˜†‡‰⌐◊\ufffdªº",
	"law":               "¶§",
	"currency":          "¢£¥₧€",
	"start_punctuation": "¡«¿©΄΅‘‚“„•‹\uf8ff",
	"end_punctuation":   "®»˝”›™",
	"numeric":           "²³¹±¼½¾×µ÷⁄∂∆∏∑√∞∩∫≈≠≡≤≥№",
	// Letters that emoticons (kaomoji) are drawn with.
	"kaomoji":        "Ò-ÖÙ-Üò-öø-üŐŌŪŲ°",
	"upper_accented": "À-ÑØÜÝĂĀĄĆČĎĐĘĚĒĖĞĢİĪĶĹĽŁĻŃŇŅŒŘŚŞŠŢŤŮŰŸŹŻŽҐ",
	"lower_accented": "ßà-ñăąāćčďđęěēėğģįīķĺľłļœŕśşšťüźżžґﬁﬂ",
	"upper_common":   "ÞΑ-ΩΆΈΉΊΌΎΏΪΫЁ-Я",
	"lower_common":   "α-ωάέήίΰа-џ",
	"box":            "│┌┐┘├┤┬┼═-╬▀▄█▌▐░▒▓",
}

// badnessPattern lists the unlikely sequences, one per line, in ftfy's
// regular-expression syntax; {group} stands for a group's characters inside
// [...], \s and \w are Python's Unicode classes. badnessMatcher runs it.
const badnessPattern = `[{c1}]
[{bad}{lower_accented}{upper_accented}{box}{start_punctuation}{end_punctuation}{currency}{numeric}{law}][{bad}]
[a-zA-Z][{lower_common}{upper_common}][{bad}]
[{bad}][{lower_accented}{upper_accented}{box}{start_punctuation}{end_punctuation}{currency}{numeric}{law}]
[{lower_accented}{lower_common}{box}{end_punctuation}{currency}{numeric}][{upper_accented}]
[{box}{end_punctuation}{currency}{numeric}][{lower_accented}]
[{lower_accented}{box}{end_punctuation}][{currency}]
\s[{upper_accented}][{currency}]
[{upper_accented}{box}][{numeric}{law}]
[{lower_accented}{upper_accented}{box}{currency}{end_punctuation}][{start_punctuation}][{numeric}]
[{lower_accented}{upper_accented}{currency}{numeric}{box}{law}][{end_punctuation}][{start_punctuation}]
[{currency}{numeric}{box}][{start_punctuation}]
[a-z][{upper_accented}][{start_punctuation}{currency}]
[{box}][{kaomoji}]
[{lower_accented}{upper_accented}{currency}{numeric}{start_punctuation}{end_punctuation}{law}][{box}]
[{box}][{end_punctuation}]
[{lower_accented}{upper_accented}][{start_punctuation}{end_punctuation}]\w
[Œœ][^A-Za-z]
[{upper_accented}]°
[ÂÃÎÐ][€œŠš¢£Ÿž\x{a0}\x{ad}®©°·»{start_punctuation}{end_punctuation}–—´]
×[²³]
[ØÙ][{common}{currency}{bad}{numeric}{start_punctuation}ŸŠ®°µ»][ØÙ][{common}{currency}{bad}{numeric}{start_punctuation}ŸŠ®°µ»]
à[²µ¹¼½¾]
√[±∂†≠®™´≤≥¥µø]
≈[°¢]
‚Ä[ìîïòôúùû†°¢π]
‚[âó][àä°ê]
вЂ
[ВГРС][{c1}{bad}{start_punctuation}{end_punctuation}{currency}°µ][ВГРС]
ГўВЂВ.[A-Za-z ]
Ã[\x{a0}¡]
[a-z]\s?[ÃÂ][ ]
^[ÃÂ][ ]
[a-z.,?!{end_punctuation}]Â[ {start_punctuation}{end_punctuation}]
β€[™\x{a0}Ά\x{ad}®°]
[ΒΓΞΟ][{c1}{bad}{start_punctuation}{end_punctuation}{currency}°][ΒΓΞΟ]
ā€`

// isBad reports whether s has a sequence that is likely mojibake.
func isBad(s string) bool { return badness().match(s) }

// badnessMatcher matches badnessPattern: each line a sequence of character
// sets (no repetition but '?', no nesting), so it runs as a direct scan.
// At each position it tries only the sequences whose first set holds the
// character there: BenchmarkFixText went from 28.7 us a caption with Go's
// regexp (its backtracker, 90% of the time) to 3.5 us (2-core VM).
type badnessMatcher struct {
	seqs       []badSequence
	firstASCII [128]uint64     // bit k: seqs[k] may start with this character
	first      map[rune]uint64 // the same above ASCII
}

// badSequence is one line of the pattern, with its '?' resolved.
type badSequence struct {
	anchored bool // '^': only at the start of the text
	sets     []badSet
}

// badSet is one position's characters: listed ones, Python's \w, or any but
// '\n' ('.'), possibly negated ([^...]).
type badSet struct {
	ascii             [128]bool
	chars             runeSet
	word, dot, negate bool
}

func (b *badSet) has(r rune) bool {
	in := false
	if r < 128 {
		in = b.ascii[r]
	} else {
		in = b.chars[r]
	}
	in = in || b.word && (unicode.IsLetter(r) || unicode.IsNumber(r) || r == '_') || b.dot && r != '\n'
	return in != b.negate
}

func (b *badSet) add(r rune) {
	if r < 128 {
		b.ascii[r] = true
	} else {
		b.chars[r] = true
	}
}

func (m *badnessMatcher) match(s string) bool {
	rs := []rune(s)
	for i, r := range rs {
		var candidates uint64
		if r < 128 {
			candidates = m.firstASCII[r]
		} else {
			candidates = m.first[r]
		}
		for candidates != 0 {
			seq := &m.seqs[bits.TrailingZeros64(candidates)]
			candidates &= candidates - 1
			if seq.anchored && i != 0 || i+len(seq.sets) > len(rs) {
				continue
			}
			j := 1
			for j < len(seq.sets) && seq.sets[j].has(rs[i+j]) {
				j++
			}
			if j == len(seq.sets) {
				return true
			}
		}
	}
	return false
}

// pythonSpace is Python's \s for str patterns (Go's is ASCII).
const pythonSpace = "\t\n\v\f\r\x1c\x1d\x1e\x1f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"

var badness = sync.OnceValue(func() *badnessMatcher {
	m := &badnessMatcher{first: map[rune]uint64{}}
	for _, line := range strings.Split(badnessPattern, "\n") {
		m.seqs = append(m.seqs, parseBadLine(line)...)
	}
	if len(m.seqs) > 64 {
		panic("badnessPattern: more than 64 sequences")
	}
	for k, seq := range m.seqs {
		f := &seq.sets[0]
		if f.word || f.dot || f.negate {
			panic("badnessPattern: a sequence starts with \\w, '.' or [^...]")
		}
		for r, in := range f.ascii {
			if in {
				m.firstASCII[r] |= 1 << k
			}
		}
		for r := range f.chars {
			m.first[r] |= 1 << k
		}
	}
	return m
})

// parseBadLine reads one line of badnessPattern: '^', [...] classes with
// {group}, \x{hex} and a-z ranges, \s, \w, '.', literal characters, and '?'
// after a set (which gives two sequences, with and without it).
func parseBadLine(line string) []badSequence {
	rs := []rune(line)
	seq := badSequence{}
	optional := -1
	if len(rs) > 0 && rs[0] == '^' {
		seq.anchored = true
		rs = rs[1:]
	}
	// escaped reads \x{hex} at rs[i:] (i at the backslash).
	escaped := func(i int) (rune, int) {
		end := i + 3
		for rs[end] != '}' {
			end++
		}
		v, err := strconv.ParseUint(string(rs[i+3:end]), 16, 32)
		if err != nil || rs[i+1] != 'x' || rs[i+2] != '{' {
			panic("badnessPattern: bad escape in " + line)
		}
		return rune(v), end + 1
	}
	for i := 0; i < len(rs); {
		set := badSet{chars: runeSet{}}
		switch {
		case rs[i] == '[':
			i++
			if rs[i] == '^' {
				set.negate = true
				i++
			}
			for rs[i] != ']' {
				switch {
				case rs[i] == '{':
					end := i + 1
					for rs[end] != '}' {
						end++
					}
					group, ok := mojibakeGroups[string(rs[i+1:end])]
					if !ok {
						panic("badnessPattern: unknown group " + string(rs[i:end+1]))
					}
					for r := range groupSet(group) {
						set.add(r)
					}
					i = end + 1
				default:
					lo := rs[i]
					i++
					if lo == '\\' {
						lo, i = escaped(i - 1)
					}
					hi := lo
					if rs[i] == '-' && rs[i+1] != ']' {
						hi = rs[i+1]
						i += 2
					}
					for r := lo; r <= hi; r++ {
						set.add(r)
					}
				}
			}
			i++
		case rs[i] == '\\' && rs[i+1] == 's':
			for r := range groupSet(pythonSpace) {
				set.add(r)
			}
			i += 2
		case rs[i] == '\\' && rs[i+1] == 'w':
			set.word = true
			i += 2
		case rs[i] == '\\':
			var r rune
			r, i = escaped(i)
			set.add(r)
		case rs[i] == '.':
			set.dot = true
			i++
		case rs[i] == '?':
			optional = len(seq.sets) - 1
			i++
			continue
		default:
			set.add(rs[i])
			i++
		}
		seq.sets = append(seq.sets, set)
	}
	if optional < 0 {
		return []badSequence{seq}
	}
	without := badSequence{anchored: seq.anchored}
	without.sets = append(append(without.sets, seq.sets[:optional]...), seq.sets[optional+1:]...)
	return []badSequence{seq, without}
}

// runeSet is a set of characters.
type runeSet map[rune]bool

// groupSet is a mojibakeGroups entry as a set.
func groupSet(chars string) runeSet {
	set := runeSet{}
	rs := []rune(chars)
	for i := 0; i < len(rs); i++ {
		lo, hi := rs[i], rs[i]
		if i+2 < len(rs) && rs[i+1] == '-' {
			hi = rs[i+2]
			i += 2
		}
		for r := lo; r <= hi; r++ {
			set[r] = true
		}
	}
	return set
}
