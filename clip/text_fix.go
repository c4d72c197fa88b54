package clip

import (
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// FixText is what ftfy.fix_text (ftfy 6.3, default settings) does to a
// caption before CLIP's tokenizer sees it:
//
//   - HTML references are decoded (only those ending in ';', plus all-caps
//     forms of lower-case names such as &EACUTE;), unless the text so far
//     has held a '<' (then it may be real HTML, and is left alone);
//   - mojibake is repaired: text that looks like UTF-8 decoded with the
//     wrong codec ("cafÃ©", by ftfy's heuristic of unlikely character
//     sequences) is re-encoded and decoded as UTF-8 ("café"); see
//     fixEncoding;
//   - C1 control characters U+0080..U+009F become what their byte means in
//     Windows-1252 (U+0093 -> '“'), the five bytes it leaves undefined
//     stay;
//   - Latin ligatures and digraphs are split (ﬁ -> fi, ǅ -> Dž), halfwidth
//     and fullwidth forms become standard width (Ｌ -> L, U+3000 -> ' ');
//   - curly quotes become straight ones (U+02BC, U+2018..U+201B -> ',
//     U+201C..U+201F -> ");
//   - CRLF, CR, U+2028, U+2029 and U+0085 become '\n';
//   - ANSI terminal escapes (ESC [ digits/; letter) are removed, then the
//     control characters that draw nothing (U+0000..U+0008, U+000B,
//     U+000E..U+001F, U+007F, U+206A..U+206F, U+FEFF, U+FFF9..U+FFFC);
//   - the result is put in Unicode NFC;
//
// each line (up to and including its '\n') on its own, repeated until
// nothing changes. UTF-16 surrogates, which ftfy also repairs, cannot occur
// in a Go string; invalid UTF-8 becomes U+FFFD as Python's errors="replace"
// does.
func FixText(s string) string {
	if !utf8.ValidString(s) {
		s = pyDecodeUTF8([]byte(s))
	}
	if plainText(s) {
		return s
	}
	// ftfy fixes segments of at most a million code points.
	const maxSegment = 1_000_000
	unescape := true
	var out strings.Builder
	for len(s) > 0 {
		end := strings.IndexByte(s, '\n') + 1
		if end == 0 {
			end = len(s)
		}
		if n := utf8.RuneCountInString(s[:end]); n > maxSegment {
			end = 0
			for k := 0; k < maxSegment; k++ {
				_, size := utf8.DecodeRuneInString(s[end:])
				end += size
			}
		}
		seg := s[:end]
		s = s[end:]
		// Once a '<' has been seen, ftfy stops decoding entities for the
		// rest of the text.
		if unescape && strings.IndexByte(seg, '<') >= 0 {
			unescape = false
		}
		out.WriteString(fixSegment(seg, unescape))
	}
	return out.String()
}

// plainText reports whether no fixer can change s: printable ASCII, tabs,
// line feeds and form feeds, with no '&'.
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '&' || c >= 0x7F || c < 0x20 && c != '\t' && c != '\n' && c != '\f' {
			return false
		}
	}
	return true
}

// fixSegment applies the fixers in ftfy's order until the text stops
// changing.
func fixSegment(s string, unescape bool) string {
	for {
		orig := s
		if unescape {
			s = ftfyUnescapeHTML(s)
		}
		s = fixEncoding(s)
		s = mapRunes(s)
		s = fixLineBreaks(s)
		s = ansiEscape.ReplaceAllString(s, "")
		s = strings.Map(dropControl, s)
		s = norm.NFC.String(s)
		if s == orig {
			return s
		}
	}
}

// mapRunes runs the per-character fixers, in ftfy's order: C1 controls,
// ligatures, width, quotes. Each sees the previous one's output (U+0093
// becomes '“' and then '"'; ŉ becomes "ʼn" and then "'n").
func mapRunes(s string) string {
	var sb strings.Builder
	done := 0 // s[:done] is in sb
	for i, r := range s {
		rep, changed := fixRune(r)
		if !changed {
			continue
		}
		sb.WriteString(s[done:i])
		sb.WriteString(rep)
		done = i + utf8.RuneLen(r)
	}
	if done == 0 {
		return s
	}
	sb.WriteString(s[done:])
	return sb.String()
}

// fixRune returns what the per-character fixers make of r.
func fixRune(r rune) (string, bool) {
	out, changed := "", false
	switch {
	case r >= 0x80 && r <= 0x9F:
		out, changed = string(c1AsWindows1252(r)), true
	case latinLigatures[r] != "":
		out, changed = latinLigatures[r], true
	case r == 0x3000 || r >= 0xFF01 && r <= 0xFFEF:
		out = widthForms()[r]
		changed = out != ""
	}
	if !changed {
		if q := straightQuote(r); q != 0 {
			return string(q), true
		}
		return "", false
	}
	return strings.Map(func(c rune) rune {
		if q := straightQuote(c); q != 0 {
			return q
		}
		return c
	}, out), true
}

