// Package shapes is a small procedural world the project makes itself, so the
// demo needs no downloaded data: images of one coloured shape on a plain
// background, their labels (shape, colour, size, position, background) and
// captions from varied templates, deterministic from a seed. It also holds a
// judge, a small CNN trained on the world's labels that reads colour and shape
// back from images, independent of any CLIP model.
package shapes
