package shapes

import (
	"math/rand/v2"
	"strings"
)

// captionTemplates are the sentence patterns captions are drawn from; the
// slots {size} {color} {shape} {pos} {bg} are filled with a phrase for the
// sample's label. Some mention everything, some only colour and shape, as
// human captions do.
var captionTemplates = []string{
	"a {size} {color} {shape} {pos}",
	"{color} {shape}",
	"a {color} {shape}",
	"there is a {color} {shape}",
	"a {color} {shape} {pos}",
	"a {size} {color} {shape} on a {bg} background",
	"a picture of a {size} {color} {shape}",
	"the {shape} is {color}",
	"a {color} {shape} drawn on {bg}",
	"{size} {color} {shape}, {pos}",
	"an image showing one {color} {shape}",
}

// NumTemplates is the number of caption templates.
var NumTemplates = len(captionTemplates)

// canonicalBias is the chance a slot takes its canonical word rather than a
// uniformly chosen synonym, so canonical prompts stay the most common.
const canonicalBias = 0.6

func pickWord(rng *rand.Rand, words []string) string {
	if len(words) == 1 || rng.Float64() < canonicalBias {
		return words[0]
	}
	return words[rng.IntN(len(words))]
}

// captionFrom fills template t for the given labels, choosing synonyms with rng.
func captionFrom(rng *rand.Rand, t, shape, colour, size, pos, bg int) string {
	r := strings.NewReplacer(
		"{size}", pickWord(rng, sizeWords[size]),
		"{color}", pickWord(rng, ColorWords[colour]),
		"{shape}", pickWord(rng, ShapeWords[shape]),
		"{pos}", pickWord(rng, positionPhrases[pos]),
		"{bg}", pickWord(rng, backgroundWords[bg]),
	)
	return fixArticles(r.Replace(captionTemplates[t]))
}

// CaptionFor is the canonical prompt for a colour and shape, e.g. "a red
// circle" or "an orange star".
func CaptionFor(shape, colour int) string {
	return fixArticles("a " + ColorNames[colour] + " " + ShapeNames[shape])
}

// fixArticles turns "a" into "an" before a word starting with a vowel.
func fixArticles(s string) string {
	words := strings.Fields(s)
	for i := 0; i+1 < len(words); i++ {
		if words[i] == "a" && strings.ContainsRune("aeiou", rune(words[i+1][0])) {
			words[i] = "an"
		}
	}
	return strings.Join(words, " ")
}
