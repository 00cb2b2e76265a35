package dispatch

import (
	"fmt"
	"reflect"

	"github.com/pumpnet/pumpnet/codec"
)

// kind says how a handler's message parameter is filled.
type kind uint8

const (
	// kindMsg: codec.Msg, map[string]any (or another map type with that
	// underlying type) or any; gets the message decoded as a Msg.
	kindMsg kind = iota + 1
	// kindValue: a struct type T; decoded into reused storage, passed by
	// value.
	kindValue
	// kindPtr: *T for a struct type T; a freshly decoded value per call.
	kindPtr
	// kindEvent: an interface type with methods (error, fmt.Stringer, ...);
	// only Event delivers to it.
	kindEvent
)

var msgType = reflect.TypeFor[codec.Msg]()

// form is a validated handler signature.
type form struct {
	peer bool         // func(P, M) rather than func(M)
	msg  reflect.Type // M
	kind kind
}

// classify checks that ft is an allowed handler type for peer type peer.
// On failure it returns the reason, for an error message.
func classify(peer, ft reflect.Type) (form, string) {
	if ft.Kind() != reflect.Func {
		return form{}, fmt.Sprintf("it is a %s, not a function", ft.Kind())
	}
	if ft.IsVariadic() {
		return form{}, "it is variadic"
	}
	if n := ft.NumOut(); n != 0 {
		return form{}, fmt.Sprintf("it returns %d value(s); handlers return nothing", n)
	}
	var f form
	switch ft.NumIn() {
	case 1:
		f.msg = ft.In(0)
	case 2:
		if ft.In(0) != peer {
			return form{}, fmt.Sprintf("its first parameter is %s, not the peer type %s", ft.In(0), peer)
		}
		f.peer, f.msg = true, ft.In(1)
	default:
		return form{}, fmt.Sprintf("it takes %d parameters, not 1 or 2", ft.NumIn())
	}
	if f.msg == peer {
		return form{}, fmt.Sprintf("its message parameter has the peer type %s", peer)
	}
	m := f.msg
	switch {
	case m.Kind() == reflect.Interface && m.NumMethod() == 0:
		f.kind = kindMsg
	case m.Kind() == reflect.Map && msgType.ConvertibleTo(m):
		f.kind = kindMsg
	case m.Kind() == reflect.Interface:
		f.kind = kindEvent
	case m.Kind() == reflect.Struct:
		f.kind = kindValue
	case m.Kind() == reflect.Pointer && m.Elem().Kind() == reflect.Struct:
		f.kind = kindPtr
	default:
		return form{}, fmt.Sprintf("its message parameter is %s (a %s)", m, m.Kind())
	}
	return f, ""
}

// allowedForms describes the allowed handler forms for peer type peer.
func allowedForms(peer reflect.Type) string {
	return fmt.Sprintf("allowed forms: func(%s, M) and func(M), returning nothing, "+
		"where M is codec.Msg, map[string]any, any, a struct, a pointer to a struct, "+
		"or an interface such as error (local events only)", peer)
}

// badHandler returns the error for a handler named name of type ft.
func badHandler(name string, ft reflect.Type, reason string, peer reflect.Type) error {
	return fmt.Errorf("%w: %s has signature %s: %s; %s", ErrBadHandler, name, ft, reason, allowedForms(peer))
}

// caller returns a function that calls fn (a func value of form f) with
// the peer and the message argument m, which is: a codec.Msg (kindMsg), a
// pointer to the T to pass by value (kindValue), the *T itself (kindPtr),
// or the event value (kindEvent). The common Msg and error forms are
// called directly; the others through reflect.Value.Call.
func caller[P any](fn reflect.Value, f form) func(P, any) {
	switch h := fn.Interface().(type) {
	case func(P, codec.Msg):
		return func(p P, m any) { h(p, m.(codec.Msg)) }
	case func(codec.Msg):
		return func(_ P, m any) { h(m.(codec.Msg)) }
	case func(P, map[string]any):
		return func(p P, m any) { h(p, m.(codec.Msg)) }
	case func(map[string]any):
		return func(_ P, m any) { h(m.(codec.Msg)) }
	case func(P, any):
		return func(p P, m any) { h(p, m) }
	case func(any):
		return func(_ P, m any) { h(m) }
	case func(P, error):
		return func(p P, m any) { h(p, m.(error)) }
	case func(error):
		return func(_ P, m any) { h(m.(error)) }
	}
	return func(p P, m any) {
		var args [2]reflect.Value
		in := args[:0]
		if f.peer {
			in = append(in, reflect.ValueOf(&p).Elem())
		}
		v := reflect.ValueOf(m)
		switch f.kind {
		case kindMsg:
			v = v.Convert(f.msg)
		case kindValue:
			v = v.Elem()
		}
		fn.Call(append(in, v))
	}
}
