package board

import (
	"testing"

	"github.com/pumpnet/pumpnet/examples/internal/importcheck"
)

// TestImportsArePureState keeps the package free of graphics, networking
// and clocks, so the server, headless clients and the window all share it.
func TestImportsArePureState(t *testing.T) {
	importcheck.Only(t, ".", "cmp", "slices")
}
