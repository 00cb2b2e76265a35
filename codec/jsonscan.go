package codec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// This file walks JSON text without decoding it, enforcing the limits
// before encoding/json sees the bytes, and finds the top-level "action".
// It checks the structure (brackets, strings, commas, colons, literals) but
// leaves the fine points (number syntax, escapes, UTF-8) to encoding/json.
// Nothing here allocates unless an error is returned or a key contains an
// escape.

type jsScanner struct {
	data     []byte
	maxDepth int
	maxElems int
	elems    int
}

// jsEnvelope describes the top level of a JSON message.
type jsEnvelope struct {
	isObject bool
	first    int // offset of the first member's key
	actKey   int // first "action" member: offset of its key,
	actVal   int // of its value,
	actEnd   int // and after its value
	actions  int // how many top-level keys are exactly "action"
	folded   int // how many top-level keys equal "action" ignoring case
	// The first top-level key that is exactly "Action" (an untagged Go
	// field named Action encodes so): offsets of its key, value and end.
	capKey, capVal, capEnd, capActions int
}

func newJSScanner(data []byte, lim Limits) jsScanner {
	return jsScanner{data: data, maxDepth: lim.MaxDepth, maxElems: lim.MaxElements}
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (s *jsScanner) ws(i int) int {
	for i < len(s.data) && isJSONSpace(s.data[i]) {
		i++
	}
	return i
}

func (s *jsScanner) truncated(i int, what string) error {
	if i == 0 {
		return errorf(ErrTruncated, "codec: empty input")
	}
	return errorf(ErrTruncated, "codec: JSON input ends at offset %d inside %s", i, what)
}

func (s *jsScanner) unexpected(i int, want string) error {
	if i >= len(s.data) {
		return s.truncated(i, want)
	}
	return errorf(ErrInvalid, "codec: JSON byte %s at offset %d, want %s", jsByte(s.data[i]), i, want)
}

// jsByte shows c as 'c' if it is printable ASCII, else in hex.
func jsByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	return fmt.Sprintf("%#02x", c)
}

// top walks the whole input, which must hold exactly one value, and
// describes its top level.
func (s *jsScanner) top() (jsEnvelope, error) {
	var env jsEnvelope
	i := s.ws(0)
	if i >= len(s.data) {
		return env, s.truncated(i, "a value")
	}
	var end int
	var err error
	if s.data[i] == '{' {
		env.isObject = true
		end, err = s.object(i, 0, &env)
	} else {
		end, err = s.value(i, 0)
	}
	if err != nil {
		return env, err
	}
	if end = s.ws(end); end != len(s.data) {
		return env, errorf(ErrInvalid, "codec: %d trailing bytes after the top-level JSON value", len(s.data)-end)
	}
	return env, nil
}

// value walks the value at data[i] (no leading space) at nesting depth
// depth and returns the offset after it.
func (s *jsScanner) value(i, depth int) (int, error) {
	if i >= len(s.data) {
		return 0, s.truncated(i, "a value")
	}
	switch c := s.data[i]; c {
	case '{':
		return s.object(i, depth, nil)
	case '[':
		return s.array(i, depth)
	case '"':
		return s.str(i)
	case 't':
		return s.literal(i, "true")
	case 'f':
		return s.literal(i, "false")
	case 'n':
		return s.literal(i, "null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return s.number(i), nil
		}
		return 0, s.unexpected(i, "a value")
	}
}

func (s *jsScanner) enter(i, depth int) error {
	if depth >= s.maxDepth {
		return errorf(ErrTooDeep, "codec: JSON %s at offset %d nests deeper than MaxDepth %d", jsContainerName(s.data[i]), i, s.maxDepth)
	}
	return nil
}

func jsContainerName(c byte) string {
	if c == '[' {
		return "array"
	}
	return "object"
}

func (s *jsScanner) count(i int) error {
	s.elems++
	if s.elems > s.maxElems {
		return errorf(ErrTooManyElements, "codec: JSON element at offset %d is one more than MaxElements %d", i, s.maxElems)
	}
	return nil
}

