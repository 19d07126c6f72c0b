package evaluate

import (
	"testing"

	"github.com/vaelab/vaelab/internal/testenv"
)

// TestMain sets up the BLAS as the CLI does.
func TestMain(m *testing.M) { testenv.Main(m) }
