package discovery

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of a Record and of its TXT encoding.
const (
	// MaxInstanceLen is the longest Record.Instance in bytes (one DNS label).
	MaxInstanceLen = 63
	// MaxNameLen is the longest Record.Name in bytes; TXT cuts longer names.
	MaxNameLen = 63
	// MaxTXTLen bounds the TXT strings of a record: their lengths plus one
	// length byte each stay below it (DESIGN decision 4). TXT never produces
	// more than 280 bytes; ParseTXT refuses MaxTXTLen or more.
	MaxTXTLen = 400
)

// TXT keys. DNS-SD keys are case-insensitive; TXT writes them in lower case.
const (
	keyID      = "id" // key fingerprint, 64 lowercase hex digits
	keyVersion = "v"  // protocol version, decimal 0..65535
	keySeats   = "s"  // seats open, decimal 0..255
	keyPlayers = "p"  // players present, decimal 0..255 (omitted when 0)
	keyName    = "n"  // display name, percent-encoded (omitted when empty)
)

const (
	idLen      = 64
	maxVersion = 65535
	maxCount   = 255
)

// Record is what one peer or server advertises, and what Browse reports.
//
// Only ID, Version, Seats, Players and Name travel in the TXT record.
// Instance is the DNS-SD instance label, Port travels in the SRV record and
// Addrs in the A/AAAA records. The record is a hint for dialing, never a
// proof of identity: whoever dials pins ID, and the handshake verifies it.
// Initial data is never carried here; it travels in the hello after the
// handshake.
type Record struct {
	// Instance is the unique DNS-SD instance label: 1..MaxInstanceLen bytes
	// of ASCII letters, digits, '-' and '_' (the lobby passes e.g. the first
	// 16 hex digits of the key fingerprint).
	Instance string
	// Addrs are where to dial, sorted (netip.Addr.Compare) in Browse
	// snapshots; link-local IPv6 addresses carry their zone. When
	// advertising, an empty Addrs means "the interface's addresses" (MDNS
	// only; Memory needs at least one address).
	Addrs []netip.Addr
	// Port is the UDP port to dial, 1..65535.
	Port uint16
	// ID is the key fingerprint: 64 lowercase hex digits.
	ID string
	// Version is the protocol version, 0..65535.
	Version int
	// Seats is the number of seats open, 0..255.
	Seats int
	// Players is the number of players present, 0..255 (hosted servers).
	Players int
	// Name is the display name: valid UTF-8 without control characters, at
	// most MaxNameLen bytes after TXT (which cuts longer names); may be
	// empty.
	Name string
}

// TXT returns r's TXT strings ("key=value"): id, v and s always, p when
// Players is not 0 and n when Name is not empty. It validates ID, Version,
// Seats, Players and Name and ignores the other fields.
//
// The name is percent-encoded: every byte outside printable ASCII, and '%',
// '\\', '"' and '=', becomes %XX, so no string contains a backslash, a quote,
// a control character or non-ASCII bytes (which DNS libraries would escape).
// A name longer than MaxNameLen bytes is cut at the last rune boundary at or
// below MaxNameLen bytes (a combining mark or emoji sequence may be split);
// a name that is not valid UTF-8 or contains control characters is an
// error. The longest result takes 280 bytes with length bytes, below
// MaxTXTLen.
func (r Record) TXT() ([]string, error) {
	if err := checkID(r.ID); err != nil {
		return nil, err
	}
	if r.Version < 0 || r.Version > maxVersion {
		return nil, invalid("version %d out of range 0..%d", r.Version, maxVersion)
	}
	if r.Seats < 0 || r.Seats > maxCount {
		return nil, invalid("seats %d out of range 0..%d", r.Seats, maxCount)
	}
	if r.Players < 0 || r.Players > maxCount {
		return nil, invalid("players %d out of range 0..%d", r.Players, maxCount)
	}
	if err := checkName(r.Name); err != nil {
		return nil, err
	}
	txt := make([]string, 0, 5)
	txt = append(txt,
		keyID+"="+r.ID,
		keyVersion+"="+strconv.Itoa(r.Version),
		keySeats+"="+strconv.Itoa(r.Seats))
	if r.Players != 0 {
		txt = append(txt, keyPlayers+"="+strconv.Itoa(r.Players))
	}
	if name := truncateName(r.Name, MaxNameLen); name != "" {
		txt = append(txt, keyName+"="+encodeName(name))
	}
	if n := txtLen(txt); n >= MaxTXTLen { // unreachable with the limits above
		return nil, invalid("TXT takes %d bytes, limit %d", n, MaxTXTLen-1)
	}
	return txt, nil
}

