package shapes

import "image/color"

// Shape indices; ShapeNames[i] is the canonical word of shape i.
const (
	Circle = iota
	Square
	Triangle
	Star
	Cross
	Heart
	NumShapes
)

// Colour indices; ColorNames[i] is the canonical word of colour i.
const (
	Red = iota
	Green
	Blue
	Yellow
	Purple
	Orange
	White
	Black
	NumColors
)

// Size, position and background indices.
const (
	Small = iota
	Large
	NumSizes
)

const (
	Center = iota
	Left
	Right
	Top
	Bottom
	NumPositions
)

const (
	DarkGray = iota
	LightGray
	Beige
	NumBackgrounds
)

var (
	ShapeNames      = []string{"circle", "square", "triangle", "star", "cross", "heart"}
	ColorNames      = []string{"red", "green", "blue", "yellow", "purple", "orange", "white", "black"}
	SizeNames       = []string{"small", "large"}
	PositionNames   = []string{"center", "left", "right", "top", "bottom"}
	BackgroundNames = []string{"dark gray", "light gray", "beige"}
)

// ShapeWords and ColorWords list every phrase a caption may use for a shape or
// a colour, the canonical name first. Synonyms make captions vary the way
// real ones do, so a text encoder has to learn that "disc" and "circle" agree.
var (
	ShapeWords = [][]string{
		{"circle", "round thing", "disc", "round shape"},
		{"square", "box", "block", "square shape"},
		{"triangle", "triangular shape", "three-sided shape"},
		{"star", "five-pointed star", "star shape"},
		{"cross", "plus sign", "plus"},
		{"heart", "love heart", "heart shape"},
	}
	ColorWords = [][]string{
		{"red", "crimson", "scarlet"},
		{"green", "emerald"},
		{"blue", "cobalt"},
		{"yellow", "golden"},
		{"purple", "violet"},
		{"orange", "tangerine"},
		{"white", "snow white"},
		{"black", "jet black"},
	}
	sizeWords       = [][]string{{"small", "little", "tiny"}, {"large", "big"}}
	positionPhrases = [][]string{
		{"in the center", "in the middle"},
		{"on the left", "at the left"},
		{"on the right", "at the right"},
		{"at the top", "near the top"},
		{"at the bottom", "near the bottom"},
	}
	backgroundWords = [][]string{{"dark gray", "dark grey"}, {"light gray", "light grey"}, {"beige"}}
)

// Palette colours are far apart in RGB, and every background differs from
// every shape colour by at least 65 in some channel (the nearest pairs are
// black/dark gray and white/light gray), so colour stays readable at 32x32.
var (
	shapeRGB = []color.RGBA{
		{220, 40, 40, 255},   // red
		{40, 170, 60, 255},   // green
		{40, 90, 230, 255},   // blue
		{240, 215, 40, 255},  // yellow
		{145, 60, 200, 255},  // purple
		{250, 140, 30, 255},  // orange
		{245, 245, 245, 255}, // white
		{20, 20, 20, 255},    // black
	}
	backgroundRGB = []color.RGBA{
		{85, 85, 85, 255},    // dark gray
		{165, 165, 165, 255}, // light gray
		{210, 195, 160, 255}, // beige
	}
)

// ShapeColor is the nominal RGB of shape colour c (samples jitter it slightly).
func ShapeColor(c int) color.RGBA { return shapeRGB[c] }

// BackgroundColor is the nominal RGB of background b.
func BackgroundColor(b int) color.RGBA { return backgroundRGB[b] }
