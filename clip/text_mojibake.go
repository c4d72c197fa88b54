package clip

import (
	"bytes"
	"strings"
	"sync"
	"unicode/utf8"
)

// fixEncoding is ftfy 6.3's fix_encoding with its default settings: while
// the text looks like mojibake (isBad), undo one wrong decoding, until
// nothing changes. "cafÃ©" was UTF-8 read as Windows-1252; encoding it back
// to Windows-1252 and decoding the bytes as UTF-8 gives "café".
func fixEncoding(s string) string {
	for {
		fixed := fixEncodingStep(s)
		if fixed == s {
			return s
		}
		s = fixed
	}
}

// fixEncodingStep undoes one layer of mojibake, trying in ftfy's order:
//  1. each single-byte codec that can encode the whole text, whose bytes
//     then decode as UTF-8 (after putting back a no-break space turned into
//     a space, or a lost byte, where that makes them UTF-8);
//  2. UTF-8 mojibake embedded in otherwise good text, fixed piece by piece;
//  3. Latin-1 text meant as Windows-1252;
//  4. C1 controls read as Windows-1252 one by one.
func fixEncodingStep(s string) string {
	if isASCII(s) || !isBad(s) {
		return s
	}
	codecs := mojibakeCodecs()
	latin1Encodes := false
	for _, c := range codecs.tried {
		if !c.encodes(s) {
			continue
		}
		if c.name == "latin-1" {
			latin1Encodes = true
		}
		b := c.encodeString(s)
		// In MacRoman an en dash before a space would read as a lost
		// no-break space.
		if at, _ := findAlteredUTF8(b, 0); c.name != "macroman" && at >= 0 {
			b = restoreByteA0(b)
		}
		if c.sloppy {
			b = replaceLossySequences(b)
		}
		if bytes.IndexByte(b, 0xED) >= 0 || bytes.IndexByte(b, 0xC0) >= 0 {
			if fixed, ok := decodeUTF8Variant(b); ok {
				return fixed
			}
		} else if utf8.Valid(b) {
			return string(b)
		}
	}
	if fixed := decodeInconsistentUTF8(s); fixed != s {
		return fixed
	}
	// ftfy asks here whether "windows-1252" was among the codecs that could
	// encode the text; its list only names "sloppy-windows-1252", so it
	// always goes on to try strict Windows-1252, which fails on the five
	// bytes that code page leaves undefined.
	if latin1Encodes {
		if fixed, ok := codecs.windows1252.decodeStrict(codecs.tried[0].encodeString(s)); ok && fixed != s {
			return fixed
		}
	}
	if hasC1(s) {
		return fixC1Controls(s)
	}
	return s
}

// isASCII reports whether s is all ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// hasC1 reports whether s holds a C1 control character (U+0080..U+009F).
func hasC1(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r >= 0x80 && r <= 0x9F })
}

// fixC1Controls reads each C1 control character as the Windows-1252 byte it
// would be; the five bytes Windows-1252 leaves undefined stay.
func fixC1Controls(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 0x80 && r <= 0x9F {
			return c1AsWindows1252(r)
		}
		return r
	}, s)
}

// c1AsWindows1252 is what the C1 control r (U+0080..U+009F) means as a
// Windows-1252 byte: sloppy-windows-1252's decoding, r itself where the code
// page leaves the byte undefined.
func c1AsWindows1252(r rune) rune { return mojibakeCodecs().tried[1].decode[r] }

// restoreByteA0 puts back byte 0xA0 where a program turned it into a space
// inside what would otherwise be a UTF-8 sequence. A lone "Ã " (0xC3 0x20)
// becomes "à " rather than "à" joined to the next word, except before the
// Portuguese contractions àquele, àquela, àquilo and às.
func restoreByteA0(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); i++ {
		out = append(out, b[i])
		if b[i] == 0xC3 && i+1 < len(b) && b[i+1] == ' ' && !portugueseContraction(b[i+2:]) {
			out = append(out, 0xA0, ' ')
			i++
		}
	}
	b = out
	out = nil
	done := 0
	for i, n := findAlteredUTF8(b, 0); i >= 0; i, n = findAlteredUTF8(b, i) {
		out = append(out, b[done:i]...)
		for _, x := range b[i : i+n] {
			if x == ' ' {
				x = 0xA0
			}
			out = append(out, x)
		}
		i += n
		done = i
	}
	return append(out, b[done:]...)
}

