package rendezvous

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// maxResponseBytes bounds what a Client reads of an answer: a full roster
// and a full default signal queue take under 100 KiB.
const maxResponseBytes = 1 << 20

// Client speaks to one rendezvous server as one identity. It is safe for
// concurrent use; its methods block on HTTP until ctx ends or the server
// answers.
type Client struct {
	base string // "https://host:port" without a trailing slash
	host string // what proofs are signed for: the URL's host
	hc   *http.Client
	cert tls.Certificate
}

// NewClient returns a Client for the server at baseURL ("https://host" or
// "http://host:port"; a path is kept as a prefix) that proves the identity
// of cert (an ECDSA P-256 certificate and key, as netcode.GenerateCertificate
// and netcode.LoadKeyFile make). hc nil means http.DefaultClient. It does
// not contact the server.
func NewClient(baseURL string, cert tls.Certificate, hc *http.Client) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("rendezvous: server URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("rendezvous: server URL %q: want http(s)://host[:port]", baseURL)
	}
	if len(cert.Certificate) == 0 || cert.PrivateKey == nil {
		return nil, errors.New("rendezvous: certificate without DER data or key")
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimSuffix(u.String(), "/"), host: u.Host, hc: hc, cert: cert}, nil
}

// do POSTs (or GETs, when in is nil) JSON and decodes the answer into out;
// an error answer becomes an error wrapping the matching sentinel.
func (c *Client) do(ctx context.Context, path string, in, out any) error {
	method, body := http.MethodGet, io.Reader(nil)
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("rendezvous: %w", err)
		}
		method, body = http.MethodPost, bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("rendezvous: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("rendezvous: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("rendezvous: reading answer: %w", err)
	}
	if len(data) > maxResponseBytes {
		return fmt.Errorf("rendezvous: answer over %d bytes", maxResponseBytes)
	}
	if resp.StatusCode != http.StatusOK {
		var e errorResponse
		if json.Unmarshal(data, &e) != nil || errorCodes[e.Code] == nil {
			return fmt.Errorf("rendezvous: HTTP %d from %s", resp.StatusCode, path)
		}
		return fmt.Errorf("%w (%s)", errorCodes[e.Code], strings.ToValidUTF8(cut(e.Error, 256), "?"))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("rendezvous: answer: %w", err)
	}
	return nil
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// prove fetches a nonce and signs it.
func (c *Client) prove(ctx context.Context) (proof, error) {
	var n nonceResponse
	if err := c.do(ctx, "/v1/nonce", struct{}{}, &n); err != nil {
		return proof{}, err
	}
	return makeProof(c.cert, c.host, n.Nonce)
}

// Create creates a room for service ("public": listed by List; otherwise
// reachable by its code only) with the caller as its first member,
// publishing rec (rec.ID may be empty: the server fills in the proven
// fingerprint). The code is Room.Code. It blocks for two round trips.
func (c *Client) Create(ctx context.Context, service string, public bool, rec Record) (*Room, error) {
	p, err := c.prove(ctx)
	if err != nil {
		return nil, err
	}
	var resp joinResponse
	if err := c.do(ctx, "/v1/create", createRequest{Service: service, Public: public, Record: rec, Proof: p}, &resp); err != nil {
		return nil, err
	}
	return newRoom(c, resp)
}

// newRoom makes the Room of a create or join answer.
func newRoom(c *Client, resp joinResponse) (*Room, error) {
	if err := checkICEServers(resp.ICEServers); err != nil {
		return nil, fmt.Errorf("rendezvous: answer: %w", err)
	}
	return &Room{c: c, Code: resp.Code, ID: resp.ID, token: resp.Token, ice: resp.ICEServers}, nil
}

// Join joins the room with code (as ParseCode reads it), publishing rec.
// A second Join with the same key replaces the earlier membership. It
// blocks for two round trips.
func (c *Client) Join(ctx context.Context, code string, rec Record) (*Room, error) {
	code, err := ParseCode(code)
	if err != nil {
		return nil, err
	}
	p, err := c.prove(ctx)
	if err != nil {
		return nil, err
	}
	var resp joinResponse
	if err := c.do(ctx, "/v1/join", joinRequest{Code: code, Record: rec, Proof: p}, &resp); err != nil {
		return nil, err
	}
	return newRoom(c, resp)
}

