package dispatch

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"weak"

	"github.com/pumpnet/pumpnet/codec"
)

// allForms has one Network_<action> method per allowed message form.
type allForms struct {
	got map[string]any // action -> what the handler received
	pe  map[string]*peer
}

func (a *allForms) put(action string, p *peer, v any) {
	if _, dup := a.got[action]; dup {
		panic("handler for " + action + " ran twice")
	}
	a.got[action] = v
	a.pe[action] = p
}

func (a *allForms) Network_peerMsg(p *peer, m codec.Msg)       { a.put("peerMsg", p, m) }
func (a *allForms) Network_msg(m codec.Msg)                    { a.put("msg", nil, m) }
func (a *allForms) Network_peerAny(p *peer, m any)             { a.put("peerAny", p, m) }
func (a *allForms) Network_any(m any)                          { a.put("any", nil, m) }
func (a *allForms) Network_peerMap(p *peer, m map[string]any)  { a.put("peerMap", p, m) }
func (a *allForms) Network_named(m namedMap)                   { a.put("named", nil, m) }
func (a *allForms) Network_peerStruct(p *peer, m Move)         { a.put("peerStruct", p, m) }
func (a *allForms) Network_struct(m Move)                      { a.put("struct", nil, m) }
func (a *allForms) Network_peerPtr(p *peer, m *Move)           { a.put("peerPtr", p, m) }
func (a *allForms) Network_ptr(m *Move)                        { a.put("ptr", nil, m) }
func (a *allForms) Network_socketConnect(p *peer, m codec.Msg) { a.put("socketConnect", p, m) }

// checkReceived checks what a handler of action got from a Dispatch of
// testMove with that action.
func checkReceived(t *testing.T, action string, got any, p, wantPeer *peer) {
	t.Helper()
	if p != wantPeer {
		t.Fatalf("%s: peer %v, want %v", action, p, wantPeer)
	}
	switch m := got.(type) {
	case codec.Msg:
		wantMoveMsg(t, action, m, action)
	case map[string]any:
		wantMoveMsg(t, action, m, action)
	case namedMap:
		wantMoveMsg(t, action, codec.Msg(m), action)
	case Move:
		if m != testMove {
			t.Fatalf("%s: got %+v, want %+v", action, m, testMove)
		}
	case *Move:
		if m == nil || *m != testMove {
			t.Fatalf("%s: got %+v, want %+v", action, m, testMove)
		}
	default:
		t.Fatalf("%s: got %T %v", action, got, got)
	}
}

func TestRegisterEveryForm(t *testing.T) {
	tb := New[*peer](codec.Default())
	l := &allForms{got: map[string]any{}, pe: map[string]*peer{}}
	if err := tb.Register(l); err != nil {
		t.Fatal(err)
	}
	ann := &peer{name: "ann"}
	for _, action := range []string{"peerMsg", "msg", "peerAny", "any", "peerMap", "named", "peerStruct", "struct", "peerPtr", "ptr", "socketConnect"} {
		n, err := tb.Dispatch(ann, moveBytes(t, action))
		if err != nil || n != 1 {
			t.Fatalf("Dispatch %s = %d, %v; want 1, nil", action, n, err)
		}
		got, ok := l.got[action]
		if !ok {
			t.Fatalf("Network_%s did not run", action)
		}
		wantPeer := ann
		if !strings.HasPrefix(action, "peer") && action != "socketConnect" {
			wantPeer = nil
		}
		checkReceived(t, action, got, l.pe[action], wantPeer)
	}
	if _, ok := l.got["any"].(codec.Msg); !ok {
		t.Fatalf("an any parameter got %T, want codec.Msg", l.got["any"])
	}
}

