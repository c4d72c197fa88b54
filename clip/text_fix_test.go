package clip

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestFixTextFtfyExamples checks FixText against ftfy's own documented
// examples and test assertions (ftfy 6.3: fix_text, fix_text_segment,
// unescape_html and the single fixers, default settings).
func TestFixTextFtfyExamples(t *testing.T) {
	cases := []struct{ in, want string }{
		{"ＬＯＵＤ　ＮＯＩＳＥＳ", "LOUD NOISES"},
		{"Ｕﾀｰﾝ", "Uターン"},
		{"\ufeffParty like\nit&rsquo;s 1999!", "Party like\nit's 1999!"},
		{"\u201chere\u2019s a test\u201d", `"here's a test"`},
		{"ﬂuﬃeﬆ", "fluffiest"},
		{"&lt;tag&gt;", "<tag>"},
		{"&Jscr;ohn &HilbertSpace;ancock", "\U0001d4a5ohn \u210bancock"},
		{"&checkmark;", "✓"},
		{"P&eacute;rez", "Pérez"},
		{"P&EACUTE;REZ", "PÉREZ"},
		{"BUNDESSTRA&SZLIG;E", "BUNDESSTRASSE"},
		{"&ntilde; &Ntilde; &NTILDE; &nTILDE;", "ñ Ñ Ñ &nTILDE;"},
		{"jednocze&sacute;nie", "jednocześnie"},
		{"JEDNOCZE&Sacute;NIE", "JEDNOCZEŚNIE"},
		{"broken&#x81;", "broken\u0081"},
		{"euro &#x80;", "euro €"},
		{"&lt;&gt;", "<>"},
		// A '<' switches entity decoding off from its line on.
		{"&amp;\n<html>\n&amp;", "&\n<html>\n&amp;"},
		{"<em>HTML entities &lt;3</em>", "<em>HTML entities &lt;3</em>"},
		{"\x1b[36;44mI'm blue, da ba dee da ba doo...\x1b[0m", "I'm blue, da ba dee da ba doo..."},
		{"This string is made of two things:\u20291. Unicode\u20282. Spite",
			"This string is made of two things:\n1. Unicode\n2. Spite"},
		{"Content-type: text/plain\r\n\r\nHi.", "Content-type: text/plain\n\nHi."},
		{"This is how Microsoft \r trolls Mac users", "This is how Microsoft \n trolls Mac users"},
		{"\ufeffSometimes, \ufffcbad ideas \x7f\ufffalike these characters\ufffb \u206aget standardized.\n",
			"Sometimes, bad ideas like these characters get standardized.\n"},
		{"", ""},
	}
	// ftfy's negative cases: text its mojibake repair must leave alone, where
	// the other fixers still act.
	negative := []struct{ in, want string }{
		{"I'm not such a fan of Charlotte Brontë…”", `I'm not such a fan of Charlotte Brontë…"`},
		{"AHÅ™, the new sofa from IKEA", "AHÅ™, the new sofa from IKEA"},
		{"ВІКІ is Ukrainian for WIKI", "ВІКІ is Ukrainian for WIKI"},
		{"These control characters \u001a are apparently intentional \u0081", "These control characters  are apparently intentional \u0081"},
		{"Here's a control character: \u001a", "Here's a control character: "},
		{"a radius of 10 Å—", "a radius of 10 Å—"},
		{"!YO SÉ¡", "!YO SÉ¡"},
		{"NICIODATĂ\u00a0", "NICIODATĂ\u00a0"},
		{"There are a lot of Ã’s in mojibake text", "There are a lot of Ã's in mojibake text"},
		{"NICIODATĂ™", "NICIODATĂ™"},
		{"TRANSFORMATORIŲ™", "TRANSFORMATORIŲ™"},
		{"HÅØYA ER BLÅØYD", "HÅØYA ER BLÅØYD"},
		{"Ō¬o", "Ō¬o"},
		{"ПоздравЂаво", "ПоздравЂаво"},
	}
	for _, c := range append(cases, negative...) {
		if got := FixText(c.in); got != c.want {
			t.Errorf("FixText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// Mojibake is repaired (more in TestFixTextMojibake).
	if got := FixText("aoÃ»t"); got != "août" {
		t.Errorf("FixText(%q) = %q, want %q", "aoÃ»t", got, "août")
	}
	if got := FixText(strings.Repeat("ﬁ", 100000)); utf8.RuneCountInString(got) != 200000 {
		t.Errorf("100000 ﬁ ligatures gave %d characters, want 200000", utf8.RuneCountInString(got))
	}
}

// TestFixTextRules checks each fixer's edges as ftfy 6.3 defines them.
func TestFixTextRules(t *testing.T) {
	cases := []struct{ in, want, why string }{
		{"a \u0093quoted\u0094 \u0085", `a "quoted" …`, "C1 as Windows-1252, then uncurled"},
		{"\u0081\u008d\u008f\u0090\u009d", "\u0081\u008d\u008f\u0090\u009d", "bytes Windows-1252 leaves undefined stay"},
		{"ŉ", "'n", "a digraph whose apostrophe is then uncurled"},
		{"ǅ Ĳ ﬆ ﬅ", "Dž IJ st ſt", "ligatures and digraphs"},
		{"æ œ", "æ œ", "intended ligatures stay"},
		{"\u02bc\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f", `'''''""""`, "every quote ftfy straightens"},
		{"\u2039x\u203a «y»", "\u2039x\u203a «y»", "angle quotes stay"},
		{"ｆｕｌｌ１２３！", "full123!", "fullwidth ASCII"},
		{"\uffe3", " \u0304", "width form whose equivalent is two characters"},
		{"e\u0301 K", "é K", "NFC: composition and the Kelvin sign"},
		{"x\x00y\x08\x0b\x0e\x1f\x7f\u206a\u206f\ufeff\ufff9\ufffc.", "xy.", "controls that draw nothing"},
		{"\t\n\x0c\r\u200c\u200d\u200e\u202a\U000E0065\ufffd", "\t\n\x0c\n\u200c\u200d\u200e\u202a\U000E0065\ufffd", "controls that stay (CR as a line break)"},
		{"\x1b[1;31mred\x1b[0m \x1b[١٢m", "red ", "terminal escapes, Unicode digits included"},
		{"\x1b]0;title", "]0;title", "not a CSI escape: only ESC goes"},
		{"&amp;amp;amp;lt;", "<", "decoded until nothing changes"},
		{"&notit; &copy &semi; &nGt; &#59;", "&notit; &copy ; \u226b\u20d2 &#59;", "named with ';' only; a numeric one decoding to ';' stays"},
		{"&#x2019;s &#X41; &#1114112; &#xD800;", "'s A \ufffd \ufffd", "numeric references"},
		{"&FRAC12; &AMP; &LTX;", "½ & &LTX;", "all caps: lower-case names, unless Python reads a prefix"},
		{"&Abcdefghijklmnopqrstuvwxy;", "&Abcdefghijklmnopqrstuvwxy;", "longer than 24 characters"},
		{"a\xffb", "a\ufffdb", "invalid UTF-8 as errors=\"replace\""},
		{"x &lt;\ny &lt; <\nz &lt;", "x <\ny &lt; <\nz &lt;", "the line with '<' and those after it keep entities"},
		{"a\rb\u2028c\u2029d\r\n", "a\nb\nc\nd\n", "line breaks"},
	}
	for _, c := range cases {
		if got := FixText(c.in); got != c.want {
			t.Errorf("%s: FixText(%q) = %q, want %q", c.why, c.in, got, c.want)
		}
	}
}

// TestEncodeFixesText: the tokenizer sees what CLIP's does after ftfy.
func TestEncodeFixesText(t *testing.T) {
	tok := loadTestBPE(t)
	same := [][2]string{
		{"it\u2019s a \u201cdog\u201d", `it's a "dog"`},
		{"a &ldquo;dog&rdquo; &amp; a ﬁsh", `a "dog" & a fish`},
		{"ＣＡＴ\u3000ｏｎ　ａ　ｍａｔ", "cat on a mat"},
		{"cafe\u0301", "café"},
		{"a\x00b\ufeffc", "abc"},
		{"\x1b[1mbold\x1b[0m", "bold"},
	}
	for _, c := range same {
		if got, want := tok.Encode(c[0]), tok.Encode(c[1]); !reflect.DeepEqual(got, want) {
			t.Errorf("Encode(%q) = %v, want Encode(%q) = %v", c[0], got, c[1], want)
		}
	}
	// Without FixText the curly apostrophe is a symbol of its own, as in a
	// tokenizer that skips ftfy: the difference is real.
	var raw []int
	for _, w := range clipPattern.FindAllString(cleanCLIPText("it\u2019s", false), -1) {
		raw = append(raw, tok.bpe(w)...)
	}
	if reflect.DeepEqual(raw, tok.Encode("it's")) {
		t.Error("without FixText, it’s encodes as it's: the test above proves nothing")
	}
}

// FuzzFixText: FixText never fails, returns valid UTF-8 and is idempotent
// on a line, and plain printable ASCII without '&' passes through.
func FuzzFixText(f *testing.F) {
	for _, s := range []string{"", "a photo of a cat", "it\u2019s", "&amp;amp;\n<b>&lt;", "\x1b[1m\r\n\u0093x\u0094",
		"ﬁ\uffe3e\u0301", "\xff\xfe&#x110000;", "&EACUTE;&SZLIG;", "ŉ\u2028\u0085"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := FixText(s)
		if !utf8.ValidString(got) {
			t.Fatalf("FixText(%q) = %q: invalid UTF-8", s, got)
		}
		// ftfy fixes each line on its own until it stops changing, so its
		// output is a fixed point line by line; where a fix makes or removes
		// a line break, the lines of a second pass differ, and so may the
		// result (ftfy does the same).
		if !strings.ContainsAny(s, "\n\r\u2028\u2029\u0085") && !strings.Contains(got, "\n") {
			if again := FixText(got); again != got {
				t.Fatalf("not idempotent: %q -> %q -> %q", s, got, again)
			}
		}
		if plainText(s) && got != s {
			t.Fatalf("plain text changed: %q -> %q", s, got)
		}
	})
}
