package codec

import (
	"reflect"
	"sync"
)

// A struct decoded from msgpack gets its action without allocating: the
// "action" entry is cut out of the message (into a reused buffer) before
// msgpack decodes the rest, and the action field is set to an interned
// copy of the action name. Action names are few (a game's message types),
// so the intern table is small; it is bounded all the same, because the
// names come from the network.

// maxInterned bounds the intern table; when it is full it is cleared, so
// a flood of made-up names costs what it costs without interning (one
// allocation per message) and the game's names come back.
const maxInterned = 1024

// maxSplice bounds the messages whose action entry is cut out: above it,
// one string allocation is nothing beside the message.
const maxSplice = 16 << 10

var interned = struct {
	sync.RWMutex
	m map[string]string
}{m: make(map[string]string)}

// internAction returns b as a string, the same string for the same bytes
// while the table has room.
func internAction(b []byte) string {
	interned.RLock()
	s, ok := interned.m[string(b)] // no allocation: a lookup
	interned.RUnlock()
	if ok {
		return s
	}
	s = string(b)
	interned.Lock()
	if len(interned.m) >= maxInterned {
		// Full (a peer sending ever new names): start over, so that a
		// game's own few names are interned again at their next use.
		clear(interned.m)
	}
	interned.m[s] = s
	interned.Unlock()
	return s
}

// actionIndex caches, per struct type, the index of the top-level string
// field that is the message's action (tagged "action", or an untagged
// Action), or -1.
var actionIndex sync.Map // reflect.Type -> int

// structAction returns the struct v points to and the index of its action
// field, if v is a non-nil pointer to a struct that has one.
func structAction(v any) (reflect.Value, int, bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, -1, false
	}
	t := rv.Elem().Type()
	if i, ok := actionIndex.Load(t); ok {
		return rv.Elem(), i.(int), i.(int) >= 0
	}
	idx := -1
	for i := range t.NumField() {
		f := t.Field(i)
		if name, tagged := fieldName(f); name == ActionKey && tagged && f.IsExported() && f.Type.Kind() == reflect.String {
			idx = i
			break
		}
	}
	if idx < 0 {
		idx, _ = untaggedAction(v)
	}
	actionIndex.Store(t, idx)
	return rv.Elem(), idx, idx >= 0
}

// spliceAction writes msg without its action entry (env.actKey up to
// env.actEnd) into dst, with the map's count one less in the same header
// form, and reports whether it could (a map of at least one entry).
func spliceAction(dst, msg []byte, env mpEnvelope) ([]byte, bool) {
	if !env.isMap || env.actions != 1 || env.first <= 0 || env.actKey < env.first || env.actEnd > len(msg) {
		return dst, false
	}
	dst = dst[:0]
	switch h := msg[0]; {
	case h >= 0x81 && h <= 0x8f && env.first == 1: // fixmap
		dst = append(dst, h-1)
	case h == 0xde && env.first == 3: // map 16
		n := uint16(msg[1])<<8 | uint16(msg[2])
		n--
		dst = append(dst, 0xde, byte(n>>8), byte(n))
	case h == 0xdf && env.first == 5: // map 32
		n := uint32(msg[1])<<24 | uint32(msg[2])<<16 | uint32(msg[3])<<8 | uint32(msg[4])
		n--
		dst = append(dst, 0xdf, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	default:
		return dst, false
	}
	dst = append(dst, msg[env.first:env.actKey]...)
	dst = append(dst, msg[env.actEnd:]...)
	return dst, true
}