// portugueseContraction reports whether the bytes after "Ã " are a second
// space or one of the words that keep the space: "quele", "quela", "quilo"
// or "s ".
func portugueseContraction(rest []byte) bool {
	for _, w := range []string{" ", "quele", "quela", "quilo", "s "} {
		if bytes.HasPrefix(rest, []byte(w)) {
			return true
		}
	}
	return false
}

// findAlteredUTF8 returns the first position from i where alteredUTF8At
// matches, and the match's length; -1 if none.
func findAlteredUTF8(b []byte, i int) (int, int) {
	for ; i < len(b); i++ {
		if n := alteredUTF8At(b, i); n > 0 {
			return i, n
		}
	}
	return -1, 0
}

// alteredUTF8At is the length of a UTF-8 sequence at b[i:] whose 0xA0 byte
// became a space, or 0. Only lead bytes that make likely characters with
// 0xA0 count: C2 (no-break space), C3 (à), C5 (Š), CE (Π), D0 (Р), D9 (٠),
// E2 and E3 (many scripts' punctuation), F0 (emoji).
func alteredUTF8At(b []byte, i int) int {
	n := len(b) - i
	if n < 2 {
		return 0
	}
	c := b[i]
	// A continuation byte other than 0x85 (read as an ellipsis) and 0xA0.
	plain := func(x byte) bool { return isContinuation(x) && x != 0x85 && x != 0xA0 }
	switch {
	case c == 0xC2 || c == 0xC3 || c == 0xC5 || c == 0xCE || c == 0xD0 || c == 0xD9:
		if b[i+1] == ' ' {
			return 2
		}
	case c >= 0xE0 && c <= 0xE3:
		if n >= 3 && (c >= 0xE2 && b[i+1] == ' ' && plain(b[i+2]) || plain(b[i+1]) && b[i+2] == ' ') {
			return 3
		}
	case c == 0xF0:
		if n >= 4 {
			x, y, z := b[i+1], b[i+2], b[i+3]
			if x == ' ' && isContinuation(y) && isContinuation(z) ||
				isContinuation(x) && y == ' ' && isContinuation(z) ||
				isContinuation(x) && isContinuation(y) && z == ' ' {
				return 4
			}
		}
	}
	return 0
}

// replaceLossySequences replaces what would be a UTF-8 sequence but for a
// byte lost to a lossy decoder (sloppy codecs encode its U+FFFD as 0x1A; an
// ASCII '?' may stand for one lost byte too) with the UTF-8 of U+FFFD, as
// does any other 0x1A.
func replaceLossySequences(b []byte) []byte {
	var out []byte
	done := 0
	for i := 0; i < len(b); i++ {
		n := lossyUTF8At(b, i)
		if n == 0 {
			continue
		}
		out = append(out, b[done:i]...)
		out = append(out, "\uFFFD"...)
		i += n - 1
		done = i + 1
	}
	if out == nil {
		return b
	}
	return append(out, b[done:]...)
}