// ParseTXT parses TXT strings into a Record's ID, Version, Seats, Players
// and Name (the other fields stay zero). id and v are required; s and p
// default to 0 and n to "". Unknown keys are ignored and empty strings
// skipped. It returns an error wrapping ErrInvalidRecord for: MaxTXTLen
// bytes or more in total (length bytes included), a byte outside printable
// ASCII or a '\\' or '"' anywhere (DNS libraries present raw bytes with
// backslash escapes), an empty key, a key given twice (keys compare
// case-insensitively), a known key without a value, an ID that is not 64
// lowercase hex digits, numbers with signs, leading zeros or out of range,
// and a name whose encoding is malformed or that decodes to more than
// MaxNameLen bytes, invalid UTF-8 or control characters. It never panics and
// is safe for concurrent use.
func ParseTXT(txt []string) (Record, error) {
	var r Record
	total := 0
	for _, s := range txt {
		total += len(s) + 1
		if total >= MaxTXTLen {
			return Record{}, invalid("TXT longer than %d bytes", MaxTXTLen-1)
		}
	}
	var seen [5]bool // id, v, s, p, n
	var unknown []string
	for _, s := range txt {
		if s == "" {
			continue
		}
		for i := 0; i < len(s); i++ {
			if !txtByte(s[i]) {
				return Record{}, invalid("byte %#02x not allowed in TXT", s[i])
			}
		}
		key, value, hasValue := strings.Cut(s, "=")
		if key == "" {
			return Record{}, invalid("empty TXT key")
		}
		key = strings.ToLower(key)
		slot := -1
		switch key {
		case keyID:
			slot = 0
		case keyVersion:
			slot = 1
		case keySeats:
			slot = 2
		case keyPlayers:
			slot = 3
		case keyName:
			slot = 4
		default:
			if slices.Contains(unknown, key) {
				return Record{}, invalid("duplicate TXT key %q", key)
			}
			unknown = append(unknown, key)
			continue
		}
		if seen[slot] {
			return Record{}, invalid("duplicate TXT key %q", key)
		}
		seen[slot] = true
		if !hasValue {
			return Record{}, invalid("TXT key %q without value", key)
		}
		var err error
		switch slot {
		case 0:
			err = checkID(value)
			r.ID = value
		case 1:
			r.Version, err = parseCount(key, value, maxVersion)
		case 2:
			r.Seats, err = parseCount(key, value, maxCount)
		case 3:
			r.Players, err = parseCount(key, value, maxCount)
		case 4:
			r.Name, err = decodeName(value)
		}
		if err != nil {
			return Record{}, err
		}
	}
	if !seen[0] {
		return Record{}, invalid("TXT has no %q key", keyID)
	}
	if !seen[1] {
		return Record{}, invalid("TXT has no %q key", keyVersion)
	}
	return r, nil
}

// txtLen returns the wire size of TXT strings: each string plus its length
// byte.
func txtLen(txt []string) int {
	n := 0
	for _, s := range txt {
		n += len(s) + 1
	}
	return n
}

// txtByte reports whether b may appear in a TXT string: printable ASCII
// except '\\' and '"', which DNS libraries (miekg/dns) escape.
func txtByte(b byte) bool {
	return b >= 0x20 && b <= 0x7e && b != '\\' && b != '"'
}

// nameByte reports whether b stands for itself in an encoded name; every
// other byte is percent-encoded.
func nameByte(b byte) bool {
	return txtByte(b) && b != '%' && b != '='
}

// checkID validates a key fingerprint: 64 lowercase hex digits.
func checkID(id string) error {
	if len(id) != idLen {
		return invalid("id has %d bytes, want %d lowercase hex digits", len(id), idLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return invalid("id is not %d lowercase hex digits", idLen)
		}
	}
	return nil
}

// parseCount parses a decimal in 0..limit: digits only, no sign, no leading
// zero (except "0 itself), at most 5 digits.
func parseCount(key, s string, limit int) (int, error) {
	if s == "" || len(s) > 5 || (len(s) > 1 && s[0] == '0') {
		return 0, invalid("TXT key %q: malformed number", key)
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, invalid("TXT key %q: malformed number", key)
		}
		n = n*10 + int(c-'0')
	}
	if n > limit {
		return 0, invalid("TXT key %q: %d out of range 0..%d", key, n, limit)
	}
	return n, nil
}

// checkName validates a display name before encoding: valid UTF-8 and no
// control characters (C0, DEL, C1).
func checkName(name string) error {
	if !utf8.ValidString(name) {
		return invalid("name is not valid UTF-8")
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return invalid("name contains control character %U", r)
		}
	}
	return nil
}

// truncateName cuts a valid UTF-8 name to at most max bytes at a rune
// boundary.
func truncateName(name string, max int) string {
	if len(name) <= max {
		return name
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut]
}

const hexUpper = "0123456789ABCDEF"

// encodeName percent-encodes every byte of name outside nameByte.
func encodeName(name string) string {
	var b strings.Builder
	b.Grow(len(name) * 3)
	for i := 0; i < len(name); i++ {
		c := name[i]
		if nameByte(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexUpper[c>>4])
		b.WriteByte(hexUpper[c&0xf])
	}
	return b.String()
}

