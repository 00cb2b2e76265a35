package codec

import (
	"errors"
	"io"
	"reflect"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

// Codec encodes and decodes pumpnet messages. Implementations are safe for
// concurrent use.
type Codec interface {
	// Name returns "msgpack" or "json".
	Name() string
	// Append encodes v as a message and appends it to dst. v is a Msg, a
	// map with string keys, or a struct (or pointer to one) with an
	// "action" field; its action must be a non-empty string. The encoding
	// puts the action first; map keys are sorted. On error dst is returned
	// with its length unchanged.
	Append(dst []byte, v any) ([]byte, error)
	// Decode checks data against the codec's limits and only then decodes
	// it into v: a *Msg, *any, pointer to a struct, or any pointer the
	// underlying library can decode into. Decode does not require an
	// action, but rejects a message whose top level holds "action" twice.
	Decode(data []byte, v any) error
	// Action returns the action of an encoded message without decoding the
	// other values.
	Action(data []byte) (string, error)
}

// Msgpack returns the msgpack codec (github.com/vmihailenco/msgpack/v5)
// with limits lim; zero fields of lim mean the defaults. It is pumpnet's
// default codec. The returned Codec is safe for concurrent use.
func Msgpack(lim Limits) Codec {
	return &msgpackCodec{lim: lim.withDefaults()}
}

var defaultCodec = Msgpack(Limits{})

// Default returns the msgpack codec with DefaultLimits. It is safe for
// concurrent use.
func Default() Codec { return defaultCodec }

type msgpackCodec struct {
	lim Limits
}

func (c *msgpackCodec) Name() string { return "msgpack" }

// appendWriter is an io.Writer (and io.ByteWriter) that appends to b.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func (w *appendWriter) WriteByte(c byte) error {
	w.b = append(w.b, c)
	return nil
}

// mpEncoder is a pooled msgpack encoder bound to its own appendWriter.
type mpEncoder struct {
	w   appendWriter
	enc *msgpack.Encoder
}

var mpEncoders = sync.Pool{New: func() any {
	e := &mpEncoder{}
	e.enc = msgpack.NewEncoder(&e.w)
	e.enc.SetSortMapKeys(true)
	e.enc.UseCompactInts(true)
	e.enc.SetCustomStructTag("json")
	return e
}}