// straightQuote is the straight quote that ftfy puts for a curly one, or 0.
func straightQuote(r rune) rune {
	switch {
	case r == 0x02BC || r >= 0x2018 && r <= 0x201B:
		return '\''
	case r >= 0x201C && r <= 0x201F:
		return '"'
	}
	return 0
}

// latinLigatures are the ligatures and legacy digraphs ftfy splits; others
// (æ, œ) are usually meant.
var latinLigatures = map[rune]string{
	'Ĳ': "IJ", 'ĳ': "ij", 'ŉ': "ʼn",
	'Ǳ': "DZ", 'ǲ': "Dz", 'ǳ': "dz", 'Ǆ': "DŽ", 'ǅ': "Dž", 'ǆ': "dž",
	'Ǉ': "LJ", 'ǈ': "Lj", 'ǉ': "lj", 'Ǌ': "NJ", 'ǋ': "Nj", 'ǌ': "nj",
	'ﬀ': "ff", 'ﬁ': "fi", 'ﬂ': "fl", 'ﬃ': "ffi", 'ﬄ': "ffl", 'ﬅ': "ſt", 'ﬆ': "st",
}

// widthForms maps the ideographic space and each halfwidth or fullwidth form
// (U+FF01..U+FFEF) that has a compatibility equivalent to that equivalent.
var widthForms = sync.OnceValue(func() map[rune]string {
	m := map[rune]string{0x3000: " "}
	for r := rune(0xFF01); r <= 0xFFEF; r++ {
		if alt := norm.NFKC.String(string(r)); alt != string(r) {
			m[r] = alt
		}
	}
	return m
})

// fixLineBreaks makes every line break '\n'.
func fixLineBreaks(s string) string {
	if !strings.ContainsAny(s, "\r\u2028\u2029\u0085") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.NewReplacer("\r", "\n", "\u2028", "\n", "\u2029", "\n", "\u0085", "\n").Replace(s)
}

// ansiEscape is a terminal's colour or cursor command. Python's \d is any
// decimal digit, hence \p{Nd}.
var ansiEscape = regexp.MustCompile(`\x1b\[(?:\p{Nd}|;)*[a-zA-Z]`)

// dropControl removes the control characters that draw nothing; tab, line
// and form feeds, carriage return, C1 controls, joiners, bidi marks and tag
// characters stay.
func dropControl(r rune) rune {
	switch {
	case r <= 0x08, r == 0x0B, r >= 0x0E && r <= 0x1F, r == 0x7F,
		r >= 0x206A && r <= 0x206F, r == 0xFEFF, r >= 0xFFF9 && r <= 0xFFFC:
		return -1
	}
	return r
}

// htmlReference is what ftfy treats as a possible reference: '&', an
// optional '#', 1 to 24 ASCII letters or digits, ';'.
var htmlReference = regexp.MustCompile(`&#?[0-9A-Za-z]{1,24};`)

// ftfyUnescapeHTML decodes the unambiguous references: named ones that HTML5
// defines with their ';', all-caps forms of lower-case names (P&EACUTE;REZ),
// and numeric ones that Python's html.unescape decodes whole.
func ftfyUnescapeHTML(s string) string {
	if strings.IndexByte(s, '&') < 0 {
		return s
	}
	return htmlReference.ReplaceAllStringFunc(s, func(ref string) string {
		if ref[1] == '#' {
			if v := pyHTMLUnescape(ref); !strings.Contains(v, ";") {
				return v
			}
			return ref // only a prefix was a reference
		}
		name := ref[1 : len(ref)-1]
		if v, ok := html5Entity(name); ok {
			return v
		}
		lower := strings.ToLower(name)
		if lower == name || strings.ToUpper(lower) != name || pyHTMLUnescape(ref) != ref {
			return ref
		}
		if v, ok := html5Entity(lower); ok {
			return pyUpper(v)
		}
		return ref
	})
}

// html5Entity is the value of the HTML5 reference "&name;", if it is one
// (with its ';': "&notit;" is not, though html.unescape reads "&not" in it).
func html5Entity(name string) (string, bool) {
	if v, ok := pyExtraEntities[name+";"]; ok {
		return v, true
	}
	ref := "&" + name + ";"
	v := pyHTMLUnescape(ref)
	// A legacy prefix match leaves the rest of the name and the ';' behind;
	// the only value that ends in ';' is &semi;'s.
	if v == ref || strings.HasSuffix(v, ";") && v != ";" {
		return "", false
	}
	return v, true
}

// pyUpper is Python's str.upper: full case mapping (ß -> SS, ﬁ -> FI).
func pyUpper(s string) string { return cases.Upper(language.Und).String(s) }
