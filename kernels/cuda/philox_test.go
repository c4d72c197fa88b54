package cuda

import (
	"math"
	"testing"
)

// Known-answer vectors of Random123 (kat_vectors, philox4x32 R=10).
func TestPhiloxKnownAnswers(t *testing.T) {
	cases := []struct {
		ctr  [4]uint32
		key  [2]uint32
		want [4]uint32
	}{
		{[4]uint32{0, 0, 0, 0}, [2]uint32{0, 0}, [4]uint32{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
		{[4]uint32{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, [2]uint32{0xffffffff, 0xffffffff},
			[4]uint32{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
		{[4]uint32{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, [2]uint32{0xa4093822, 0x299f31d0},
			[4]uint32{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
	}
	for _, c := range cases {
		if got := Philox4x32(c.ctr, c.key); got != c.want {
			t.Errorf("Philox4x32(%08x, %08x) = %08x, want %08x", c.ctr, c.key, got, c.want)
		}
	}
}

func TestPhiloxStreams(t *testing.T) {
	u := make([]float32, 1<<16)
	PhiloxUniform(u, 42, 0, 0, 1)
	var sum float64
	for _, v := range u {
		if !(v > 0 && v < 1) {
			t.Fatalf("uniform %v outside (0,1)", v)
		}
		sum += float64(v)
	}
	if m := sum / float64(len(u)); math.Abs(m-0.5) > 0.01 {
		t.Errorf("uniform mean %v", m)
	}
	z := make([]float32, 1<<16)
	PhiloxNormal(z, 42, 0, 0, 1)
	var s1, s2 float64
	for _, v := range z {
		s1 += float64(v)
		s2 += float64(v) * float64(v)
	}
	n := float64(len(z))
	if m, v := s1/n, s2/n-(s1/n)*(s1/n); math.Abs(m) > 0.02 || math.Abs(v-1) > 0.03 {
		t.Errorf("normal mean %v variance %v", m, v)
	}
	// A different offset is a different stream; a prefix is the same stream.
	u2 := make([]float32, 8)
	PhiloxUniform(u2, 42, 1, 0, 1)
	if u2[0] == u[0] && u2[1] == u[1] {
		t.Error("offset 1 repeats offset 0")
	}
	u3 := make([]float32, 7)
	PhiloxUniform(u3, 42, 0, 0, 1)
	for i := range u3 {
		if u3[i] != u[i] {
			t.Fatalf("prefix differs at %d", i)
		}
	}
}