// decodeName reverses encodeName, accepting either hex case. The encoded
// form is at most 3*MaxNameLen bytes and the decoded name at most MaxNameLen
// bytes of valid UTF-8 without control characters; a literal byte outside
// nameByte is an error.
func decodeName(s string) (string, error) {
	if len(s) > 3*MaxNameLen {
		return "", invalid("encoded name longer than %d bytes", 3*MaxNameLen)
	}
	var buf [MaxNameLen]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) {
				return "", invalid("name: truncated %%-escape")
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return "", invalid("name: malformed %%-escape")
			}
			c = hi<<4 | lo
			i += 2
		case !nameByte(c):
			return "", invalid("name: byte %#02x must be %%-encoded", c)
		}
		if n == len(buf) {
			return "", invalid("name longer than %d bytes", MaxNameLen)
		}
		buf[n] = c
		n++
	}
	name := string(buf[:n])
	if err := checkName(name); err != nil {
		return "", err
	}
	return name, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// maxServiceType is the longest service type (RFC 6335 §5.1).
const maxServiceType = 15

// ServiceName returns the DNS-SD service name for a service type:
// "lightcycle" becomes "_lightcycle._udp". The type must follow RFC 6335
// §5.1 as Multipeer Connectivity does: 1..15 characters of 'a'-'z', '0'-'9'
// and '-', at least one letter, no leading, trailing or adjacent '-'. Upper
// case is refused rather than folded. Errors wrap ErrInvalidService.
// Backend methods take the returned name.
func ServiceName(serviceType string) (string, error) {
	if err := checkServiceType(serviceType); err != nil {
		return "", err
	}
	return "_" + serviceType + "._udp", nil
}

func checkServiceType(t string) error {
	if len(t) < 1 || len(t) > maxServiceType {
		return fmt.Errorf("%w: service type must have 1..%d characters, has %d", ErrInvalidService, maxServiceType, len(t))
	}
	letter := false
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= 'a' && c <= 'z':
			letter = true
		case c >= '0' && c <= '9':
		case c == '-':
			if i == 0 || i == len(t)-1 || t[i-1] == '-' {
				return fmt.Errorf("%w: service type %q: '-' may not lead, trail or repeat", ErrInvalidService, t)
			}
		default:
			return fmt.Errorf("%w: service type %q: only a-z, 0-9 and '-' allowed", ErrInvalidService, t)
		}
	}
	if !letter {
		return fmt.Errorf("%w: service type %q has no letter", ErrInvalidService, t)
	}
	return nil
}

// checkService validates a service name as returned by ServiceName.
func checkService(service string) error {
	t, ok := strings.CutPrefix(service, "_")
	if ok {
		t, ok = strings.CutSuffix(t, "._udp")
	}
	if !ok {
		return fmt.Errorf("%w: %q is not of the form _<type>._udp (use ServiceName)", ErrInvalidService, service)
	}
	return checkServiceType(t)
}

// checkInstance validates an instance label: 1..MaxInstanceLen bytes of
// ASCII letters, digits, '-' and '_' (nothing a DNS library would escape).
func checkInstance(s string) error {
	if len(s) < 1 || len(s) > MaxInstanceLen {
		return invalid("instance must have 1..%d bytes, has %d", MaxInstanceLen, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return invalid("instance may hold only letters, digits, '-' and '_'")
		}
	}
	return nil
}

// UsableAddr reports whether a peer can be dialed at a: a valid unicast
// address that is not unspecified (0.0.0.0, ::), multicast or the limited
// broadcast 255.255.255.255, IPv4-mapped IPv6 forms included. Browse never
// reports other addresses and Advertise refuses them; a dialer that gets
// records from elsewhere (or wants defence in depth) checks again with it,
// since dialing a broadcast or multicast address would spray handshake
// datagrams over the LAN. A subnet's directed broadcast cannot be told from
// a host without the netmask and is not refused.
func UsableAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && !a.IsUnspecified() && !a.IsMulticast() &&
		a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// CompareRecords orders records as Browse snapshots are: by ID, then
// Instance, then Port. Records with the same ID are sightings of that
// identity; no two records of a snapshot share all three.
func CompareRecords(a, b Record) int {
	return cmp.Or(strings.Compare(a.ID, b.ID), strings.Compare(a.Instance, b.Instance), cmp.Compare(a.Port, b.Port))
}

// prepare validates what every backend needs to advertise r under service
// and returns its TXT strings.
func prepare(service string, r Record) ([]string, error) {
	if err := checkService(service); err != nil {
		return nil, err
	}
	if err := checkInstance(r.Instance); err != nil {
		return nil, err
	}
	if r.Port == 0 {
		return nil, invalid("port 0")
	}
	for _, a := range r.Addrs {
		if !UsableAddr(a) {
			return nil, invalid("address %v cannot be dialed", a)
		}
	}
	return r.TXT()
}

// equalRecords reports whether two snapshots hold the same records in the
// same order.
func equalRecords(a, b []Record) bool {
	return slices.EqualFunc(a, b, func(x, y Record) bool {
		return x.Instance == y.Instance && x.Port == y.Port && x.ID == y.ID &&
			x.Version == y.Version && x.Seats == y.Seats && x.Players == y.Players &&
			x.Name == y.Name && slices.Equal(x.Addrs, y.Addrs)
	})
}
