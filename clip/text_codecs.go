package clip

import (
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// byteCodec is a single-byte text encoding as Python's codecs define it,
// which ftfy's mojibake repair encodes text back into before decoding the
// bytes as UTF-8.
type byteCodec struct {
	name string
	// sloppy codecs (ftfy's "sloppy-windows-125x") decode the bytes the
	// standard table leaves undefined as Latin-1 does, and use byte 0x1A for
	// U+FFFD: text that went through a lossy decoder can still be encoded.
	sloppy bool
	decode [256]rune // utf8.RuneError where the byte is undefined
	encode map[rune]byte
}

// newByteCodec builds a codec from golang.org/x/text's table (nil: Latin-1).
// Where that table leaves a byte undefined and Python defines it as its
// Latin-1 value (ISO-8859-2's C1 controls) or the codec is sloppy,
// latin1Gaps fills it in.
func newByteCodec(name string, table *charmap.Charmap, latin1Gaps, sloppy bool) *byteCodec {
	c := &byteCodec{name: name, sloppy: sloppy, encode: make(map[rune]byte, 256)}
	for b := 0; b < 256; b++ {
		r := rune(b)
		if table != nil {
			r = table.DecodeByte(byte(b))
		}
		if r == utf8.RuneError && latin1Gaps {
			r = rune(b)
		}
		c.decode[b] = r
	}
	if sloppy {
		c.decode[0x1A] = utf8.RuneError
	}
	for b := 255; b >= 0; b-- { // the lowest byte wins, as no table here repeats a character
		if r := c.decode[b]; r != utf8.RuneError || b == 0x1A && sloppy {
			c.encode[r] = byte(b)
		}
	}
	return c
}

// encodes reports whether every character of s has a byte in c (ftfy's
// possible_encoding).
func (c *byteCodec) encodes(s string) bool {
	for _, r := range s {
		if _, ok := c.encode[r]; !ok {
			return false
		}
	}
	return true
}

// encodeString encodes s, which c.encodes.
func (c *byteCodec) encodeString(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		out = append(out, c.encode[r])
	}
	return out
}

// decodeStrict decodes b as Python's strict decoder does: ok is false if a
// byte is undefined.
func (c *byteCodec) decodeStrict(b []byte) (string, bool) {
	var sb strings.Builder
	for _, x := range b {
		r := c.decode[x]
		if r == utf8.RuneError && !(c.sloppy && x == 0x1A) {
			return "", false
		}
		sb.WriteRune(r)
	}
	return sb.String(), true
}

// textCodecs are the codecs ftfy's mojibake repair uses.
type textCodecs struct {
	// tried are the encodings the repair tries, in ftfy's order.
	tried []*byteCodec
	// windows1252 is the strict code page, whose five undefined bytes make
	// a Latin-1 to Windows-1252 re-decoding fail.
	windows1252 *byteCodec
	// lookalikes are the standard codecs whose bytes 0x80..0xFF the
	// inconsistent-UTF-8 detector reads characters as (Latin-1 and the
	// Windows code pages 1250..1254 and 1257).
	lookalikes []*byteCodec
}

// windowsPages are the Windows code pages that ftfy repairs UTF-8 mojibake
// from, in the order it tries their sloppy forms.
var windowsPages = []struct {
	name  string
	table *charmap.Charmap
}{
	{"windows-1252", charmap.Windows1252}, {"windows-1251", charmap.Windows1251},
	{"windows-1250", charmap.Windows1250}, {"windows-1253", charmap.Windows1253},
	{"windows-1254", charmap.Windows1254}, {"windows-1257", charmap.Windows1257},
}

var mojibakeCodecs = sync.OnceValue(func() *textCodecs {
	latin1 := newByteCodec("latin-1", nil, false, false)
	c := &textCodecs{tried: []*byteCodec{latin1}, lookalikes: []*byteCodec{latin1}}
	for _, p := range windowsPages {
		c.tried = append(c.tried, newByteCodec("sloppy-"+p.name, p.table, true, true))
		c.lookalikes = append(c.lookalikes, newByteCodec(p.name, p.table, false, false))
	}
	c.tried = append(c.tried,
		newByteCodec("iso-8859-2", charmap.ISO8859_2, true, false),
		newByteCodec("macroman", charmap.Macintosh, false, false),
		newByteCodec("cp437", charmap.CodePage437, false, false))
	c.windows1252 = c.lookalikes[1]
	return c
})

// decodeUTF8Variant decodes b as UTF-8 that may also hold CESU-8 (a UTF-16
// surrogate pair, each half as three bytes) and Java's two-byte NUL (C0 80),
// as ftfy's "utf-8-variants" codec does; ok is false where that strict
// decoder fails.
func decodeUTF8Variant(b []byte) (string, bool) {
	var sb strings.Builder
	for i := 0; i < len(b); {
		if b[i] == 0xC0 && i+1 < len(b) && b[i+1] == 0x80 {
			sb.WriteByte(0)
			i += 2
			continue
		}
		if i+6 <= len(b) && b[i] == 0xED && b[i+1] >= 0xA0 && b[i+1] <= 0xAF && isContinuation(b[i+2]) &&
			b[i+3] == 0xED && b[i+4] >= 0xB0 && b[i+4] <= 0xBF && isContinuation(b[i+5]) {
			r := rune(b[i+1]&0x0F)<<16 + rune(b[i+2]&0x3F)<<10 + rune(b[i+4]&0x0F)<<6 + rune(b[i+5]&0x3F) + 0x10000
			sb.WriteRune(r)
			i += 6
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return "", false
		}
		sb.WriteRune(r)
		i += n
	}
	return sb.String(), true
}

// isContinuation reports whether x is a UTF-8 continuation byte.
func isContinuation(x byte) bool { return x >= 0x80 && x <= 0xBF }
