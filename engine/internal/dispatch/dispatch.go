package dispatch

import (
	"fmt"
	"reflect"
	"runtime/debug"

	"github.com/pumpnet/pumpnet/codec"
)

// plan is what one action runs: the handlers in order, and the values
// Dispatch must decode for them first.
type plan[P any] struct {
	steps []step[P]
	slots []slot
	vals  []any // scratch for slots, used by the outermost Dispatch
}

// step is one handler call; slot indexes plan.slots, or is -1 for a
// handler that only Event calls.
type step[P any] struct {
	h    *handler[P]
	slot int
}

// slot is one value Dispatch decodes: the shared Msg, the shared storage of
// one struct type, or one pointer handler's own value.
type slot struct {
	kind  kind
	store *valueStore  // kindValue
	elem  reflect.Type // kindPtr: the struct type pointed to
	user  string       // the first handler that needs it, for errors
}

// rebuild recomputes every plan from the listeners. Plans are replaced,
// never changed, so a Dispatch in progress keeps the plan it started with.
func (t *Table[P]) rebuild() {
	actions := make(map[string]bool)
	for _, l := range t.listeners {
		for a := range l.specific {
			actions[a] = true
		}
	}
	t.plans = make(map[string]*plan[P], len(actions))
	for a := range actions {
		t.plans[a] = t.newPlan(a)
	}
	t.catchAll = t.newPlan("")
}

// newPlan builds the plan for action ("" gives the catch-alls alone).
func (t *Table[P]) newPlan(action string) *plan[P] {
	pl := &plan[P]{}
	msgSlot := -1
	valueSlots := make(map[reflect.Type]int)
	add := func(h *handler[P]) {
		s := -1
		switch h.form.kind {
		case kindMsg:
			if msgSlot < 0 {
				msgSlot = len(pl.slots)
				pl.slots = append(pl.slots, slot{kind: kindMsg, user: h.name})
			}
			s = msgSlot
		case kindValue:
			var ok bool
			if s, ok = valueSlots[h.form.msg]; !ok {
				s = len(pl.slots)
				valueSlots[h.form.msg] = s
				pl.slots = append(pl.slots, slot{kind: kindValue, store: t.stores[h.form.msg], user: h.name})
			}
		case kindPtr:
			s = len(pl.slots)
			pl.slots = append(pl.slots, slot{kind: kindPtr, elem: h.form.msg.Elem(), user: h.name})
		}
		pl.steps = append(pl.steps, step[P]{h: h, slot: s})
	}
	for _, l := range t.listeners {
		if h := l.specific[action]; h != nil && action != "" {
			add(h)
		}
		if l.catchAll != nil {
			add(l.catchAll)
		}
	}
	pl.vals = make([]any, len(pl.slots))
	return pl
}

