package dispatch

import (
	"reflect"
	"strings"

	"github.com/pumpnet/pumpnet/codec"
)

// EventMsg returns the Msg that Event gives to codec.Msg, map[string]any
// and any handlers for an event v of the given action:
//
//   - v is a codec.Msg (or another map with the same underlying type): v
//     itself, unchanged (its "action" is whatever v holds).
//   - v is nil, or a nil pointer: {"action": action}.
//   - v is an error: {"action": action, "error": v}.
//   - v is a struct or a pointer to one: {"action": action} plus one entry
//     per exported field, keyed as the codecs key it (the msgpack tag's
//     name, else the json tag's, else the Go field name; "-" skips the
//     field), with embedded structs without a tag name flattened. A field
//     keyed "action" is overwritten by the action. Values are the fields'
//     Go values as they are (an int stays an int; nothing is encoded).
//   - anything else: {"action": action, "value": v}.
//
// It does not block and is safe for concurrent use (it only reads v).
func EventMsg(action string, v any) codec.Msg {
	switch e := v.(type) {
	case nil:
		return codec.Msg{codec.ActionKey: action}
	case codec.Msg:
		return e
	case map[string]any:
		return codec.Msg(e)
	case error:
		return codec.Msg{codec.ActionKey: action, "error": e}
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Map && rv.Type().ConvertibleTo(msgType) {
		return rv.Convert(msgType).Interface().(codec.Msg)
	}
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return codec.Msg{codec.ActionKey: action}
		}
		if rv.Elem().Kind() == reflect.Struct {
			rv = rv.Elem()
		}
	}
	if rv.Kind() != reflect.Struct {
		return codec.Msg{codec.ActionKey: action, "value": v}
	}
	m := codec.Msg{}
	addFields(m, rv)
	m[codec.ActionKey] = action
	return m
}

// addFields adds rv's exported fields to m, flattening untagged embedded
// structs.
func addFields(m codec.Msg, rv reflect.Value) {
	rt := rv.Type()
	for i := range rt.NumField() {
		f := rt.Field(i)
		name, skip := fieldKey(f)
		if skip {
			continue
		}
		fv := rv.Field(i)
		if f.Anonymous && name == "" {
			ev := fv
			if ev.Kind() == reflect.Pointer && ev.Type().Elem().Kind() == reflect.Struct {
				if ev.IsNil() {
					continue
				}
				ev = ev.Elem()
			}
			if ev.Kind() == reflect.Struct {
				addFields(m, ev)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = fv.Interface()
	}
}

// fieldKey returns the name a field's msgpack tag (else json tag) gives it,
// "" if none, and whether the tag says to skip it.
func fieldKey(f reflect.StructField) (name string, skip bool) {
	for _, key := range []string{"msgpack", "json"} {
		tag, ok := f.Tag.Lookup(key)
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(tag, ",")
		if name == "-" {
			return "", true
		}
		if name != "" {
			return name, false
		}
	}
	return "", false
}
