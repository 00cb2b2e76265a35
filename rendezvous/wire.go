package rendezvous

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ProtocolVersion is the version of the HTTP API below /v1/.
const ProtocolVersion = 1

// Limits of the records and names a room carries.
const (
	// CodeLen is the number of characters of a room code.
	CodeLen = 6
	// CodeAlphabet is the 32 characters of room codes (Crockford's base
	// 32: no I, L, O or U). Lookups read codes case-insensitively, read
	// I and L as 1 and O as 0, and ignore '-' and ' '.
	CodeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	// MaxNameLen is the longest Record.Name in bytes (as in mDNS records).
	MaxNameLen = 63
	// MaxServiceLen is the longest service type in bytes.
	MaxServiceLen = 63
	// maxCodeInput bounds the text a code is read from.
	maxCodeInput = 16
	// maxCertLen bounds a proof's certificate (a P-256 self-signed
	// certificate is about 400 bytes).
	maxCertLen = 2048
	// maxSigLen bounds a proof's signature (ASN.1 P-256: at most 72 bytes).
	maxSigLen = 128
	// tokenLen is the length of a membership token (32 bytes, base64url
	// without padding).
	tokenLen = 43
	// nonceLen is the length of a nonce (32 bytes, base64url).
	nonceLen = 43
	// idLen is the length of a member ID: a key fingerprint in hex.
	idLen = 64
)

// Record is what a member publishes to its room: what mDNS carries on a LAN
// (lobby/internal/discovery.Record), without addresses — peers connect
// through signaling, not by address.
type Record struct {
	// ID is the member's key fingerprint, 64 lowercase hex digits (the
	// text form of netcode.Fingerprint). The server accepts a record only
	// when ID is the fingerprint the member proved; it may be left empty
	// on Create, Join and Update, and the server fills it in.
	ID string `json:"id"`
	// Version is the game's protocol version, 0..65535.
	Version int `json:"v"`
	// Seats is the number of seats open, 0..255.
	Seats int `json:"seats"`
	// Players is the number of players present, 0..255.
	Players int `json:"players,omitempty"`
	// Name is the display name: valid UTF-8 without control characters,
	// at most MaxNameLen bytes.
	Name string `json:"name,omitempty"`
}

// Member is one member of a room as the roster shows it.
type Member struct {
	// ID is the member's proven key fingerprint (hex); signals address
	// members by it.
	ID string `json:"id"`
	// Record is the member's record; Record.ID equals ID.
	Record Record `json:"record"`
	// Creator reports whether this member created the room.
	Creator bool `json:"creator,omitempty"`
}

// Signal is an opaque payload one member sent another.
type Signal struct {
	// Seq numbers the recipient's signals from 1, in arrival order.
	Seq uint64 `json:"seq"`
	// From is the sender's proven ID, set by the server.
	From string `json:"from"`
	// Data is the payload (base64 in JSON), at most Config.MaxSignalBytes.
	Data []byte `json:"data"`
}

// RoomInfo is one entry of the public room list.
type RoomInfo struct {
	// Code is the room's code.
	Code string `json:"code"`
	// Members is the number of members.
	Members int `json:"members"`
	// MaxMembers is the room's capacity (Config.MaxMembers).
	MaxMembers int `json:"max_members"`
	// Creator is the creator's record, or the oldest member's if the
	// creator left.
	Creator Record `json:"creator"`
}

// proof is a member's identity proof: Sig is an ECDSA P-256 signature
// (ASN.1, or the 64-byte r||s form WebCrypto makes) over SHA-256 of
// proofMessage(host, Nonce) by the key of the DER certificate Cert.
type proof struct {
	Nonce string `json:"nonce"`
	Cert  []byte `json:"cert"`
	Sig   []byte `json:"sig"`
}

type nonceResponse struct {
	Nonce string `json:"nonce"`
	TTLMs int64  `json:"ttl_ms"`
}

type createRequest struct {
	Service string `json:"service"`
	Public  bool   `json:"public"`
	Record  Record `json:"record"`
	Proof   proof  `json:"proof"`
}

type joinRequest struct {
	Code   string `json:"code"`
	Record Record `json:"record"`
	Proof  proof  `json:"proof"`
}

type joinResponse struct {
	Code  string `json:"code"`
	ID    string `json:"id"`
	Token string `json:"token"`
	// ICEServers are the STUN and TURN servers the member may use, with
	// its TURN credentials (absent when the server offers none).
	ICEServers []ICEServer `json:"ice_servers,omitempty"`
}

type signalRequest struct {
	Token string `json:"token"`
	To    string `json:"to"`
	Data  []byte `json:"data"`
}

type updateRequest struct {
	Token  string `json:"token"`
	Record Record `json:"record"`
}

type pollRequest struct {
	Token string `json:"token"`
	// Roster is the roster version the member holds (0: none).
	Roster uint64 `json:"roster"`
	// Ack is the highest signal Seq the member received; the server
	// forgets those.
	Ack uint64 `json:"ack"`
}

type pollResponse struct {
	Roster  uint64   `json:"roster"`
	Members []Member `json:"members,omitempty"`
	Signals []Signal `json:"signals,omitempty"`
	// ICEServers, when present, replace the member's ICE servers: fresh
	// TURN credentials, sent once those held are a third of
	// Config.CredentialTTL old.
	ICEServers []ICEServer `json:"ice_servers,omitempty"`
}

type leaveRequest struct {
	Token string `json:"token"`
}

type listResponse struct {
	Rooms []RoomInfo `json:"rooms"`
}

type errorResponse struct {
	Code  string `json:"code"`
	Error string `json:"error"`
}

