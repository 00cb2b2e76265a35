package rendezvous

import (
	"errors"
	"net/http"
)

// Errors a Client returns (wrapped, with the server's text) and the
// server's refusals map to. Match them with errors.Is.
var (
	// ErrBadRequest: a malformed or out-of-range request (HTTP 400).
	ErrBadRequest = errors.New("rendezvous: bad request")
	// ErrTooLarge: a body over Config.MaxBodyBytes or a signal over
	// Config.MaxSignalBytes (HTTP 413).
	ErrTooLarge = errors.New("rendezvous: request too large")
	// ErrProof: the identity proof failed: unknown, expired or reused
	// nonce, a certificate that is not ECDSA P-256, a bad signature, or a
	// record whose ID is not the proven fingerprint (HTTP 403).
	ErrProof = errors.New("rendezvous: identity proof refused")
	// ErrNotMember: the membership token is unknown: the member left, was
	// replaced by a newer join with the same key, or expired (HTTP 410).
	ErrNotMember = errors.New("rendezvous: not a member")
	// ErrRoomNotFound: no room has that code, or the addressed member is
	// not in the room (HTTP 404).
	ErrRoomNotFound = errors.New("rendezvous: no such room or member")
	// ErrRoomFull: the room has Config.MaxMembers members (HTTP 409).
	ErrRoomFull = errors.New("rendezvous: room full")
	// ErrServerFull: Config.MaxRooms rooms, Config.MaxMembersPerIP
	// memberships from this address, Config.MaxNonces outstanding nonces,
	// Config.MaxQueuedTotal queued bytes or Config.MaxTrackedIPs addresses
	// (HTTP 503).
	ErrServerFull = errors.New("rendezvous: server full")
	// ErrQueueFull: the recipient has Config.MaxQueuedSignals signals or
	// Config.MaxQueuedBytes bytes waiting; the signal is refused, never
	// dropped silently (HTTP 429, retry later).
	ErrQueueFull = errors.New("rendezvous: recipient's signal queue full")
	// ErrRateLimited: this address exceeded Config.RequestRate, the
	// unknown-code rate or Config.MaxPollsPerIP/MaxPollsPerMember (HTTP 429).
	ErrRateLimited = errors.New("rendezvous: rate limited")
)

// errorCodes are the wire names of the errors above ("code" in an error
// body).
var errorCodes = map[string]error{
	"bad_request":  ErrBadRequest,
	"too_large":    ErrTooLarge,
	"proof":        ErrProof,
	"not_member":   ErrNotMember,
	"not_found":    ErrRoomNotFound,
	"room_full":    ErrRoomFull,
	"server_full":  ErrServerFull,
	"queue_full":   ErrQueueFull,
	"rate_limited": ErrRateLimited,
}

// status returns the HTTP status and wire code of a sentinel.
func status(err error) (int, string) {
	switch {
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge, "too_large"
	case errors.Is(err, ErrProof):
		return http.StatusForbidden, "proof"
	case errors.Is(err, ErrNotMember):
		return http.StatusGone, "not_member"
	case errors.Is(err, ErrRoomNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, ErrRoomFull):
		return http.StatusConflict, "room_full"
	case errors.Is(err, ErrServerFull):
		return http.StatusServiceUnavailable, "server_full"
	case errors.Is(err, ErrQueueFull):
		return http.StatusTooManyRequests, "queue_full"
	case errors.Is(err, ErrRateLimited):
		return http.StatusTooManyRequests, "rate_limited"
	default:
		return http.StatusBadRequest, "bad_request"
	}
}