// lossyUTF8At is the length of a lossy sequence at b[i:], or 0; the forms
// are tried in ftfy's order.
func lossyUTF8At(b []byte, i int) int {
	at := func(k int) int {
		if i+k < len(b) {
			return int(b[i+k])
		}
		return -1
	}
	in := func(x, lo, hi int) bool { return x >= lo && x <= hi }
	lost := func(x int) bool { return x == 0x1A || x == '?' }
	cont := func(x int) bool { return x == 0x1A || in(x, 0x80, 0xBF) }
	contQ := func(x int) bool { return x == '?' || cont(x) }
	c := at(0)
	switch {
	case in(c, 0xC2, 0xDF) && at(1) == 0x1A:
		return 2
	case in(c, 0xC2, 0xC3) && at(1) == '?':
		return 2
	case c == 0xED && in(at(1), 0xA0, 0xAF) && at(3) == 0xED && in(at(4), 0xB0, 0xBF) &&
		(lost(at(2)) && contQ(at(5)) || contQ(at(2)) && lost(at(5))):
		return 6
	case in(c, 0xE0, 0xEF) && (lost(at(1)) && cont(at(2)) || cont(at(1)) && lost(at(2))):
		return 3
	case in(c, 0xF0, 0xF4) && (lost(at(1)) && cont(at(2)) && cont(at(3)) ||
		cont(at(1)) && lost(at(2)) && cont(at(3)) || cont(at(1)) && cont(at(2)) && lost(at(3))):
		return 4
	case c == 0x1A:
		return 1
	}
	return 0
}

// utf8Clues are the characters that the bytes of UTF-8 read as in Latin-1
// and the Windows code pages: lead bytes of two-, three- and four-byte
// sequences, continuation bytes (a space may stand for a lost 0xA0), and the
// continuation bytes that are rarely meant (not spaces, dashes, quotes,
// bullets or ellipses).
type utf8Clues struct {
	first2, first3, first4, cont, contStrict runeSet
}

var embeddedUTF8Clues = sync.OnceValue(func() *utf8Clues {
	u := &utf8Clues{first2: runeSet{}, first3: runeSet{}, first4: runeSet{}, cont: runeSet{' ': true}, contStrict: runeSet{}}
	for _, c := range mojibakeCodecs().lookalikes {
		for b := 0x80; b <= 0xFF; b++ {
			r := c.decode[b]
			if r == utf8.RuneError {
				continue
			}
			switch {
			case b <= 0xBF:
				u.cont[r] = true
			case b >= 0xC2 && b <= 0xDF:
				u.first2[r] = true
			case b >= 0xE0 && b <= 0xEF:
				u.first3[r] = true
			case b == 0xF0 || b == 0xF3: // other four-byte leads make unassigned code points
				u.first4[r] = true
			}
		}
	}
	for r := range u.cont {
		u.contStrict[r] = true
	}
	for _, r := range " –—―‘’‚“”„•…" {
		delete(u.contStrict, r)
	}
	return u
})

// embeddedUTF8At is the length in runes of a run of UTF-8-looking sequences
// at rs[i:] (ftfy's UTF8_DETECTOR_RE), or 0. A run may not start right
// after a strict continuation character, so that a few characters of a big
// garble are not fixed alone.
func embeddedUTF8At(rs []rune, i int) int {
	u := embeddedUTF8Clues()
	if i > 0 && u.contStrict[rs[i-1]] {
		return 0
	}
	conts := func(j, n int) bool {
		if j+n >= len(rs) {
			return false
		}
		for k := 1; k <= n; k++ {
			if !u.cont[rs[j+k]] {
				return false
			}
		}
		return true
	}
	j := i
	for j < len(rs) {
		switch c := rs[j]; {
		case u.first2[c] && conts(j, 1):
			j += 2
		case u.first3[c] && conts(j, 2):
			j += 3
		case u.first4[c] && conts(j, 3):
			j += 4
		default:
			return j - i
		}
	}
	return j - i
}

// decodeInconsistentUTF8 fixes each run of UTF-8 mojibake inside text that
// is otherwise not mojibake of the same kind, where the run alone looks bad.
func decodeInconsistentUTF8(s string) string {
	rs := []rune(s)
	var sb strings.Builder
	for i := 0; i < len(rs); {
		n := embeddedUTF8At(rs, i)
		if n == 0 {
			sb.WriteRune(rs[i])
			i++
			continue
		}
		run := string(rs[i : i+n])
		// Only a run shorter than the whole text, so that this cannot
		// recurse forever; a run that does not look bad on its own comes
		// back from fixEncoding as it is.
		if n < len(rs) {
			run = fixEncoding(run)
		}
		sb.WriteString(run)
		i += n
	}
	return sb.String()
}