func TestHandleEveryForm(t *testing.T) {
	ann := &peer{name: "ann"}
	var got any
	var gotPeer *peer
	set := func(p *peer, v any) { gotPeer, got = p, v }
	forms := []struct {
		name  string
		peer  bool
		fn    any                                    // for Handle
		typed func(tb *Table[*peer], a string) error // HandleFunc
	}{
		{"Msg", true, func(p *peer, m codec.Msg) { set(p, m) },
			func(tb *Table[*peer], a string) error {
				return HandleFunc(tb, a, func(p *peer, m codec.Msg) { set(p, m) })
			}},
		{"any", true, func(p *peer, m any) { set(p, m) },
			func(tb *Table[*peer], a string) error { return HandleFunc(tb, a, func(p *peer, m any) { set(p, m) }) }},
		{"map", true, func(p *peer, m map[string]any) { set(p, m) },
			func(tb *Table[*peer], a string) error {
				return HandleFunc(tb, a, func(p *peer, m map[string]any) { set(p, m) })
			}},
		{"namedMap", true, func(p *peer, m namedMap) { set(p, m) },
			func(tb *Table[*peer], a string) error {
				return HandleFunc(tb, a, func(p *peer, m namedMap) { set(p, m) })
			}},
		{"struct", true, func(p *peer, m Move) { set(p, m) },
			func(tb *Table[*peer], a string) error { return HandleFunc(tb, a, func(p *peer, m Move) { set(p, m) }) }},
		{"pointer", true, func(p *peer, m *Move) { set(p, m) },
			func(tb *Table[*peer], a string) error { return HandleFunc(tb, a, func(p *peer, m *Move) { set(p, m) }) }},
		{"Msg, no peer", false, func(m codec.Msg) { set(nil, m) }, nil},
		{"any, no peer", false, func(m any) { set(nil, m) }, nil},
		{"map, no peer", false, func(m map[string]any) { set(nil, m) }, nil},
		{"struct, no peer", false, func(m Move) { set(nil, m) }, nil},
		{"pointer, no peer", false, func(m *Move) { set(nil, m) }, nil},
	}
	for _, f := range forms {
		for _, how := range []string{"Handle", "HandleFunc"} {
			if how == "HandleFunc" && f.typed == nil {
				continue
			}
			t.Run(f.name+"/"+how, func(t *testing.T) {
				tb := New[*peer](codec.Default())
				var err error
				if how == "Handle" {
					err = tb.Handle("move", f.fn)
				} else {
					err = f.typed(tb, "move")
				}
				if err != nil {
					t.Fatal(err)
				}
				got, gotPeer = nil, nil
				n, err := tb.Dispatch(ann, moveBytes(t, "move"))
				if err != nil || n != 1 {
					t.Fatalf("Dispatch = %d, %v; want 1, nil", n, err)
				}
				want := ann
				if !f.peer {
					want = nil
				}
				checkReceived(t, "move", got, gotPeer, want)
			})
		}
	}
}

