package codec

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
)

// JSON returns the JSON codec (encoding/json) with limits lim; zero fields
// of lim mean the defaults. It is the second implementation, for tools and
// for clients in other languages. The returned Codec is safe for concurrent
// use.
func JSON(lim Limits) Codec {
	return &jsonCodec{lim: lim.withDefaults()}
}

type jsonCodec struct {
	lim Limits
}

func (c *jsonCodec) Name() string { return "json" }

// jsEncoder is a pooled json.Encoder bound to its own appendWriter.
type jsEncoder struct {
	w   appendWriter
	enc *json.Encoder
}

var jsEncoders = sync.Pool{New: func() any {
	e := &jsEncoder{}
	e.enc = json.NewEncoder(&e.w)
	e.enc.SetEscapeHTML(false)
	return e
}}

func (c *jsonCodec) Append(dst []byte, v any) ([]byte, error) {
	start := len(dst)
	e := jsEncoders.Get().(*jsEncoder)
	e.w.b = dst
	err := e.enc.Encode(v)
	out := e.w.b
	e.w.b = nil
	jsEncoders.Put(e) // Encode's errors are not sticky: our writer never fails
	if err != nil {
		return dst, wrapf(ErrEncode, err, "codec: json: encode %T", v)
	}
	out = out[:len(out)-1] // Encode ends the value with '\n'
	msg := out[start:]
	if err := checkSize(len(msg), c.lim); err != nil {
		return dst, err
	}
	s := newJSScanner(msg, c.lim)
	env, err := s.top()
	if err != nil {
		return dst, err
	}
	if env.actions == 0 && env.capActions == 1 && env.folded == 1 {
		if _, ok := untaggedAction(v); ok {
			msg[env.capKey+1] = ActionKey[0] // "Action" -> "action"
			env.actKey, env.actVal, env.actEnd = env.capKey, env.capVal, env.capEnd
			env.actions = 1
		}
	}
	if err := jsCheckEnvelope(msg, env, v); err != nil {
		return dst, err
	}
	if env.actKey != env.first {
		// encoding/json writes compact JSON: the members are
		// "m1,...,mk-1,mk" with mk the action; make it "mk,m1,...,mk-1".
		n := env.actEnd - env.actKey
		rotateRight(msg[env.first:env.actEnd], n)
		rotateRight(msg[env.first+n:env.actEnd], 1)
	}
	return out, nil
}

func jsCheckEnvelope(msg []byte, env jsEnvelope, v any) error {
	if !env.isObject {
		return errorf(ErrNoAction, "codec: %T encodes as JSON %q..., not an object with an action", v, firstBytes(msg))
	}
	if env.actions == 0 {
		return errorf(ErrNoAction, "codec: %T has no %q key", v, ActionKey)
	}
	if env.folded > 1 {
		return errorf(ErrBadAction, "codec: %T has %d keys that match %q ignoring case", v, env.folded, ActionKey)
	}
	_, err := jsActionValue(msg, env)
	return err
}

func firstBytes(b []byte) []byte {
	return b[:min(len(b), 16)]
}

// jsActionValue returns the action of a message whose top level env
// describes.
func jsActionValue(msg []byte, env jsEnvelope) (string, error) {
	raw := msg[env.actVal:env.actEnd]
	if raw[0] != '"' {
		return "", errorf(ErrBadAction, "codec: action is JSON %q, not a string", firstBytes(raw))
	}
	a, err := jsString(raw)
	if err != nil {
		return "", err
	}
	if a == "" {
		return "", errorf(ErrBadAction, "codec: action is empty")
	}
	return a, nil
}

