package report

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/vaelab/vaelab/record"
)

// Defect 5 of issue 28: a report or export taken while a sweep runs counts
// what its figures average: "2 of 3" when one of a configuration's three
// runs is still training, never "3".
func TestCountsSayWhatWasAveraged(t *testing.T) {
	ctx := context.Background()
	st, name := fakeExperiment(t, "name: counts\nseeds: [1, 2, 3]\n", 5, 1)
	rs, err := st.Runs(ctx, name)
	if err != nil || len(rs) != 3 {
		t.Fatalf("%d runs: %v", len(rs), err)
	}
	// The third run is still training: no final values yet.
	st.run(rs[2].ID).Status = record.StatusRunning
	delete(st.sums, rs[2].ID)
	var md bytes.Buffer
	if err := Export(ctx, st, name, "md", nil, &md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| 2 of 3 |") {
		t.Errorf("markdown export does not say 2 of 3 runs were averaged:\n%s", md.String())
	}
	p, err := Build(ctx, st, []string{name}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := Render(&page, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<td class="num">2 of 3</td>`, "2 of 3 runs evaluated"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(page.String(), "(3 runs)") {
		t.Error("the report says (3 runs) while averaging 2")
	}
}