// TestSameMessageToAllForms: typed and Msg handlers of one Dispatch get the
// same message.
func TestSameMessageToAllForms(t *testing.T) {
	tb := New[*peer](codec.Default())
	var msg codec.Msg
	var typed, reflected Move
	var ptr *Move
	must(t, HandleFunc(tb, "move", func(_ *peer, m Move) { typed = m }))
	must(t, tb.Handle("move", func(m codec.Msg) { msg = m }))
	must(t, tb.Handle("move", func(_ *peer, m Move) { reflected = m }))
	must(t, HandleFunc(tb, "move", func(_ *peer, m *Move) { ptr = m }))
	n, err := tb.Dispatch(&peer{}, moveBytes(t, "move"))
	if n != 4 || err != nil {
		t.Fatalf("Dispatch = %d, %v; want 4, nil", n, err)
	}
	wantMoveMsg(t, "Msg handler", msg, "move")
	if typed != testMove || reflected != testMove || ptr == nil || *ptr != testMove {
		t.Fatalf("typed %+v, reflected %+v, pointer %+v; want %+v", typed, reflected, ptr, testMove)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// orderListener records its handler calls.
type orderListener struct {
	name string
	log  *[]string
}

func (o *orderListener) Network_move(*peer, Move)   { *o.log = append(*o.log, o.name+".move") }
func (o *orderListener) Network(*peer, codec.Msg)   { *o.log = append(*o.log, o.name+".Network") }
func (o *orderListener) Network_chat(*peer, *Chat)  { *o.log = append(*o.log, o.name+".chat") }
func (o *orderListener) Network_other(codec.Msg)    { *o.log = append(*o.log, o.name+".other") }
func (o *orderListener) Network_error(*peer, error) { *o.log = append(*o.log, o.name+".error") }

type catchAllOnly struct{ log *[]string }

func (c catchAllOnly) Network(m codec.Msg) { *c.log = append(*c.log, "c.Network("+m.Action()+")") }

type specificOnly struct{ log *[]string }

func (s specificOnly) Network_move(m Move) { *s.log = append(*s.log, "s.move") }

func TestOrder(t *testing.T) {
	var log []string
	tb := New[*peer](codec.Default())
	must(t, tb.Register(&orderListener{name: "a", log: &log}))
	must(t, tb.Register(specificOnly{log: &log}))
	must(t, HandleFunc(tb, "move", func(*peer, Move) { log = append(log, "f.move") }))
	must(t, tb.Register(catchAllOnly{log: &log}))
	must(t, tb.Register(&orderListener{name: "b", log: &log}))
	if tb.Listeners() != 5 {
		t.Fatalf("Listeners() = %d, want 5", tb.Listeners())
	}
	cases := []struct {
		action string
		want   []string
	}{
		{"move", []string{"a.move", "a.Network", "s.move", "f.move", "c.Network(move)", "b.move", "b.Network"}},
		{"chat", []string{"a.chat", "a.Network", "c.Network(chat)", "b.chat", "b.Network"}},
		{"nobody", []string{"a.Network", "c.Network(nobody)", "b.Network"}},
		// Dispatch skips error handlers (events only); catch-alls still run.
		{"error", []string{"a.Network", "c.Network(error)", "b.Network"}},
	}
	for _, c := range cases {
		log = nil
		n, err := tb.Dispatch(&peer{}, encode(t, codec.Msg{"action": c.action, "text": "hi"}))
		if err != nil {
			t.Fatalf("%s: %v", c.action, err)
		}
		if !slices.Equal(log, c.want) || n != len(c.want) {
			t.Fatalf("%s: ran %d %v, want %v", c.action, n, log, c.want)
		}
	}
}

func TestUnknownAction(t *testing.T) {
	var log []string
	tb := New[*peer](codec.Default())
	must(t, tb.Register(specificOnly{log: &log}))
	must(t, HandleFunc(tb, "chat", func(*peer, codec.Msg) { log = append(log, "chat") }))
	n, err := tb.Dispatch(&peer{}, encode(t, codec.Msg{"action": "nobody", "x": "not a number"}))
	if n != 0 || err != nil || len(log) != 0 {
		t.Fatalf("unknown action: %d, %v, ran %v; want 0, nil, nothing", n, err, log)
	}
	// An empty table too.
	if n, err := New[*peer](nil).Dispatch(nil, moveBytes(t, "move")); n != 0 || err != nil {
		t.Fatalf("empty table: %d, %v", n, err)
	}
}

// Listeners with registration mistakes, one per type.
type (
	noArgs        struct{}
	threeArgs     struct{}
	wrongPeer     struct{}
	chanParam     struct{}
	funcParam     struct{}
	intParam      struct{}
	sliceParam    struct{}
	returnsError  struct{}
	variadic      struct{}
	peerAsMessage struct{}
	emptyAction   struct{}
	badCatchAll   struct{}
	goodAndBad    struct{ ran *bool }
	noMethods     struct{}
	unexported    struct{}
	ptrReceivers  struct{}
)

func (noArgs) Network_x()                        {}
func (threeArgs) Network_x(*peer, Move, int)     {}
func (wrongPeer) Network_x(string, Move)         {}
func (chanParam) Network_x(*peer, chan int)      {}
func (funcParam) Network_x(func())               {}
func (intParam) Network_x(*peer, int)            {}
func (sliceParam) Network_x(*peer, []Move)       {}
func (returnsError) Network_x(*peer, Move) error { return nil }
func (variadic) Network_x(*peer, ...Move)        {}
func (peerAsMessage) Network_x(*peer)            {}
func (emptyAction) Network_(*peer, Move)         {}
func (badCatchAll) Network(*peer, string)        {}
func (g goodAndBad) Network_good(*peer, Move)    { *g.ran = true }
func (goodAndBad) Network_bad(*peer, *int)       {}
func (noMethods) String() string                 { return "" }

//lint:ignore U1000 an unexported handler name is the mistake under test
func (unexported) network_move(*peer, codec.Msg)   {}
func (*ptrReceivers) Network_move(*peer, Move)     {}
func (ptrReceivers) Network_chat(*peer, codec.Msg) {}

func TestRegisterMistakes(t *testing.T) {
	allowed := "allowed forms: func(*dispatch.peer, M) and func(M)"
	cases := []struct {
		obj   any
		want  error
		parts []string
	}{
		{noArgs{}, ErrBadHandler, []string{"dispatch.noArgs.Network_x", "func()", "0 parameters", allowed}},
		{threeArgs{}, ErrBadHandler, []string{"dispatch.threeArgs.Network_x", "func(*dispatch.peer, dispatch.Move, int)", "3 parameters", allowed}},
		{&wrongPeer{}, ErrBadHandler, []string{"(*dispatch.wrongPeer).Network_x", "func(string, dispatch.Move)", "first parameter is string, not the peer type *dispatch.peer", allowed}},
		{chanParam{}, ErrBadHandler, []string{"dispatch.chanParam.Network_x", "func(*dispatch.peer, chan int)", "chan", allowed}},
		{funcParam{}, ErrBadHandler, []string{"dispatch.funcParam.Network_x", "func(func())", allowed}},
		{intParam{}, ErrBadHandler, []string{"dispatch.intParam.Network_x", "func(*dispatch.peer, int)", allowed}},
		{sliceParam{}, ErrBadHandler, []string{"dispatch.sliceParam.Network_x", "[]dispatch.Move", allowed}},
		{returnsError{}, ErrBadHandler, []string{"dispatch.returnsError.Network_x", "func(*dispatch.peer, dispatch.Move) error", "returns 1 value", allowed}},
		{variadic{}, ErrBadHandler, []string{"dispatch.variadic.Network_x", "func(*dispatch.peer, ...dispatch.Move)", "variadic", allowed}},
		{peerAsMessage{}, ErrBadHandler, []string{"dispatch.peerAsMessage.Network_x", "func(*dispatch.peer)", "message parameter has the peer type", allowed}},
		{emptyAction{}, ErrBadHandler, []string{"dispatch.emptyAction.Network_", "no action"}},
		{badCatchAll{}, ErrBadHandler, []string{"dispatch.badCatchAll.Network", "func(*dispatch.peer, string)", allowed}},
		{goodAndBad{}, ErrBadHandler, []string{"dispatch.goodAndBad.Network_bad", "func(*dispatch.peer, *int)", allowed}},
		{noMethods{}, ErrNoHandlers, []string{"dispatch.noMethods", "Network_<action>"}},
		{unexported{}, ErrNoHandlers, []string{"dispatch.unexported"}},
		{ptrReceivers{}, ErrNoHandlers, []string{"(*dispatch.ptrReceivers).Network_move", "pointer receiver", "Register a *dispatch.ptrReceivers"}},
		{(*ptrReceivers)(nil), ErrNoHandlers, []string{"nil *dispatch.ptrReceivers"}},
		{nil, ErrNoHandlers, []string{"Register(nil)"}},
		{42, ErrNoHandlers, []string{"int has no method"}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%T", c.obj), func(t *testing.T) {
			tb := New[*peer](codec.Default())
			err := tb.Register(c.obj)
			wantErr(t, err, c.want, c.parts...)
			if tb.Listeners() != 0 {
				t.Fatalf("a failed Register registered %d listeners", tb.Listeners())
			}
		})
	}
}

// TestRegisterReportsEveryBadMethod: one error line per bad method.
func TestRegisterReportsEveryBadMethod(t *testing.T) {
	tb := New[*peer](codec.Default())
	err := tb.Register(struct {
		intParam
		badCatchAll
	}{})
	wantErr(t, err, ErrBadHandler, "Network_x", "Network has signature")
	if n := strings.Count(err.Error(), "\n") + 1; n != 2 {
		t.Fatalf("%d error lines, want 2: %v", n, err)
	}
}

func TestFailedRegisterRegistersNothing(t *testing.T) {
	ran := false
	tb := New[*peer](codec.Default())
	err := tb.Register(goodAndBad{ran: &ran})
	wantErr(t, err, ErrBadHandler, "Network_bad")
	if tb.Listeners() != 0 {
		t.Fatalf("Listeners() = %d after a failed Register", tb.Listeners())
	}
	n, err := tb.Dispatch(&peer{}, moveBytes(t, "good"))
	if n != 0 || err != nil || ran {
		t.Fatalf("Dispatch after a failed Register: %d, %v, ran=%v; want nothing to run", n, err, ran)
	}
}

func TestHandleMistakes(t *testing.T) {
	allowed := "allowed forms: func(*dispatch.peer, M) and func(M)"
	tb := New[*peer](codec.Default())
	wantErr(t, tb.Handle("x", nil), ErrBadHandler, `Handle("x")`, "nil", allowed)
	wantErr(t, tb.Handle("x", (func(Move))(nil)), ErrBadHandler, `Handle("x")`, "nil func(dispatch.Move)")
	wantErr(t, tb.Handle("x", 3), ErrBadHandler, `Handle("x")`, "signature int", "not a function")
	wantErr(t, tb.Handle("x", func(*peer, Move, int) {}), ErrBadHandler, `Handle("x")`, "3 parameters", allowed)
	wantErr(t, tb.Handle("", func(p peer, m Move) {}), ErrBadHandler, `Handle("")`, "first parameter is dispatch.peer, not the peer type *dispatch.peer")
	wantErr(t, HandleFunc(tb, "x", func(*peer, int) {}), ErrBadHandler, `HandleFunc("x")`, "func(*dispatch.peer, int)", allowed)
	wantErr(t, HandleFunc(tb, "x", func(*peer, *peer) {}), ErrBadHandler, `HandleFunc("x")`, "peer type")
	wantErr(t, HandleFunc(tb, "x", (func(*peer, Move))(nil)), ErrBadHandler, `HandleFunc("x")`, "nil")
	if tb.Listeners() != 0 {
		t.Fatalf("failed Handle calls registered %d listeners", tb.Listeners())
	}
}

type Tagged struct {
	Name string `msgpack:"name"`
	N    int    `json:"n,omitempty"`
}

// TestDecodeErrorRunsNothing: a message that cannot be decoded into one
// handler's type is an error and reaches no handler, before or after it.
func TestDecodeErrorRunsNothing(t *testing.T) {
	var log []string
	tb := New[*peer](codec.Default())
	must(t, tb.Handle("", func(m codec.Msg) { log = append(log, "catch-all") }))
	must(t, HandleFunc(tb, "move", func(_ *peer, m Move) { log = append(log, "typed") }))
	must(t, tb.Handle("move", func(m *Move) { log = append(log, "pointer") }))
	bad := encode(t, codec.Msg{"action": "move", "x": "not a number", "tick": []any{1, 2}})
	n, err := tb.Dispatch(&peer{}, bad)
	wantErr(t, err, ErrBadMessage, `action "move"`, "dispatch.Move", `HandleFunc("move")`)
	if !errors.Is(err, codec.ErrDecode) {
		t.Fatalf("error %q does not wrap codec.ErrDecode", err)
	}
	if n != 0 || len(log) != 0 {
		t.Fatalf("bad message ran %d handlers: %v", n, log)
	}
	// A good message still works, and stale fields are not left over.
	n, err = tb.Dispatch(&peer{}, moveBytes(t, "move"))
	if n != 3 || err != nil {
		t.Fatalf("good message: %d, %v", n, err)
	}
}

// TestValueStorageIsZeroed: a field missing from a message is zero in the
// handler, not the previous message's value; and slices a handler keeps
// are not overwritten by the next message.
func TestValueStorageIsZeroed(t *testing.T) {
	tb := New[*peer](codec.Default())
	var got []Chat
	must(t, HandleFunc(tb, "chat", func(_ *peer, c Chat) { got = append(got, c) }))
	for _, m := range []codec.Msg{
		{"action": "chat", "text": "one", "tags": []string{"a", "b"}},
		{"action": "chat", "tags": []string{"c", "d"}},
		{"action": "chat"},
	} {
		if _, err := tb.Dispatch(&peer{}, encode(t, m)); err != nil {
			t.Fatal(err)
		}
	}
	want := []Chat{{"one", []string{"a", "b"}}, {"", []string{"c", "d"}}, {}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}

// TestPointerHandlersOwnTheirValue: each pointer handler gets its own
// value, for each call.
func TestPointerHandlersOwnTheirValue(t *testing.T) {
	tb := New[*peer](codec.Default())
	var ptrs []*Move
	for range 2 {
		must(t, HandleFunc(tb, "move", func(_ *peer, m *Move) { ptrs = append(ptrs, m); m.X = 99 }))
	}
	for range 2 {
		if _, err := tb.Dispatch(&peer{}, moveBytes(t, "move")); err != nil {
			t.Fatal(err)
		}
	}
	if len(ptrs) != 4 {
		t.Fatalf("%d calls, want 4", len(ptrs))
	}
	for i, p := range ptrs {
		for _, q := range ptrs[:i] {
			if p == q {
				t.Fatalf("two calls got the same *Move")
			}
		}
		if want := (Move{99, -2, 70000, 0.25, -3}); *p != want {
			t.Fatalf("value %d is %+v, want %+v", i, *p, want)
		}
	}
}

// TestMsgSharedWithinDispatch: the Msg handlers of one Dispatch share one
// Msg; the next Dispatch decodes a new one, so a kept Msg is not changed.
func TestMsgSharedWithinDispatch(t *testing.T) {
	tb := New[*peer](codec.Default())
	var kept []codec.Msg
	for range 2 {
		must(t, tb.Handle("chat", func(m codec.Msg) { kept = append(kept, m) }))
	}
	for _, text := range []string{"one", "two"} {
		if _, err := tb.Dispatch(&peer{}, encode(t, codec.Msg{"action": "chat", "text": text})); err != nil {
			t.Fatal(err)
		}
	}
	if reflect.ValueOf(kept[0]).UnsafePointer() != reflect.ValueOf(kept[1]).UnsafePointer() {
		t.Fatal("the Msg handlers of one Dispatch got different maps; documented as shared")
	}
	if kept[0]["text"] != "one" || kept[2]["text"] != "two" {
		t.Fatalf("kept messages %v", kept)
	}
}

func TestPanicIsRecovered(t *testing.T) {
	var log []string
	tb := New[*peer](codec.Default())
	must(t, tb.Handle("move", func(Move) { log = append(log, "first") }))
	must(t, tb.Register(&panicky{}))
	must(t, tb.Handle("move", func(Move) { log = append(log, "after") }))
	n, err := tb.Dispatch(&peer{}, moveBytes(t, "move"))
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("Dispatch error %v (%T), want a *PanicError", err, err)
	}
	if pe.Action != "move" || pe.Value != "boom" || pe.Handler != "(*dispatch.panicky).Network_move" {
		t.Fatalf("PanicError %+v", pe)
	}
	if !strings.Contains(string(pe.Stack), "Network_move") {
		t.Fatalf("stack does not show the handler:\n%s", pe.Stack)
	}
	wantErr(t, err, ErrPanic, "boom", `"move"`)
	if n != 1 || !slices.Equal(log, []string{"first"}) {
		t.Fatalf("ran %d %v; want 1 [first]: dispatch stops at the panic", n, log)
	}
	// A panic with an error value wraps it; the table still works after.
	sentinel := errors.New("sentinel")
	tb2 := New[*peer](codec.Default())
	must(t, HandleFunc(tb2, "move", func(*peer, Move) { panic(fmt.Errorf("wrapped: %w", sentinel)) }))
	for range 2 {
		_, err = tb2.Dispatch(&peer{}, moveBytes(t, "move"))
		if !errors.Is(err, sentinel) || !errors.As(err, &pe) {
			t.Fatalf("error %v does not wrap the panic's error", err)
		}
	}
	// Event recovers too.
	n, err = tb.Event(&peer{}, "move", testMove)
	if !errors.As(err, &pe) || pe.Action != "move" || n != 1 {
		t.Fatalf("Event: %d, %v", n, err)
	}
}

type panicky struct{}

func (*panicky) Network_move(*peer, Move) { panic("boom") }

// TestHostileBytes: inputs that kill msgpack unvalidated are errors.
func TestHostileBytes(t *testing.T) {
	tb := New[*peer](codec.Default())
	var ran int
	must(t, tb.Handle("", func(codec.Msg) { ran++ }))
	must(t, tb.Handle("x", func(Move) { ran++ }))
	must(t, tb.Handle("x", func(*Chat) { ran++ }))
	inputs := map[string][]byte{
		"array32 of 2^32-1":               {0xdd, 0xff, 0xff, 0xff, 0xff},
		"map32 of 2^32-1":                 {0xdf, 0xff, 0xff, 0xff, 0xff},
		"action then array32 (catch-all)": append([]byte{0x82, 0xa6, 'a', 'c', 't', 'i', 'o', 'n', 0xa1, 'y', 0xa1, 'v'}, 0xdd, 0xff, 0xff, 0xff, 0xff),
		"action then map32 (typed)":       append([]byte{0x82, 0xa6, 'a', 'c', 't', 'i', 'o', 'n', 0xa1, 'x', 0xa4, 't', 'a', 'g', 's'}, 0xdf, 0xff, 0xff, 0xff, 0xff),
		"empty":                           {},
		"map without action":              {0x81, 0xa1, 'a', 0x01},
		"action not a string":             {0x81, 0xa6, 'a', 'c', 't', 'i', 'o', 'n', 0x01},
		"truncated":                       {0x82, 0xa6, 'a', 'c', 't', 'i', 'o', 'n', 0xa1, 'x', 0xa4, 't', 'a'},
	}
	for name, in := range inputs {
		n, err := tb.Dispatch(&peer{}, in)
		if err == nil || n != 0 || ran != 0 {
			t.Fatalf("%s: %d, %v, %d ran; want an error and nothing run", name, n, err, ran)
		}
		wantErr(t, err, ErrBadMessage)
	}
}

type eventListener struct{ log []string }

func (e *eventListener) Network_error(p *peer, err error) {
	e.log = append(e.log, "error:"+err.Error())
}
func (e *eventListener) Network_connected(p *peer, c Connected) {
	e.log = append(e.log, fmt.Sprintf("connected:%s:%d", c.Addr, c.Attempt))
}
func (e *eventListener) Network_connectedPtr(c *Connected) {
	e.log = append(e.log, "connectedPtr:"+c.Addr)
}
func (e *eventListener) Network_stringer(s fmt.Stringer) {
	e.log = append(e.log, "stringer:"+s.String())
}
func (e *eventListener) Network(p *peer, m codec.Msg) {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		keys = append(keys, fmt.Sprintf("%s=%v", k, v))
	}
	slices.Sort(keys)
	e.log = append(e.log, "Network:"+strings.Join(keys, ","))
}