// decodeStrict decodes exactly one JSON value into v: unknown fields and
// trailing data are errors.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: json: %v", ErrBadRequest, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: trailing data after the JSON value", ErrBadRequest)
	}
	return nil
}

func badf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, args...))
}

// parseCreate decodes and checks a create body. It never panics.
func parseCreate(body []byte) (createRequest, error) {
	var r createRequest
	if err := decodeStrict(body, &r); err != nil {
		return r, err
	}
	if err := checkService(r.Service); err != nil {
		return r, err
	}
	if err := checkRecord(r.Record); err != nil {
		return r, err
	}
	return r, checkProofShape(r.Proof)
}

// parseJoin decodes and checks a join body; the code is returned in its
// canonical form. It never panics.
func parseJoin(body []byte) (joinRequest, error) {
	var r joinRequest
	if err := decodeStrict(body, &r); err != nil {
		return r, err
	}
	code, err := ParseCode(r.Code)
	if err != nil {
		return r, err
	}
	r.Code = code
	if err := checkRecord(r.Record); err != nil {
		return r, err
	}
	return r, checkProofShape(r.Proof)
}

// parseSignal decodes and checks a signal body against maxData. It never
// panics.
func parseSignal(body []byte, maxData int) (signalRequest, error) {
	var r signalRequest
	if err := decodeStrict(body, &r); err != nil {
		return r, err
	}
	if err := checkToken(r.Token); err != nil {
		return r, err
	}
	if err := checkID(r.To); err != nil {
		return r, err
	}
	if len(r.Data) == 0 {
		return r, badf("empty signal")
	}
	if len(r.Data) > maxData {
		return r, fmt.Errorf("%w: signal of %d bytes, limit %d", ErrTooLarge, len(r.Data), maxData)
	}
	return r, nil
}

// parseUpdate decodes and checks an update body. It never panics.
func parseUpdate(body []byte) (updateRequest, error) {
	var r updateRequest
	if err := decodeStrict(body, &r); err != nil {
		return r, err
	}
	if err := checkToken(r.Token); err != nil {
		return r, err
	}
	return r, checkRecord(r.Record)
}

// parsePoll decodes and checks a poll body. It never panics.
func parsePoll(body []byte) (pollRequest, error) {
	var r pollRequest
	if err := decodeStrict(body, &r); err != nil {
		return r, err
	}
	return r, checkToken(r.Token)
}

// parseLeave decodes and checks a leave body. It never panics.
func parseLeave(body []byte) (leaveRequest, error) {
	var r leaveRequest
	if err := decodeStrict(body, &r); err != nil {
		return r, err
	}
	return r, checkToken(r.Token)
}

// ParseCode reads a room code as a person may type it: case-insensitive,
// I and L read as 1, O as 0, '-' and ' ' ignored. It returns the canonical
// form (CodeLen characters of CodeAlphabet) or an error wrapping
// ErrBadRequest. It never panics and is safe for concurrent use.
func ParseCode(s string) (string, error) {
	if len(s) > maxCodeInput {
		return "", badf("room code longer than %d bytes", maxCodeInput)
	}
	var b [maxCodeInput]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == ' ':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		switch c {
		case 'I', 'L':
			c = '1'
		case 'O':
			c = '0'
		}
		if strings.IndexByte(CodeAlphabet, c) < 0 {
			return "", badf("room code: character %q not in the code alphabet", s[i])
		}
		b[n] = c
		n++
	}
	if n != CodeLen {
		return "", badf("room code of %d characters, want %d", n, CodeLen)
	}
	return string(b[:n]), nil
}

func checkService(s string) error {
	if s == "" || len(s) > MaxServiceLen {
		return badf("service must be 1..%d bytes", MaxServiceLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return badf("service: byte %#02x not allowed (letters, digits, '_', '-', '.')", c)
		}
	}
	return nil
}

func checkID(s string) error {
	if len(s) != idLen {
		return badf("member ID must be %d lowercase hex digits", idLen)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return badf("member ID must be %d lowercase hex digits", idLen)
		}
	}
	return nil
}

func checkToken(s string) error {
	if len(s) != tokenLen || !base64urlOnly(s) {
		return fmt.Errorf("%w: malformed token", ErrNotMember)
	}
	return nil
}

func base64urlOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func checkRecord(r Record) error {
	if r.ID != "" {
		if err := checkID(r.ID); err != nil {
			return err
		}
	}
	if r.Version < 0 || r.Version > 65535 {
		return badf("version %d out of range 0..65535", r.Version)
	}
	if r.Seats < 0 || r.Seats > 255 {
		return badf("seats %d out of range 0..255", r.Seats)
	}
	if r.Players < 0 || r.Players > 255 {
		return badf("players %d out of range 0..255", r.Players)
	}
	if len(r.Name) > MaxNameLen {
		return badf("name of %d bytes, limit %d", len(r.Name), MaxNameLen)
	}
	if !utf8.ValidString(r.Name) {
		return badf("name is not valid UTF-8")
	}
	for _, c := range r.Name {
		if unicode.IsControl(c) {
			return badf("name contains a control character")
		}
	}
	return nil
}

func checkProofShape(p proof) error {
	if len(p.Nonce) != nonceLen || !base64urlOnly(p.Nonce) {
		return fmt.Errorf("%w: malformed nonce", ErrProof)
	}
	if len(p.Cert) == 0 || len(p.Cert) > maxCertLen {
		return fmt.Errorf("%w: certificate must be 1..%d bytes", ErrProof, maxCertLen)
	}
	if len(p.Sig) == 0 || len(p.Sig) > maxSigLen {
		return fmt.Errorf("%w: signature must be 1..%d bytes", ErrProof, maxSigLen)
	}
	return nil
}