func (c *msgpackCodec) Append(dst []byte, v any) ([]byte, error) {
	start := len(dst)
	e := mpEncoders.Get().(*mpEncoder)
	e.w.b = dst
	err := e.enc.Encode(v)
	out := e.w.b
	e.w.b = nil
	mpEncoders.Put(e)
	if err != nil {
		return dst, wrapf(ErrEncode, err, "codec: msgpack: encode %T", v)
	}
	out, err = c.envelope(out, start, v)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// envelope checks and fixes the message just encoded at out[start:]: within
// limits, a map with exactly one non-empty string action, which it moves to
// the front, and no risky timestamps.
func (c *msgpackCodec) envelope(out []byte, start int, v any) ([]byte, error) {
	msg := out[start:]
	if err := checkSize(len(msg), c.lim); err != nil {
		return nil, err
	}
	s := newMPScanner(msg, c.lim)
	env, err := s.top()
	if err != nil {
		return nil, err
	}
	if env.actions == 0 && env.capActions == 1 {
		if _, ok := untaggedAction(v); ok {
			h, _ := mpHeadAt(msg, env.capKey) // the scan walked it
			msg[h.next] = ActionKey[0]        // "Action" -> "action"
			env.actKey, env.actVal, env.actEnd = env.capKey, env.capVal, env.capEnd
			env.actions = 1
		}
	}
	if err := mpCheckEnvelope(msg, env, v); err != nil {
		return nil, err
	}
	if env.actKey != env.first {
		rotateRight(msg[env.first:env.actEnd], env.actEnd-env.actKey)
	}
	if s.risky == 0 {
		return out, nil
	}
	fixed, err := canonicalTimes(nil, msg, c.lim)
	if err != nil {
		return nil, err
	}
	if err := checkSize(len(fixed), c.lim); err != nil {
		return nil, err
	}
	return append(out[:start], fixed...), nil
}

// mpCheckEnvelope checks that an encoded v is a map with exactly one
// "action" whose value is a non-empty str.
func mpCheckEnvelope(msg []byte, env mpEnvelope, v any) error {
	if !env.isMap {
		return errorf(ErrNoAction, "codec: %T encodes as a msgpack %s, not a map with an action", v, mpTypeName(msg[0]))
	}
	if env.actions == 0 {
		return errorf(ErrNoAction, "codec: %T has no %q key", v, ActionKey)
	}
	if env.actions > 1 {
		return errorf(ErrBadAction, "codec: %T has %d %q keys", v, env.actions, ActionKey)
	}
	_, err := mpActionValue(msg, env.actVal)
	return err
}

func (c *msgpackCodec) Action(data []byte) (string, error) {
	b, err := mpAction(data, c.lim)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// sliceReader reads a byte slice; it is what msgpack's Decoder reads from
// (it implements io.ByteScanner, so msgpack adds no buffering of its own).
type sliceReader struct {
	b []byte
	i int
}

func (r *sliceReader) Read(p []byte) (int, error) {
	if r.i >= len(r.b) {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := copy(p, r.b[r.i:])
	r.i += n
	return n, nil
}

func (r *sliceReader) ReadByte() (byte, error) {
	if r.i >= len(r.b) {
		return 0, io.EOF
	}
	c := r.b[r.i]
	r.i++
	return c, nil
}

var errUnread = errors.New("codec: UnreadByte at start of input")

func (r *sliceReader) UnreadByte() error {
	if r.i <= 0 {
		return errUnread
	}
	r.i--
	return nil
}

// mpDecoder is a pooled msgpack decoder bound to its own sliceReader.
type mpDecoder struct {
	r   sliceReader
	dec *msgpack.Decoder
	// scratch holds a message with its action entry cut out
	// (mpDecodeSpliced), reused.
	scratch []byte
}

var mpDecoders = sync.Pool{New: func() any {
	d := &mpDecoder{}
	d.dec = msgpack.NewDecoder(&d.r)
	d.dec.UseLooseInterfaceDecoding(true)
	d.dec.SetCustomStructTag("json")
	return d
}}

func (c *msgpackCodec) Decode(data []byte, v any) error {
	if err := checkSize(len(data), c.lim); err != nil {
		return err
	}
	s := newMPScanner(data, c.lim)
	env, err := s.top()
	if err != nil {
		return err
	}
	if env.actions > 1 {
		return errorf(ErrBadAction, "codec: message has %d %q keys", env.actions, ActionKey)
	}
	if s.risky == 0 && env.actions == 1 && len(data) <= maxSplice {
		if sv, i, ok := structAction(v); ok {
			if act, err := mpActionValue(data, env.actVal); err == nil {
				if done, err := mpDecodeSpliced(data, env, v); done {
					if err == nil {
						sv.Field(i).SetString(internAction(act))
					}
					return err
				}
			}
		}
	}
	orig := data
	if s.risky > 0 {
		if data, err = canonicalTimes(make([]byte, 0, len(data)+s.risky*(timestamp96Len-6)), data, c.lim); err != nil {
			return err
		}
	}
	if err := mpDecode(data, v); err != nil {
		return err
	}
	if env.actions == 1 {
		// msgpack matches keys to field names exactly: "action" does not
		// fill an untagged field named Action by itself.
		if act, err := mpActionValue(orig, env.actVal); err == nil {
			setUntaggedAction(v, act)
		}
	}
	return nil
}

// unwrapTarget returns the pointer an *any holds, if it holds one, so that
// Decode fills it as encoding/json's Unmarshal does; otherwise v.
func unwrapTarget(v any) any {
	if p, ok := v.(*any); ok && p != nil && *p != nil {
		if rv := reflect.ValueOf(*p); rv.Kind() == reflect.Pointer && !rv.IsNil() {
			return *p
		}
	}
	return v
}

// mpDecodeSpliced decodes validated data without its action entry into
// v (a pointer to a struct), reporting false if the entry could not be cut
// out (then nothing was decoded). The cut message lives in the decoder's
// scratch buffer while the decoder decodes it.
func mpDecodeSpliced(data []byte, env mpEnvelope, v any) (bool, error) {
	d := mpDecoders.Get().(*mpDecoder)
	spliced, ok := spliceAction(d.scratch, data, env)
	if cap(spliced) <= maxSplice {
		d.scratch = spliced[:0]
	}
	if !ok {
		mpDecoders.Put(d)
		return false, nil
	}
	return true, mpDecodeWith(d, spliced, v)
}

// mpDecode decodes validated data into v with a pooled decoder.
func mpDecode(data []byte, v any) error {
	return mpDecodeWith(mpDecoders.Get().(*mpDecoder), data, v)
}

// mpDecodeWith decodes with d, a decoder taken from the pool, and puts it
// back (unless msgpack panicked).
func mpDecodeWith(d *mpDecoder, data []byte, v any) (err error) {
	d.r = sliceReader{b: data}
	d.dec.ResetReader(&d.r)
	defer func() {
		// msgpack v5.4.1 panics on one validated input that fuzzing found:
		// a nil for a time.Time held by value (reflect.Value.IsNil on a
		// struct; TestNilIntoValueWithCustomDecoder). Report any panic as
		// ErrDecode and drop the decoder.
		if p := recover(); p != nil {
			err = errorf(ErrDecode, "codec: msgpack panicked decoding into %T: %v", v, p)
			return
		}
		d.r = sliceReader{}
		mpDecoders.Put(d)
	}()
	switch p := unwrapTarget(v).(type) {
	case *Msg:
		err = mpDecodeMsg(d.dec, (*map[string]any)(p))
	case *map[string]any:
		err = mpDecodeMsg(d.dec, p)
	case *any:
		if p == nil {
			return errorf(ErrDecode, "codec: Decode into nil %T", v)
		}
		*p, err = mpDecodeAny(d.dec)
	default:
		err = d.dec.Decode(p)
	}
	if err != nil {
		if _, ok := err.(*codecError); !ok {
			err = wrapf(ErrDecode, err, "codec: msgpack: decode into %T", v)
		}
	}
	return err
}