// Connected is a struct event.
type Connected struct {
	Addr    string `msgpack:"addr"`
	Attempt int    `json:"attempt"`
	Skip    int    `msgpack:"-"`
	private int
	Embedded
}

// Embedded is flattened into a Connected event's Msg.
type Embedded struct{ Deep bool }

func (c Connected) String() string { return "conn " + c.Addr }

func TestEvent(t *testing.T) {
	ann := &peer{name: "ann"}
	cases := []struct {
		action string
		v      any
		want   []string
	}{
		{"error", errors.New("timeout"), []string{"error:timeout", "Network:action=error,error=timeout"}},
		{"connected", Connected{Addr: "1.2.3.4", Attempt: 2, Skip: 9, private: 1, Embedded: Embedded{true}},
			[]string{"connected:1.2.3.4:2", "Network:Deep=true,action=connected,addr=1.2.3.4,attempt=2"}},
		// A *Connected is not assignable to Connected: the struct handler is skipped.
		{"connected", &Connected{Addr: "5.6.7.8"}, []string{"Network:Deep=false,action=connected,addr=5.6.7.8,attempt=0"}},
		{"connectedPtr", &Connected{Addr: "5.6.7.8"}, []string{"connectedPtr:5.6.7.8", "Network:Deep=false,action=connectedPtr,addr=5.6.7.8,attempt=0"}},
		{"stringer", Connected{Addr: "9"}, []string{"stringer:conn 9", "Network:Deep=false,action=stringer,addr=9,attempt=0"}},
		// A Msg goes as it is, action included.
		{"disconnected", codec.Msg{"action": "disconnected", "reason": "bye"}, []string{"Network:action=disconnected,reason=bye"}},
		{"disconnected", nil, []string{"Network:action=disconnected"}},
		{"socketConnect", 7, []string{"Network:action=socketConnect,value=7"}},
		// An error handler does not get a non-error.
		{"error", "text", []string{"Network:action=error,value=text"}},
	}
	for _, c := range cases {
		tb := New[*peer](codec.Default())
		l := &eventListener{}
		must(t, tb.Register(l))
		n, err := tb.Event(ann, c.action, c.v)
		if err != nil || n != len(c.want) || !slices.Equal(l.log, c.want) {
			t.Fatalf("Event(%s, %#v) = %d, %v, ran %q; want %q", c.action, c.v, n, err, l.log, c.want)
		}
	}
	tb := New[*peer](codec.Default())
	_, err := tb.Event(ann, "", nil)
	wantErr(t, err, ErrEmptyAction)
}

