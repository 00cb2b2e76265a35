// Package enet is a thin cgo binding of the ENet C library (libenet,
// Debian's libenet-dev 1.3.x), just wide enough for pumpnet's peer
// benchmarks: hosts, peers, enet_host_service, enet_peer_send,
// enet_host_broadcast and enet_host_flush. Every call goes straight to the
// C function of the same name; packets are copied in (enet_packet_create)
// and out (into the caller's buffer, then enet_packet_destroy).
//
// ENet hosts are not thread-safe: a Host and its Peers must be used from
// one goroutine at a time. Initialize is the exception and may be called
// from anywhere, any number of times.
package enet

/*
#cgo LDFLAGS: -lenet
#include <stdlib.h>
#include <string.h>
#include <enet/enet.h>

typedef struct {
	int type;
	ENetPeer *peer;
	int channel;
	size_t len;
	enet_uint32 data;
} pn_event;

// pn_service is one enet_host_service call. A received packet is copied
// into buf (at most cap bytes; out->len is its full length) and destroyed.
static int pn_service(ENetHost *h, enet_uint32 timeout, pn_event *out, unsigned char *buf, size_t cap) {
	ENetEvent ev;
	int r = enet_host_service(h, &ev, timeout);
	if (r <= 0) return r;
	out->type = ev.type;
	out->peer = ev.peer;
	out->channel = ev.channelID;
	out->data = ev.data;
	out->len = 0;
	if (ev.type == ENET_EVENT_TYPE_RECEIVE) {
		size_t n = ev.packet->dataLength;
		out->len = n;
		if (n > cap) n = cap;
		if (n > 0) memcpy(buf, ev.packet->data, n);
		enet_packet_destroy(ev.packet);
	}
	return 1;
}

static int pn_send(ENetPeer *p, enet_uint8 channel, const unsigned char *data, size_t n, enet_uint32 flags) {
	ENetPacket *pk = enet_packet_create(data, n, flags);
	if (pk == NULL) return -1;
	if (enet_peer_send(p, channel, pk) < 0) {
		enet_packet_destroy(pk);
		return -1;
	}
	return 0;
}

static int pn_broadcast(ENetHost *h, enet_uint8 channel, const unsigned char *data, size_t n, enet_uint32 flags) {
	ENetPacket *pk = enet_packet_create(data, n, flags);
	if (pk == NULL) return -1;
	enet_host_broadcast(h, channel, pk); // destroys pk if no peer took it
	return 0;
}

static ENetHost *pn_host(const char *ip, enet_uint16 port, size_t peers, size_t channels) {
	if (ip == NULL) return enet_host_create(NULL, peers, channels, 0, 0);
	ENetAddress a;
	if (enet_address_set_host_ip(&a, ip) < 0) return NULL;
	a.port = port;
	return enet_host_create(&a, peers, channels, 0, 0);
}

static ENetPeer *pn_connect(ENetHost *h, const char *ip, enet_uint16 port, size_t channels) {
	ENetAddress a;
	if (enet_address_set_host_ip(&a, ip) < 0) return NULL;
	a.port = port;
	return enet_host_connect(h, &a, channels, 0);
}

static size_t pn_queued(ENetPeer *p) { return enet_list_size(&p->outgoingCommands); }
static void pn_counts(ENetPeer *p, enet_uint32 *sent, enet_uint32 *lost) { *sent = p->packetsSent; *lost = p->packetsLost; }
*/
import "C"

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"unsafe"
)

// Packet flags (enet_packet_create).
const (
	// Reliable is ENET_PACKET_FLAG_RELIABLE: resent until acknowledged,
	// delivered in order on its channel.
	Reliable = C.ENET_PACKET_FLAG_RELIABLE
	// Unsequenced is ENET_PACKET_FLAG_UNSEQUENCED: unreliable and
	// unordered. Flags 0 is unreliable but sequenced (late packets are
	// dropped).
	Unsequenced = C.ENET_PACKET_FLAG_UNSEQUENCED
)

// EventType is an ENetEventType.
type EventType int

// Event types returned by Host.Service.
const (
	EventNone       EventType = C.ENET_EVENT_TYPE_NONE
	EventConnect    EventType = C.ENET_EVENT_TYPE_CONNECT
	EventDisconnect EventType = C.ENET_EVENT_TYPE_DISCONNECT
	EventReceive    EventType = C.ENET_EVENT_TYPE_RECEIVE
)

var (
	initOnce sync.Once
	initErr  error
)

// Initialize calls enet_initialize once per process. It does not block
// and is goroutine-safe; NewHost calls it.
func Initialize() error {
	initOnce.Do(func() {
		if C.enet_initialize() != 0 {
			initErr = errors.New("enet: enet_initialize failed")
		}
	})
	return initErr
}

// Host is an ENetHost: one UDP socket and its peers. Not goroutine-safe.
type Host struct {
	h  *C.ENetHost
	ev *C.pn_event // C memory: Service's out parameter
}

// Peer is an ENetPeer of a Host. Comparable: the same remote is the same
// Peer for the host's life.
type Peer struct{ p *C.ENetPeer }

// NewHost creates a host (enet_host_create, no bandwidth limits). With a
// valid bind address it listens there (port 0: any free port); with the
// zero AddrPort it is a client host. It does not block.
func NewHost(bind netip.AddrPort, peers, channels int) (*Host, error) {
	if err := Initialize(); err != nil {
		return nil, err
	}
	var ip *C.char
	if bind.IsValid() {
		ip = C.CString(bind.Addr().String())
		defer C.free(unsafe.Pointer(ip))
	}
	h := C.pn_host(ip, C.enet_uint16(bind.Port()), C.size_t(peers), C.size_t(channels))
	if h == nil {
		return nil, fmt.Errorf("enet: enet_host_create(%v) failed", bind)
	}
	ev := (*C.pn_event)(C.calloc(1, C.size_t(unsafe.Sizeof(C.pn_event{}))))
	return &Host{h: h, ev: ev}, nil
}

