package codec

// skipLimits bounds ActionBytes' walk over the values before "action".
// Skipping allocates nothing and each step consumes input, so only the
// depth needs a bound (it bounds the recursion).
var skipLimits = Limits{MaxSize: int(^uint(0) >> 1), MaxDepth: MaxDepthLimit, MaxElements: int(^uint(0) >> 1)}

// ActionBytes returns the action of a msgpack-encoded message: the str value
// of the first top-level key "action". The result aliases data (nothing is
// copied or allocated), so a dispatcher can look up handlers[string(b)]
// without allocating. It is safe for concurrent use.
//
// ActionBytes walks the top-level map only as far as the action, checking
// every length it skips over against the bytes left; it does not validate
// the rest of the message (Decode does). The key and the value must be
// msgpack str. A message that is not a map, or has no action, returns an
// error wrapping ErrNoAction; an action that is not a string, or is empty,
// one wrapping ErrBadAction.
func ActionBytes(data []byte) ([]byte, error) {
	return mpAction(data, skipLimits)
}

// mpAction is ActionBytes with limits: lim must have its defaults applied.
func mpAction(data []byte, lim Limits) ([]byte, error) {
	if err := checkSize(len(data), lim); err != nil {
		return nil, err
	}
	h, err := mpHeadAt(data, 0)
	if err != nil {
		return nil, err
	}
	if h.kind != mpMap {
		return nil, errorf(ErrNoAction, "codec: message is a msgpack %s, not a map", mpTypeName(data[0]))
	}
	s := newMPScanner(data, lim)
	j, err := s.enter(0, h, 0)
	if err != nil {
		return nil, err
	}
	for range h.n {
		k, err := mpHeadAt(data, j)
		if err != nil {
			return nil, err
		}
		if k.kind == mpStr && k.n == len(ActionKey) && string(data[k.next:k.next+k.n]) == ActionKey {
			return mpActionValue(data, k.next+k.n)
		}
		if j, err = s.value(j, 1); err != nil {
			return nil, err
		}
		if j, err = s.value(j, 1); err != nil {
			return nil, err
		}
	}
	return nil, errorf(ErrNoAction, "codec: message has no %q key", ActionKey)
}

// mpActionValue returns the non-empty str at data[i].
func mpActionValue(data []byte, i int) ([]byte, error) {
	v, err := mpHeadAt(data, i)
	if err != nil {
		return nil, err
	}
	if v.kind != mpStr {
		return nil, errorf(ErrBadAction, "codec: action is a msgpack %s, not a string", mpTypeName(data[i]))
	}
	if v.n == 0 {
		return nil, errorf(ErrBadAction, "codec: action is empty")
	}
	return data[v.next : v.next+v.n], nil
}

// rotateRight rotates b right by k bytes in place: b[len(b)-k:] moves to the
// front. It allocates nothing.
func rotateRight(b []byte, k int) {
	if k <= 0 || k >= len(b) {
		return
	}
	reverse(b)
	reverse(b[:k])
	reverse(b[k:])
}

func reverse(b []byte) {
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
}
