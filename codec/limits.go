package codec

// Limits bounds what a codec accepts from outside. Every field's zero value
// (or a negative value) means its default, so Limits{} is DefaultLimits.
// A Limits is a plain value: copy it freely.
type Limits struct {
	// MaxSize bounds the length of one encoded message in bytes.
	// Default 1 MiB (1048576), netcode's default maximum message size.
	// Append refuses to produce a longer message; Decode, Action and
	// Validate refuse longer input before looking at it.
	MaxSize int
	// MaxDepth bounds how deeply arrays and maps nest. The top-level map of
	// a message is depth 1, so {"action":"a","pos":[1,2]} has depth 2.
	// Default 32. Values above MaxDepthLimit are treated as MaxDepthLimit,
	// because the decoders recurse once per level.
	MaxDepth int
	// MaxElements bounds the total number of array elements and map entries
	// (key/value pairs) in one message, summed over every level. It bounds
	// what a decoder allocates for a message that is small on the wire but
	// declares many elements (an array of 1e6 nils is 1 MB). Default 65536.
	MaxElements int
}

// MaxDepthLimit is the largest MaxDepth a codec honours; larger values are
// treated as MaxDepthLimit.
const MaxDepthLimit = 1024

// DefaultLimits holds the defaults that zero fields of a Limits stand for:
// MaxSize 1 MiB, MaxDepth 32, MaxElements 65536. Default() and a codec
// built from Limits{} use these values (they do not read this variable).
// Reading it from any goroutine is safe; do not modify it.
var DefaultLimits = Limits{
	MaxSize:     1 << 20,
	MaxDepth:    32,
	MaxElements: 65536,
}

const (
	defaultMaxSize     = 1 << 20
	defaultMaxDepth    = 32
	defaultMaxElements = 65536
)

// withDefaults returns lim with zero or negative fields replaced by their
// defaults and MaxDepth capped at MaxDepthLimit.
func (lim Limits) withDefaults() Limits {
	if lim.MaxSize <= 0 {
		lim.MaxSize = defaultMaxSize
	}
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = defaultMaxDepth
	}
	if lim.MaxDepth > MaxDepthLimit {
		lim.MaxDepth = MaxDepthLimit
	}
	if lim.MaxElements <= 0 {
		lim.MaxElements = defaultMaxElements
	}
	return lim
}