// Action returns the message's action. Unlike the msgpack codec's, it
// walks the whole message (within limits) before answering, and it rejects
// a message with more than one key that matches "action" ignoring case.
func (c *jsonCodec) Action(data []byte) (string, error) {
	env, err := c.scan(data)
	if err != nil {
		return "", err
	}
	if !env.isObject {
		return "", errorf(ErrNoAction, "codec: message is JSON %q..., not an object", firstBytes(bytes.TrimLeft(data, " \t\r\n")))
	}
	if env.actions == 0 {
		return "", errorf(ErrNoAction, "codec: message has no %q key", ActionKey)
	}
	return jsActionValue(data, env)
}

// scan checks data against the limits and rejects ambiguous actions.
func (c *jsonCodec) scan(data []byte) (jsEnvelope, error) {
	if err := checkSize(len(data), c.lim); err != nil {
		return jsEnvelope{}, err
	}
	s := newJSScanner(data, c.lim)
	env, err := s.top()
	if err != nil {
		return env, err
	}
	if env.folded > 1 {
		return env, errorf(ErrBadAction, "codec: message has %d keys that match %q ignoring case", env.folded, ActionKey)
	}
	return env, nil
}

func (c *jsonCodec) Decode(data []byte, v any) error {
	if _, err := c.scan(data); err != nil {
		return err
	}
	var err error
	switch p := unwrapTarget(v).(type) {
	case *Msg:
		err = jsDecodeMsg(data, (*map[string]any)(p))
	case *map[string]any:
		err = jsDecodeMsg(data, p)
	case *any:
		if p == nil {
			return errorf(ErrDecode, "codec: Decode into nil %T", v)
		}
		*p, err = jsDecodeAny(data)
	default:
		err = json.Unmarshal(data, p)
	}
	if err != nil {
		if _, ok := err.(*codecError); !ok {
			err = wrapf(ErrDecode, err, "codec: json: decode into %T", v)
		}
	}
	return err
}

// jsDecodeAny decodes data with the documented Go types.
func jsDecodeAny(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return jsNormalize(v)
}

// jsDecodeMsg decodes an object (or null) into *m, reusing *m if it is not
// nil.
func jsDecodeMsg(data []byte, m *map[string]any) error {
	if m == nil {
		return errorf(ErrDecode, "codec: Decode into nil *Msg")
	}
	v, err := jsDecodeAny(data)
	if err != nil {
		return err
	}
	switch v := v.(type) {
	case nil:
		*m = nil
	case map[string]any:
		if *m == nil {
			*m = v
			return nil
		}
		clear(*m)
		for k, x := range v {
			(*m)[k] = x
		}
	default:
		return errorf(ErrDecode, "codec: cannot decode a JSON %T into a Msg", v)
	}
	return nil
}

// jsNormalize replaces json.Number values, in place, by int64, uint64 or
// float64 (see the package documentation).
func jsNormalize(v any) (any, error) {
	var err error
	switch v := v.(type) {
	case json.Number:
		return jsNumber(v)
	case []any:
		for i := range v {
			if v[i], err = jsNormalize(v[i]); err != nil {
				return nil, err
			}
		}
	case map[string]any:
		for k, x := range v {
			if v[k], err = jsNormalize(x); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

// jsNumber converts a JSON number: an integer (no '.', 'e' or 'E') that fits
// int64 is an int64, one that fits uint64 a uint64, anything else a float64.
func jsNumber(n json.Number) (any, error) {
	s := string(n)
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return u, nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, wrapf(ErrDecode, err, "codec: JSON number %.32s", s)
	}
	return f, nil
}

// ValidateJSON checks that data is exactly one JSON value within lim (zero
// fields mean the defaults): len(data) <= MaxSize, nesting depth <=
// MaxDepth, total array elements plus object members <= MaxElements, and
// balanced, well-delimited structure. It leaves number syntax, escapes and
// UTF-8 to encoding/json. It allocates nothing unless it returns an error
// (or an object key holds an escape), and is safe for concurrent use.
func ValidateJSON(data []byte, lim Limits) error {
	lim = lim.withDefaults()
	if err := checkSize(len(data), lim); err != nil {
		return err
	}
	s := newJSScanner(data, lim)
	_, err := s.top()
	return err
}
