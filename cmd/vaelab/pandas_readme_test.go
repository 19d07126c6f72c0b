package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The README's "Analyse in pandas" shows scripts/pandas-example.py as it is
// (.ci/run runs the script on the quickstart's database).
func TestReadmeShowsThePandasExample(t *testing.T) {
	root := filepath.Join("..", "..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(filepath.Join(root, "scripts", "pandas-example.py"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Analyse in pandas\n")
	if !ok {
		t.Fatal(`README has no "## Analyse in pandas" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok := strings.Cut(section, "```python\n")
	if !ok {
		t.Fatal("the section shows no ```python block")
	}
	block, _, ok = strings.Cut(block, "```\n")
	if !ok || block != string(script) {
		t.Errorf("the README's block differs from scripts/pandas-example.py:\n%s", block)
	}
}