func TestEventToTypedAndAnyHandlers(t *testing.T) {
	tb := New[*peer](codec.Default())
	var gotErr error
	var gotAny any
	var gotMap map[string]any
	var gotMove Move
	must(t, HandleFunc(tb, "error", func(_ *peer, err error) { gotErr = err }))
	must(t, tb.Handle("error", func(v any) { gotAny = v }))
	must(t, tb.Handle("error", func(m map[string]any) { gotMap = m }))
	must(t, HandleFunc(tb, "error", func(_ *peer, m Move) { gotMove = m }))
	e := errors.New("boom")
	n, err := tb.Event(&peer{}, "error", e)
	if n != 3 || err != nil {
		t.Fatalf("Event = %d, %v; want 3 (Move handler skipped), nil", n, err)
	}
	if gotErr != e {
		t.Fatalf("error handler got %v", gotErr)
	}
	if m, ok := gotAny.(codec.Msg); !ok || m["error"] != e || m["action"] != "error" {
		t.Fatalf("any handler got %#v, want the event's Msg", gotAny)
	}
	if gotMap["error"] != e {
		t.Fatalf("map handler got %#v", gotMap)
	}
	if gotMove != (Move{}) {
		t.Fatalf("Move handler ran with %+v", gotMove)
	}
	n, err = tb.Event(&peer{}, "error", testMove)
	if n != 3 || err != nil || gotMove != testMove {
		t.Fatalf("Event(Move) = %d, %v, got %+v", n, err, gotMove)
	}
}