// Dispatch delivers one encoded message to the handlers of its action:
// for each listener, in registration order, its Network_<action> handler
// and then its catch-all Network, each once. It returns how many handlers
// ran to completion. It does not block beyond what the handlers do.
//
// Every value the handlers need is decoded before the first handler runs
// (the Msg once, each struct type once, each pointer handler's value
// once), so a message either reaches all of them or none: if the action
// cannot be read, or the message cannot be decoded into some handler's
// type, Dispatch returns an error wrapping ErrBadMessage and the codec's
// error, and runs no handler. A message with a reserved action (see
// Reserve) returns an error wrapping ErrReserved. An action no listener
// handles, with no catch-all, runs nothing and returns (0, nil), without
// decoding the rest of the message.
//
// A panic in a handler is recovered and returned as a *PanicError; the
// handlers after it do not run. Handlers whose message parameter is an
// interface with methods (such as error) are skipped: only Event calls
// them.
func (t *Table[P]) Dispatch(p P, data []byte) (n int, err error) {
	var action []byte
	if t.msgpack {
		action, err = codec.ActionBytes(data)
	} else {
		var s string
		s, err = t.codec.Action(data)
		action = []byte(s)
	}
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	if len(t.reserved) > 0 && t.reserved[string(action)] {
		return 0, &multiError{
			msg:  fmt.Sprintf("dispatch: bad message: action %q is reserved for local events", action),
			errs: []error{ErrBadMessage, ErrReserved},
		}
	}
	pl := t.plans[string(action)]
	if pl == nil {
		pl = t.catchAll
	}
	if len(pl.steps) == 0 {
		return 0, nil
	}

	t.depth++
	vals := pl.vals
	if t.depth > 1 { // a handler is dispatching: leave the outer values alone
		vals = make([]any, len(pl.slots))
	}
	cur := -1 // the step running, for the panic report
	defer func() {
		t.depth--
		clear(vals) // drop this message's values
		if cur < 0 {
			return
		}
		if r := recover(); r != nil {
			err = &PanicError{Action: string(action), Handler: pl.steps[cur].h.name, Value: r, Stack: debug.Stack()}
		}
	}()

	for i, s := range pl.slots {
		var target any
		switch s.kind {
		case kindMsg:
			m := new(codec.Msg)
			target, vals[i] = m, nil
			if err = t.codec.Decode(data, m); err == nil {
				vals[i] = *m
			}
		case kindValue:
			if t.depth > 1 {
				target = s.store.fresh()
			} else {
				s.store.reset()
				target = s.store.ptr
			}
			vals[i] = target
			err = t.codec.Decode(data, target)
		case kindPtr:
			target = reflect.New(s.elem).Interface()
			vals[i] = target
			err = t.codec.Decode(data, target)
		}
		if err != nil {
			return 0, fmt.Errorf("%w: action %q: decoding into %T for %s: %w", ErrBadMessage, action, target, s.user, err)
		}
	}
	for i, st := range pl.steps {
		if st.slot < 0 {
			continue
		}
		cur = i
		st.h.call(p, vals[st.slot])
		n++
	}
	cur = -1
	return n, nil
}

// Event delivers a local event (connected, disconnected, error, ...) with
// no bytes: v goes to the handlers of action, listener by listener,
// specific before catch-all, as in Dispatch, but only to handlers whose
// message parameter can take it:
//
//   - codec.Msg, map[string]any and any parameters get EventMsg(action, v):
//     v itself if it is a Msg (or a map[string]any), else a Msg built from
//     it. One Msg is built per Event and shared by those handlers.
//   - Other parameter types get v itself if v's type is assignable to
//     them: an error event's error goes to error parameters, a struct to
//     parameters of that struct type (a copy each), a *T to *T parameters
//     (the same pointer to each).
//   - The others are skipped, and do not count.
//
// Event returns how many handlers ran to completion. A panic in a handler
// is recovered and returned as a *PanicError; the handlers after it do not
// run. An empty action is an error wrapping ErrEmptyAction.
func (t *Table[P]) Event(p P, action string, v any) (n int, err error) {
	if action == "" {
		return 0, fmt.Errorf("%w: Event(%T)", ErrEmptyAction, v)
	}
	pl := t.plans[action]
	if pl == nil {
		pl = t.catchAll
	}
	var (
		msg  codec.Msg
		vt   reflect.Type
		cur  = -1
		have bool
	)
	if v != nil {
		vt = reflect.TypeOf(v)
	}
	defer func() {
		if cur < 0 {
			return
		}
		if r := recover(); r != nil {
			err = &PanicError{Action: action, Handler: pl.steps[cur].h.name, Value: r, Stack: debug.Stack()}
		}
	}()
	for i, st := range pl.steps {
		h := st.h
		var arg any
		switch h.form.kind {
		case kindMsg:
			if !have {
				msg, have = EventMsg(action, v), true
			}
			arg = msg
		case kindValue:
			if vt == nil || !vt.AssignableTo(h.form.msg) {
				continue
			}
			ptr := reflect.New(h.form.msg)
			ptr.Elem().Set(reflect.ValueOf(v))
			arg = ptr.Interface()
		default: // kindPtr, kindEvent
			if vt == nil || !vt.AssignableTo(h.form.msg) {
				continue
			}
			arg = v
		}
		cur = i
		h.call(p, arg)
		n++
	}
	cur = -1
	return n, nil
}
