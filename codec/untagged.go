package codec

import (
	"reflect"
	"strings"
	"sync"
)

// untaggedKey is the key that encoding/json and msgpack give a struct field
// named Action that has no tag. It is ActionKey with its first letter in
// upper case: the same length, so the envelope fixes it in place.
const untaggedKey = "Action"

// actionFields caches, per struct type, the index of its untagged Action
// field (-1: none).
var actionFields sync.Map // reflect.Type -> int

// untaggedAction returns the index of the exported string field named
// Action of the struct that v is (or points to), if that field has no tag
// naming it (neither msgpack nor json) and no other field encodes as
// "action". Such a field is the message's action although it encodes as
// "Action": a newcomer's `type Guess struct{ Action string; N int }` works
// as a message without tags.
func untaggedAction(v any) (int, bool) {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return -1, false
	}
	if i, ok := actionFields.Load(t); ok {
		return i.(int), i.(int) >= 0
	}
	idx := -1
	for i := range t.NumField() {
		f := t.Field(i)
		name, tagged := fieldName(f)
		if name == ActionKey && tagged {
			idx = -1 // a field already encodes as "action"
			break
		}
		if f.Name == untaggedKey && !tagged && f.IsExported() && f.Type.Kind() == reflect.String {
			idx = i
		}
	}
	actionFields.Store(t, idx)
	return idx, idx >= 0
}

// fieldName returns the name a field's tag gives it, read as msgpack reads
// it (the msgpack tag, or the json tag when there is none), and whether a
// tag named it.
func fieldName(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("msgpack")
	if tag == "" {
		tag = f.Tag.Get("json")
	}
	name, _, hasOpts := strings.Cut(tag, ",")
	switch {
	case name == "-" && !hasOpts:
		return "", true // skipped: it encodes as nothing
	case name != "":
		return name, true
	}
	return f.Name, false
}

// setUntaggedAction stores action in v's untagged Action field, if v points
// to a struct that has one and the field is empty. msgpack matches keys to
// field names exactly, so "action" on the wire does not fill a field named
// Action by itself.
func setUntaggedAction(v any, action []byte) {
	i, ok := untaggedAction(v)
	if !ok {
		return
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return
		}
		rv = rv.Elem()
	}
	if f := rv.Field(i); f.CanSet() && f.Len() == 0 {
		f.SetString(string(action))
	}
}