// object walks the object at data[i]; with env (the top level) it also
// records the "action" members.
func (s *jsScanner) object(i, depth int, env *jsEnvelope) (int, error) {
	if err := s.enter(i, depth); err != nil {
		return 0, err
	}
	j := s.ws(i + 1)
	if env != nil {
		env.first = j
	}
	if j < len(s.data) && s.data[j] == '}' {
		return j + 1, nil
	}
	for {
		if j >= len(s.data) || s.data[j] != '"' {
			return 0, s.unexpected(j, "a string key")
		}
		if err := s.count(j); err != nil {
			return 0, err
		}
		key := j
		keyEnd, err := s.str(j)
		if err != nil {
			return 0, err
		}
		j = s.ws(keyEnd)
		if j >= len(s.data) || s.data[j] != ':' {
			return 0, s.unexpected(j, "':'")
		}
		val := s.ws(j + 1)
		if j, err = s.value(val, depth+1); err != nil {
			return 0, err
		}
		if env != nil {
			exact, folded := jsKeyIsAction(s.data[key:keyEnd])
			if exact {
				if env.actions == 0 {
					env.actKey, env.actVal, env.actEnd = key, val, j
				}
				env.actions++
			}
			if folded {
				env.folded++
			}
			if !exact && string(s.data[key:keyEnd]) == `"`+untaggedKey+`"` {
				if env.capActions == 0 {
					env.capKey, env.capVal, env.capEnd = key, val, j
				}
				env.capActions++
			}
		}
		j = s.ws(j)
		if j >= len(s.data) {
			return 0, s.truncated(j, "an object")
		}
		switch s.data[j] {
		case ',':
			j = s.ws(j + 1)
		case '}':
			return j + 1, nil
		default:
			return 0, s.unexpected(j, "',' or '}'")
		}
	}
}

func (s *jsScanner) array(i, depth int) (int, error) {
	if err := s.enter(i, depth); err != nil {
		return 0, err
	}
	j := s.ws(i + 1)
	if j < len(s.data) && s.data[j] == ']' {
		return j + 1, nil
	}
	for {
		if err := s.count(j); err != nil {
			return 0, err
		}
		var err error
		if j, err = s.value(j, depth+1); err != nil {
			return 0, err
		}
		j = s.ws(j)
		if j >= len(s.data) {
			return 0, s.truncated(j, "an array")
		}
		switch s.data[j] {
		case ',':
			j = s.ws(j + 1)
		case ']':
			return j + 1, nil
		default:
			return 0, s.unexpected(j, "',' or ']'")
		}
	}
}

// str walks the string whose opening quote is at data[i].
func (s *jsScanner) str(i int) (int, error) {
	for j := i + 1; j < len(s.data); j++ {
		switch c := s.data[j]; {
		case c == '"':
			return j + 1, nil
		case c == '\\':
			j++ // the escaped byte; \uXXXX's digits are ordinary bytes
		case c < 0x20:
			return 0, errorf(ErrInvalid, "codec: JSON control byte %#x in string at offset %d", c, j)
		}
	}
	return 0, s.truncated(len(s.data), "a string")
}

func (s *jsScanner) literal(i int, lit string) (int, error) {
	end := i + len(lit)
	if end > len(s.data) {
		if strings.HasPrefix(lit, string(s.data[i:])) {
			return 0, s.truncated(len(s.data), lit)
		}
	} else if string(s.data[i:end]) == lit {
		return end, nil
	}
	return 0, errorf(ErrInvalid, "codec: JSON at offset %d is not %s", i, lit)
}

// number skips the bytes a JSON number can hold; encoding/json checks the
// syntax.
func (s *jsScanner) number(i int) int {
	for i < len(s.data) {
		c := s.data[i]
		if (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E' {
			break
		}
		i++
	}
	return i
}

// jsKeyIsAction reports whether the quoted JSON key equals "action", and
// whether it does ignoring case (as encoding/json matches struct fields).
func jsKeyIsAction(quoted []byte) (exact, folded bool) {
	raw := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw) == ActionKey, bytes.EqualFold(raw, []byte(ActionKey))
	}
	var k string
	if json.Unmarshal(quoted, &k) != nil {
		return false, false
	}
	return k == ActionKey, strings.EqualFold(k, ActionKey)
}

// jsString returns the value of the quoted JSON string (which str has
// walked).
func jsString(quoted []byte) (string, error) {
	raw := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(raw, '\\') < 0 && isASCII(raw) {
		return string(raw), nil
	}
	var v string
	if err := json.Unmarshal(quoted, &v); err != nil {
		return "", wrapf(ErrInvalid, err, "codec: JSON string")
	}
	return v, nil
}

// isASCII reports whether b is ASCII, which encoding/json would decode
// unchanged; other bytes (invalid UTF-8 becomes U+FFFD) take the slow path.
func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}