// TestDispatchSkipsEventOnlyHandlers: a peer's message named like an event
// does not reach error (interface) handlers.
func TestDispatchSkipsEventOnlyHandlers(t *testing.T) {
	tb := New[*peer](codec.Default())
	ran := false
	must(t, HandleFunc(tb, "error", func(_ *peer, err error) { ran = true }))
	n, err := tb.Dispatch(&peer{}, encode(t, codec.Msg{"action": "error", "error": "x"}))
	if n != 0 || err != nil || ran {
		t.Fatalf("Dispatch = %d, %v, ran=%v; want 0, nil, false", n, err, ran)
	}
}

func TestReserve(t *testing.T) {
	tb := New[*peer](codec.Default())
	ran := 0
	must(t, tb.Handle("disconnected", func(codec.Msg) { ran++ }))
	must(t, tb.Handle("", func(codec.Msg) { ran++ }))
	tb.Reserve("connected", "disconnected")
	for _, a := range []string{"disconnected", "connected"} {
		n, err := tb.Dispatch(&peer{}, encode(t, codec.Msg{"action": a}))
		wantErr(t, err, ErrReserved, a)
		if !errors.Is(err, ErrBadMessage) || n != 0 || ran != 0 {
			t.Fatalf("reserved %s: %d, %v, ran %d", a, n, err, ran)
		}
	}
	if n, err := tb.Event(&peer{}, "disconnected", nil); n != 2 || err != nil {
		t.Fatalf("Event of a reserved action = %d, %v; want 2, nil", n, err)
	}
}

