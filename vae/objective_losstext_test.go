package vae

import "testing"

// Every objective says what its training loss is, and no two say the same:
// views label each objective's train/loss with it.
func TestEveryObjectiveNamesItsLoss(t *testing.T) {
	seen := map[string]string{}
	for name, o := range objectives() {
		text := o.LossText()
		if text == "" {
			t.Errorf("%s: no loss text", name)
		}
		if other, ok := seen[text]; ok {
			t.Errorf("%s and %s both say %q", name, other, text)
		}
		seen[text] = name
	}
}
