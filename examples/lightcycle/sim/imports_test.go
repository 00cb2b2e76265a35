package sim

import (
	"testing"

	"github.com/pumpnet/pumpnet/examples/internal/importcheck"
)

// TestImportsArePureRules keeps the package free of graphics, networking,
// clocks and unseeded randomness: it may import only these standard
// packages.
func TestImportsArePureRules(t *testing.T) {
	importcheck.Only(t, ".", "cmp", "encoding/binary", "errors", "fmt", "math", "math/bits", "math/rand/v2", "slices")
}