// Fd returns the host's UDP socket (non-blocking), for callers that wait
// for it to be readable in their own event loop and then call Service
// with a 0 timeout. The host keeps owning it. It does not block.
func (h *Host) Fd() int { return int(h.h.socket) }

// Port returns the host's bound UDP port. It does not block.
func (h *Host) Port() uint16 { return uint16(h.h.address.port) }

// Connect starts connecting to addr (enet_host_connect); the connection is
// up when Service returns EventConnect for the returned peer. It does not
// block.
func (h *Host) Connect(addr netip.AddrPort, channels int) (Peer, error) {
	ip := C.CString(addr.Addr().String())
	defer C.free(unsafe.Pointer(ip))
	p := C.pn_connect(h.h, ip, C.enet_uint16(addr.Port()), C.size_t(channels))
	if p == nil {
		return Peer{}, fmt.Errorf("enet: enet_host_connect(%v) failed", addr)
	}
	return Peer{p}, nil
}

// Event is what Host.Service returned. For EventReceive, N is the
// packet's length; min(N, len(buf)) bytes of it were copied into the
// caller's buffer.
type Event struct {
	Type    EventType
	Peer    Peer
	Channel int
	N       int
}

// Service is enet_host_service: it sends what is queued, waits up to
// timeoutMS milliseconds for an event (0: does not wait) and returns it;
// EventNone when none came. A received packet is copied into buf. It
// blocks up to timeoutMS.
func (h *Host) Service(timeoutMS uint32, buf []byte) (Event, error) {
	r := C.pn_service(h.h, C.enet_uint32(timeoutMS), h.ev, bytesPtr(buf), C.size_t(len(buf)))
	switch {
	case r < 0:
		return Event{}, errors.New("enet: enet_host_service failed")
	case r == 0:
		return Event{}, nil
	}
	return Event{Type: EventType(h.ev._type), Peer: Peer{h.ev.peer}, Channel: int(h.ev.channel), N: int(h.ev.len)}, nil
}

// Flush is enet_host_flush: it sends every queued command now, without
// receiving. It does not block.
func (h *Host) Flush() { C.enet_host_flush(h.h) }

// Broadcast queues one packet of data to every connected peer
// (enet_host_broadcast: one packet, shared). It does not block.
func (h *Host) Broadcast(channel int, data []byte, flags uint32) error {
	if C.pn_broadcast(h.h, C.enet_uint8(channel), bytesPtr(data), C.size_t(len(data)), C.enet_uint32(flags)) < 0 {
		return errors.New("enet: enet_packet_create failed")
	}
	return nil
}

// DatagramsIn returns the host's totalReceivedPackets: UDP datagrams
// received so far (32-bit: it wraps). It does not block.
func (h *Host) DatagramsIn() uint32 { return uint32(h.h.totalReceivedPackets) }

// DatagramsOut returns the host's totalSentPackets: UDP datagrams sent so
// far (32-bit: it wraps). It does not block.
func (h *Host) DatagramsOut() uint32 { return uint32(h.h.totalSentPackets) }

// Destroy is enet_host_destroy: it frees the host and its peers, without
// telling them. It does not block.
func (h *Host) Destroy() {
	C.enet_host_destroy(h.h)
	C.free(unsafe.Pointer(h.ev))
	h.h, h.ev = nil, nil
}

// Send queues data on channel (enet_peer_send); it goes out on the next
// Service or Flush. It does not block.
func (p Peer) Send(channel int, data []byte, flags uint32) error {
	if C.pn_send(p.p, C.enet_uint8(channel), bytesPtr(data), C.size_t(len(data)), C.enet_uint32(flags)) < 0 {
		return errors.New("enet: enet_peer_send failed")
	}
	return nil
}

// Queued returns how many commands wait in the peer's outgoing queue
// (sent reliable ones awaiting an ack are not counted): the only
// backpressure ENet offers an application. It does not block.
func (p Peer) Queued() int { return int(C.pn_queued(p.p)) }

// PacketCounts returns the peer's packetsSent (reliable commands sent,
// resends included) and packetsLost (those whose ack timed out: ENet's
// declared loss). ENet zeroes both every ENET_PEER_PACKET_LOSS_INTERVAL
// (10 s) when it computes its smoothed packetLoss; LossTally sums them
// across those resets. It does not block.
func (p Peer) PacketCounts() (sent, lost uint32) {
	var s, l C.enet_uint32
	C.pn_counts(p.p, &s, &l)
	return uint32(s), uint32(l)
}

// LossTally accumulates a peer's PacketCounts across ENet's periodic
// resets: call Sample after each Host.Service (the counters only move
// there). Counts moved between the last Sample and a reset are missed.
// It is not goroutine-safe.
type LossTally struct {
	Sent, Lost         uint64 // totals so far
	lastSent, lastLost uint32
}

// Sample adds what the peer's counters moved since the last call.
func (t *LossTally) Sample(p Peer) { t.add(p.PacketCounts()) }

func (t *LossTally) add(s, l uint32) {
	if s < t.lastSent || l < t.lastLost { // reset: count from zero
		t.lastSent, t.lastLost = 0, 0
	}
	t.Sent += uint64(s - t.lastSent)
	t.Lost += uint64(l - t.lastLost)
	t.lastSent, t.lastLost = s, l
}

// bytesPtr is data's first byte for C, or nil when data is empty.
func bytesPtr(data []byte) *C.uchar {
	if len(data) == 0 {
		return nil
	}
	return (*C.uchar)(unsafe.Pointer(&data[0]))
}