// List returns the public rooms of service, newest first, at most the
// server's Config.MaxListed. It blocks for one round trip.
func (c *Client) List(ctx context.Context, service string) ([]RoomInfo, error) {
	if err := checkService(service); err != nil {
		return nil, err
	}
	var resp listResponse
	if err := c.do(ctx, "/v1/rooms?service="+url.QueryEscape(service), nil, &resp); err != nil {
		return nil, err
	}
	return resp.Rooms, nil
}

// Room is a Client's membership of one room. Its methods are safe for
// concurrent use, but Poll must be called from one goroutine at a time.
type Room struct {
	c *Client
	// Code is the room's code.
	Code string
	// ID is this member's proven key fingerprint (hex).
	ID    string
	token string

	mu     sync.Mutex
	roster uint64
	ack    uint64
	ice    []ICEServer
}

// ICEServers returns the STUN and TURN servers this member may use, with
// its TURN credentials: the create or join answer's, replaced by fresher
// ones that Poll brings before they expire (a member that polls always
// holds valid ones). Call it each time a peer connection is made. Empty
// when the server offers none. It returns a copy, does not block and is
// safe for concurrent use.
func (r *Room) ICEServers() []ICEServer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return cloneICEServers(r.ice)
}

// Events is what one Poll brought.
type Events struct {
	// Members is the room's roster in joining order (this member
	// included) when it changed since the last Poll, nil otherwise.
	Members []Member
	// Signals are the signals not seen before, oldest first.
	Signals []Signal
}

// Poll waits until the roster changes or signals arrive, or the server's
// poll timeout (25 s by default) passes, and returns them (Events may be
// empty). Signals it returns are acknowledged by the next Poll; a lost
// answer is repeated. An answer may also bring fresh TURN credentials,
// which ICEServers then returns. It blocks; call it from one goroutine at a time, in
// a loop. ErrNotMember means the membership ended.
func (r *Room) Poll(ctx context.Context) (Events, error) {
	r.mu.Lock()
	req := pollRequest{Token: r.token, Roster: r.roster, Ack: r.ack}
	r.mu.Unlock()
	var resp pollResponse
	if err := r.c.do(ctx, "/v1/poll", req, &resp); err != nil {
		return Events{}, err
	}
	if err := checkICEServers(resp.ICEServers); err != nil {
		return Events{}, fmt.Errorf("rendezvous: answer: %w", err)
	}
	var ev Events
	r.mu.Lock()
	defer r.mu.Unlock()
	if resp.ICEServers != nil {
		r.ice = resp.ICEServers
	}
	if resp.Members != nil && resp.Roster != r.roster {
		ev.Members = resp.Members
	}
	r.roster = resp.Roster
	for _, s := range resp.Signals {
		if s.Seq > r.ack {
			ev.Signals = append(ev.Signals, s)
			r.ack = s.Seq
		}
	}
	return ev, nil
}

// Signal sends data (1..Config.MaxSignalBytes bytes, e.g. an SDP offer) to
// the member with ID to. The server sets the sender to this member's
// proven ID. ErrQueueFull means the recipient has too much waiting: retry
// later. It blocks for one round trip.
func (r *Room) Signal(ctx context.Context, to string, data []byte) error {
	return r.c.do(ctx, "/v1/signal", signalRequest{Token: r.token, To: to, Data: data}, nil)
}

// Update replaces this member's record (e.g. seats open); every member's
// next Poll shows it. It blocks for one round trip.
func (r *Room) Update(ctx context.Context, rec Record) error {
	return r.c.do(ctx, "/v1/update", updateRequest{Token: r.token, Record: rec}, nil)
}

// Leave ends the membership; the room goes with its last member. It blocks
// for one round trip. A member that neither polls nor leaves is removed
// after the server's MemberTimeout.
func (r *Room) Leave(ctx context.Context) error {
	return r.c.do(ctx, "/v1/leave", leaveRequest{Token: r.token}, nil)
}
