package clip

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
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

// badnessPattern lists the unlikely sequences, one per line; {group} stands
// for a group's characters inside [...], \s and \w are Python's Unicode
// classes.
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

// pythonClasses are Python's \s and \w for str patterns (Go's are ASCII).
var pythonClasses = strings.NewReplacer(
	`\s`, `[\t\n\v\f\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]`,
	`\w`, `[\p{L}\p{N}_]`,
)

var badnessRegexp = sync.OnceValue(func() *regexp.Regexp {
	expanded := badnessPattern
	for name, chars := range mojibakeGroups {
		expanded = strings.ReplaceAll(expanded, "{"+name+"}", classBody(chars))
	}
	if left := regexp.MustCompile(`(^|[^x])\{[a-z_]+\}`).FindString(expanded); left != "" {
		panic("badnessPattern: unknown group " + left)
	}
	return regexp.MustCompile(pythonClasses.Replace(strings.ReplaceAll(expanded, "\n", "|")))
})

// classBody writes a group's characters for use inside [...], each escaped.
func classBody(chars string) string {
	rs := []rune(chars)
	var sb strings.Builder
	for i := 0; i < len(rs); i++ {
		fmt.Fprintf(&sb, `\x{%x}`, rs[i])
		if i+2 < len(rs) && rs[i+1] == '-' {
			fmt.Fprintf(&sb, `-\x{%x}`, rs[i+2])
			i += 2
		}
	}
	return sb.String()
}

// isBad reports whether s has a sequence that is likely mojibake.
func isBad(s string) bool { return badnessRegexp().MatchString(s) }

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

// sorted lists the set in order (for tests and messages).
func (s runeSet) sorted() []rune {
	out := make([]rune, 0, len(s))
	for r := range s {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
