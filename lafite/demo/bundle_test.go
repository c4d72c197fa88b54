package demo

import "testing"

// The bundled models do what the README claims of them, on latents other
// than the README's table: the mini-CLIP's text features make the generator
// draw the named colour nearly always and colour and shape together far above
// chance and above the same images judged against shuffled prompts. A bundle
// replaced by an undertrained or mismatched generator fails here.
func TestBundledModelsFollowTheirPrompts(t *testing.T) {
	m, err := LoadModels("", "", "")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Evaluate(m.Generator, m.CLIP, m.Judge, EvalOptions{PerPrompt: 2, Seed: 5, Psi: DefaultPsi, RealSeed: 99})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("colour %.1f%%, shape %.1f%%, joint %.1f%%, shuffled %.1f%%, FID %.2f", 100*r.Colour, 100*r.Shape, 100*r.Joint, 100*r.Shuffled, r.FID)
	if r.Colour < 0.95 {
		t.Errorf("colour accuracy %.1f%%; the bundle reads the colour of a prompt at least 95%% of the time", 100*r.Colour)
	}
	if r.Joint < 0.7 {
		t.Errorf("joint accuracy %.1f%%; the bundle gets colour and shape right at least 70%% of the time", 100*r.Joint)
	}
	if r.Joint < 10*r.Shuffled {
		t.Errorf("joint accuracy %.1f%% is not ten times the shuffled-prompt baseline %.1f%%", 100*r.Joint, 100*r.Shuffled)
	}
}
