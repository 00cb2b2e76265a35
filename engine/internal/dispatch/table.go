package dispatch

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/pumpnet/pumpnet/codec"
)

// Method names Register looks for.
const (
	catchAllMethod = "Network"
	methodPrefix   = "Network_"
)

// Table routes messages and local events to the handlers of its
// listeners. Create one with New. A Table is not safe for concurrent use:
// the engine registers listeners and calls Dispatch and Event from the
// goroutine that runs Pump. Handlers may call Dispatch, Event and Register
// on the same Table (a listener registered during a Dispatch receives from
// the next one).
type Table[P any] struct {
	codec     codec.Codec
	msgpack   bool // codec.ActionBytes reads the action without allocating
	peer      reflect.Type
	listeners []*listener[P]
	stores    map[reflect.Type]*valueStore
	plans     map[string]*plan[P] // by action; built by rebuild
	catchAll  *plan[P]            // for actions no listener names
	reserved  map[string]bool
	depth     int // Dispatch calls in progress (re-entrancy)
}

// handler is one registered handler.
type handler[P any] struct {
	name  string // for errors: "(*pkg.T).Network_move", `Handle("move")`
	form  form
	call  func(P, any)
	store func() *valueStore // kindValue: makes the type's shared storage
}

// listener is one registered object (or one Handle/HandleFunc handler):
// its Network_<action> handlers and its catch-all.
type listener[P any] struct {
	specific map[string]*handler[P]
	catchAll *handler[P]
}

// valueStore is the storage a struct type T is decoded into, shared by
// every kindValue handler of T in a Table.
type valueStore struct {
	ptr   any          // *T
	reset func()       // sets *ptr to the zero T
	fresh func() any   // a new *T, for re-entrant Dispatch
	typ   reflect.Type // T
}

func reflectStore(t reflect.Type) *valueStore {
	v := reflect.New(t)
	keep := byteFields(t)
	return &valueStore{
		ptr:   v.Interface(),
		reset: func() { resetKeepingBytes(v.Elem(), keep) },
		fresh: func() any { return reflect.New(t).Interface() },
		typ:   t,
	}
}

func typedStore[T any]() *valueStore {
	p := new(T)
	keep := byteFields(reflect.TypeFor[T]())
	reset := func() { var zero T; *p = zero }
	if len(keep) > 0 {
		v := reflect.ValueOf(p).Elem()
		reset = func() { resetKeepingBytes(v, keep) }
	}
	return &valueStore{
		ptr:   p,
		reset: reset,
		fresh: func() any { return new(T) },
		typ:   reflect.TypeFor[T](),
	}
}

// MaxKeptBytes bounds a []byte field's buffer that a typed handler's
// storage keeps between messages (see resetKeepingBytes): a larger one,
// which a single big message left, is dropped rather than held.
const MaxKeptBytes = 64 << 10

// byteFields lists the exported []byte fields of struct type t, whose
// buffers the decoder reuses from one message to the next.
func byteFields(t reflect.Type) []int {
	if t.Kind() != reflect.Struct {
		return nil
	}
	var idx []int
	for i := range t.NumField() {
		f := t.Field(i)
		if f.IsExported() && f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Uint8 {
			idx = append(idx, i)
		}
	}
	return idx
}

// resetKeepingBytes sets v to its zero value but keeps the buffers of its
// []byte fields (length 0), so that decoding the next message into it
// reuses them instead of allocating: a typed handler's []byte fields are
// valid only until it returns (copy what you keep), as netcode's
// messages are.
func resetKeepingBytes(v reflect.Value, fields []int) {
	var kept [8][]byte
	n := 0
	for _, i := range fields {
		if n == len(kept) {
			break
		}
		b := v.Field(i).Bytes()
		if cap(b) > MaxKeptBytes {
			b = nil
		}
		kept[n] = b
		n++
	}
	v.SetZero()
	for k, i := range fields[:n] {
		if kept[k] != nil {
			v.Field(i).SetBytes(kept[k][:0])
		}
	}
}