// TestReentrantDispatch: a handler that dispatches another message does not
// disturb the values of the Dispatch it runs in.
func TestReentrantDispatch(t *testing.T) {
	tb := New[*peer](codec.Default())
	inner := encode(t, &moveWire{Action: "move", Move: Move{X: 7}})
	var got []Move
	depth := 0
	must(t, HandleFunc(tb, "move", func(p *peer, m Move) {
		got = append(got, m)
		if depth == 0 {
			depth++
			if _, err := tb.Dispatch(p, inner); err != nil {
				t.Error(err)
			}
		}
	}))
	must(t, tb.Handle("move", func(m Move) { got = append(got, m) }))
	if n, err := tb.Dispatch(&peer{}, moveBytes(t, "move")); n != 2 || err != nil {
		t.Fatalf("Dispatch = %d, %v", n, err)
	}
	want := []Move{testMove, {X: 7}, {X: 7}, testMove}
	if !slices.Equal(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

// TestRegisterDuringDispatch: a listener registered by a handler receives
// from the next Dispatch.
func TestRegisterDuringDispatch(t *testing.T) {
	tb := New[*peer](codec.Default())
	var log []string
	must(t, tb.Handle("move", func(Move) {
		log = append(log, "first")
		if tb.Listeners() == 1 {
			must(t, tb.Handle("move", func(Move) { log = append(log, "second") }))
		}
	}))
	for range 2 {
		if _, err := tb.Dispatch(&peer{}, moveBytes(t, "move")); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(log, []string{"first", "first", "second"}) {
		t.Fatalf("ran %v", log)
	}
}

func TestJSONCodec(t *testing.T) {
	c := codec.JSON(codec.Limits{})
	tb := New[*peer](c)
	var mv Move
	var msg codec.Msg
	must(t, HandleFunc(tb, "move", func(_ *peer, m Move) { mv = m }))
	must(t, tb.Handle("", func(m codec.Msg) { msg = m }))
	data, err := c.Append(nil, &moveWire{Action: "move", Move: testMove})
	must(t, err)
	if n, err := tb.Dispatch(&peer{}, data); n != 2 || err != nil {
		t.Fatalf("Dispatch = %d, %v", n, err)
	}
	if mv != testMove || msg.Action() != "move" {
		t.Fatalf("got %+v and %v", mv, msg)
	}
	if _, err := tb.Dispatch(&peer{}, []byte(`{"action":`)); !errors.Is(err, ErrBadMessage) {
		t.Fatalf("truncated JSON: %v", err)
	}
}

// TestValuePeerType: P may be a non-pointer type, and an interface.
func TestValuePeerType(t *testing.T) {
	tb := New[int](codec.Default())
	var got int
	must(t, tb.Handle("move", func(id int, m Move) { got = id }))
	if _, err := tb.Dispatch(42, moveBytes(t, "move")); err != nil || got != 42 {
		t.Fatalf("got %d, %v", got, err)
	}
	ti := New[fmt.Stringer](codec.Default())
	var gotS fmt.Stringer = Connected{}
	must(t, ti.Handle("move", func(s fmt.Stringer, m Move) { gotS = s }))
	if _, err := ti.Dispatch(nil, moveBytes(t, "move")); err != nil || gotS != nil {
		t.Fatalf("nil interface peer: got %v, %v", gotS, err)
	}
}

func TestEventMsg(t *testing.T) {
	type inner struct{ Z int }
	type withPtr struct {
		*inner
		Action string `msgpack:"action"`
		N      namedMap
	}
	m := EventMsg("ev", withPtr{inner: &inner{Z: 3}, Action: "ignored"})
	if m["Z"] != 3 || m["action"] != "ev" || len(m) != 3 {
		t.Fatalf("EventMsg = %v", m)
	}
	if m := EventMsg("ev", withPtr{}); m["Z"] != nil || len(m) != 2 {
		t.Fatalf("nil embedded pointer: %v", m)
	}
	nm := namedMap{"k": 1}
	if m := EventMsg("ev", nm); m["k"] != 1 || len(m) != 1 {
		t.Fatalf("named map: %v", m)
	}
	if m := EventMsg("ev", (*Connected)(nil)); len(m) != 1 || m["action"] != "ev" {
		t.Fatalf("nil pointer: %v", m)
	}
}

func TestHandleFuncZeroAllocs(t *testing.T) {
	skipAllocsUnderRace(t)
	tb := New[*peer](codec.Default())
	var sum float64
	must(t, HandleFunc(tb, "move", func(_ *peer, m Move) { sum += float64(m.X) + m.Speed }))
	data := moveBytes(t, "move")
	p := &peer{}
	n := testing.AllocsPerRun(1000, func() {
		if _, err := tb.Dispatch(p, data); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Fatalf("HandleFunc Dispatch of a numeric struct: %v allocations, want 0", n)
	}
	if sum == 0 {
		t.Fatal("handler did not run")
	}
	// An unknown action allocates nothing either.
	unknown := moveBytes(t, "nobody")
	if n := testing.AllocsPerRun(1000, func() { _, _ = tb.Dispatch(p, unknown) }); n != 0 {
		t.Fatalf("unknown action: %v allocations, want 0", n)
	}
}

// TestDispatchKeepsNoReference: after Dispatch returns, the Table holds no
// reference to the message's values (a pointer handler's value is freed
// once the handler drops it).
func TestDispatchKeepsNoReference(t *testing.T) {
	tb := New[*peer](codec.Default())
	var w weak.Pointer[Chat]
	must(t, HandleFunc(tb, "chat", func(_ *peer, c *Chat) { w = weak.Make(c) }))
	if _, err := tb.Dispatch(&peer{}, encode(t, codec.Msg{"action": "chat", "text": "hello"})); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	if w.Value() != nil {
		t.Fatal("the Table still references the last message's value")
	}
	runtime.KeepAlive(tb)
}
