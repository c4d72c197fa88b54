package lafite

import "math"

// float32 state is stored by its bits so a resumed run is bit-identical.
func math32bits(f float32) uint32     { return math.Float32bits(f) }
func math32frombits(b uint32) float32 { return math.Float32frombits(b) }