// New returns an empty Table whose messages are decoded with c (codec.Default()
// if c is nil). For the msgpack codec, Dispatch reads the action with
// codec.ActionBytes, without allocating; for others, with c.Action.
func New[P any](c codec.Codec) *Table[P] {
	if c == nil {
		c = codec.Default()
	}
	t := &Table[P]{
		codec:   c,
		msgpack: c.Name() == "msgpack",
		peer:    reflect.TypeFor[P](),
		stores:  make(map[reflect.Type]*valueStore),
	}
	t.rebuild()
	return t
}

// Listeners returns how many listeners are registered: one per successful
// Register, Handle or HandleFunc call.
func (t *Table[P]) Listeners() int { return len(t.listeners) }

// Reserve marks actions as local events: Dispatch refuses a message whose
// action is one of them with an error wrapping ErrReserved (and
// ErrBadMessage), running no handler, so a peer cannot forge an event such
// as "disconnected". Event still delivers them.
func (t *Table[P]) Reserve(actions ...string) {
	if t.reserved == nil {
		t.reserved = make(map[string]bool, len(actions))
	}
	for _, a := range actions {
		t.reserved[a] = true
	}
}

// Register adds obj as a listener: each exported method in obj's method
// set named Network_<action> handles that action, and a method named
// Network handles every action, after the specific one. Methods are found
// by reflection once, here. Every such method must have an allowed form
// (see the package documentation); otherwise Register returns an error
// naming each bad method, its signature and the allowed forms, wrapping
// ErrBadHandler, and registers nothing. A value with no such methods is an
// error wrapping ErrNoHandlers; so is a struct value whose pointer type has
// Network methods that the value lacks (pass a pointer).
//
// Go's reflection does not see unexported methods, so a method named
// network_move is not a handler and cannot be reported.
func (t *Table[P]) Register(obj any) error {
	if obj == nil {
		return fmt.Errorf("%w: Register(nil)", ErrNoHandlers)
	}
	v := reflect.ValueOf(obj)
	typ := v.Type()
	if typ.Kind() == reflect.Pointer && v.IsNil() {
		return fmt.Errorf("%w: Register of a nil %s", ErrNoHandlers, typ)
	}
	// Pointer-receiver handlers missing from a non-pointer value's method set.
	if typ.Kind() != reflect.Pointer {
		var missing []string
		pt := reflect.PointerTo(typ)
		for i := range pt.NumMethod() {
			name := pt.Method(i).Name
			if _, ok := typ.MethodByName(name); !ok && isHandlerName(name) {
				missing = append(missing, fmt.Sprintf("(*%s).%s", typ, name))
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("%w: Register(%s): %s %s a pointer receiver; Register a *%s",
				ErrNoHandlers, typ, strings.Join(missing, ", "), pluralHas(len(missing)), typ)
		}
	}
	l := &listener[P]{}
	var errs []error
	for i := range typ.NumMethod() {
		m := typ.Method(i)
		if !isHandlerName(m.Name) {
			continue
		}
		name := methodName(typ, m.Name)
		fn := v.Method(i)
		if m.Name == methodPrefix {
			errs = append(errs, fmt.Errorf("%w: %s has signature %s: its name has no action after %q",
				ErrBadHandler, name, fn.Type(), methodPrefix))
			continue
		}
		h, err := t.newHandler(name, fn)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if m.Name == catchAllMethod {
			l.catchAll = h
		} else {
			if l.specific == nil {
				l.specific = make(map[string]*handler[P])
			}
			l.specific[m.Name[len(methodPrefix):]] = h
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if l.catchAll == nil && len(l.specific) == 0 {
		return fmt.Errorf("%w: %s has no method named %s or %s<action>", ErrNoHandlers, typ, catchAllMethod, methodPrefix)
	}
	t.add(l)
	return nil
}

// Handle adds a listener with one handler, fn, for action; the empty
// action makes fn a catch-all that runs for every action. fn must be a
// func value of an allowed form (see the package documentation);
// otherwise Handle returns an error wrapping ErrBadHandler and registers
// nothing. The Msg and error forms are called directly; the others
// through reflection (use HandleFunc for typed messages on hot paths).
func (t *Table[P]) Handle(action string, fn any) error {
	name := fmt.Sprintf("Handle(%q)", action)
	if fn == nil {
		return fmt.Errorf("%w: %s: nil handler; %s", ErrBadHandler, name, allowedForms(t.peer))
	}
	v := reflect.ValueOf(fn)
	if v.Kind() == reflect.Func && v.IsNil() {
		return fmt.Errorf("%w: %s: nil %s; %s", ErrBadHandler, name, v.Type(), allowedForms(t.peer))
	}
	h, err := t.newHandler(name, v)
	if err != nil {
		return err
	}
	t.add(oneHandler(action, h))
	return nil
}

// HandleFunc adds a listener with one typed handler, fn, for action (the
// empty action: a catch-all). T is any allowed message type (see the
// package documentation). fn is called without reflection: for a struct
// T, the message is decoded straight into storage the Table reuses, and
// passed by value, so a message of numbers is dispatched without
// allocating. An interface T other than any is called only by Event.
func HandleFunc[P, T any](t *Table[P], action string, fn func(P, T)) error {
	name := fmt.Sprintf("HandleFunc(%q)", action)
	ft := reflect.TypeOf(fn)
	if fn == nil {
		return fmt.Errorf("%w: %s: nil %s; %s", ErrBadHandler, name, ft, allowedForms(t.peer))
	}
	f, reason := classify(t.peer, ft)
	if reason != "" {
		return badHandler(name, ft, reason, t.peer)
	}
	h := &handler[P]{name: name, form: f}
	switch f.kind {
	case kindValue:
		h.call = func(p P, m any) { fn(p, *m.(*T)) }
		h.store = typedStore[T]
	case kindMsg:
		if _, direct := any(codec.Msg(nil)).(T); direct { // T is codec.Msg or any
			h.call = func(p P, m any) { fn(p, m.(T)) }
		} else { // another map type with Msg's underlying type
			h.call = func(p P, m any) { fn(p, reflect.ValueOf(m).Convert(f.msg).Interface().(T)) }
		}
	default: // kindPtr, kindEvent: m is a T
		h.call = func(p P, m any) { fn(p, m.(T)) }
	}
	t.add(oneHandler(action, h))
	return nil
}

func oneHandler[P any](action string, h *handler[P]) *listener[P] {
	if action == "" {
		return &listener[P]{catchAll: h}
	}
	return &listener[P]{specific: map[string]*handler[P]{action: h}}
}

// newHandler validates fn and wraps it.
func (t *Table[P]) newHandler(name string, fn reflect.Value) (*handler[P], error) {
	f, reason := classify(t.peer, fn.Type())
	if reason != "" {
		return nil, badHandler(name, fn.Type(), reason, t.peer)
	}
	h := &handler[P]{name: name, form: f, call: caller[P](fn, f)}
	if f.kind == kindValue {
		h.store = func() *valueStore { return reflectStore(f.msg) }
	}
	return h, nil
}

// add appends a validated listener and rebuilds the plans.
func (t *Table[P]) add(l *listener[P]) {
	for _, h := range l.handlers() {
		if h.store != nil && t.stores[h.form.msg] == nil {
			t.stores[h.form.msg] = h.store()
		}
	}
	t.listeners = append(t.listeners, l)
	t.rebuild()
}

func (l *listener[P]) handlers() []*handler[P] {
	hs := make([]*handler[P], 0, len(l.specific)+1)
	for _, h := range l.specific {
		hs = append(hs, h)
	}
	if l.catchAll != nil {
		hs = append(hs, l.catchAll)
	}
	return hs
}

func isHandlerName(name string) bool {
	return name == catchAllMethod || strings.HasPrefix(name, methodPrefix)
}

// methodName formats a method as Go does: (*pkg.T).M or pkg.T.M.
func methodName(recv reflect.Type, method string) string {
	if recv.Kind() == reflect.Pointer {
		return fmt.Sprintf("(*%s).%s", recv.Elem(), method)
	}
	return fmt.Sprintf("%s.%s", recv, method)
}

func pluralHas(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}
