package codec

// Msg is an untyped message: a map whose "action" key names the handler
// that receives it, as in PodSixNet. Decoding into a *Msg gives values the
// Go types listed in the package documentation. A Msg is an ordinary map:
// it is not safe for concurrent use while anyone writes to it.
type Msg map[string]any

// ActionKey is the key of a message's action in the top-level map.
const ActionKey = "action"

// Action returns m's action, or "" if m has none or it is not a string. It
// only reads m, so it is safe concurrently with other readers.
func (m Msg) Action() string {
	s, _ := m[ActionKey].(string)
	return s
}
