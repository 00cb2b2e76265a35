package delivery

import (
	"fmt"
	"math"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/wire"
)

// FrameReserve is the room AppendFrames leaves free next to a full-size
// fragment: a packet whose other frames (an ACK frame is at most 54 bytes,
// plus PING or KEYS_READY) take at most FrameReserve bytes of
// MaxFramePayload always has room for any single unit the Sender writes.
const FrameReserve = 64

// MinFragmentSize is the smallest number of bytes a fragment other than the
// last may carry. Senders refuse configurations that would fragment
// smaller; receivers treat a smaller non-last fragment as a protocol
// violation. It bounds fragment counts and the bookkeeping a peer can make
// the Receiver keep per byte.
const MinFragmentSize = 256

// maxUnreliableSets bounds the concurrently incomplete fragment sets of one
// unreliable channel; the oldest is dropped when a new one starts.
const maxUnreliableSets = 16

// Bookkeeping charged on top of payload bytes, so that empty messages and
// tiny fragments are bounded too. The Receiver's figures cover what a
// stored item really costs (its record, its share of growing queues and
// tables); receiver_test.go checks them against unsafe.Sizeof.
const (
	sendOverhead     = 64  // per message queued on the Sender
	recvMsgOverhead  = 192 // per whole message stored by the Receiver
	recvSetOverhead  = 192 // per fragment set, plus its bitset
	recvFragOverhead = 64  // per stored fragment
)

// DefaultMaxFramePayload is Config.MaxFramePayload's default: a
// 1200-byte datagram minus the packet header and the AEAD tag.
const DefaultMaxFramePayload = 1200 - wire.HeaderLen - wire.TagLen

// Defaults applied to zero Config fields.
const (
	defaultMaxMessageSize  = 1 << 20
	defaultSendQueueBytes  = 8 << 20
	defaultWindow          = 1024
	defaultRecvBufferBytes = 8 << 20
	defaultFragmentTimeout = 2 * time.Second
)

// Config configures a Sender or a Receiver. The zero value works; zero
// fields take the defaults documented on each field. Both peers of a
// connection must use the same Modes; the other fields may differ. A Config
// is copied by NewSender and NewReceiver.
type Config struct {
	// Modes holds the delivery mode of each channel, numbered from 0.
	// Length 1..256; nil or empty means one ReliableOrdered channel.
	Modes []Mode
	// MaxMessageSize bounds one message in bytes; a receiver treats a
	// larger one as a protocol violation, so the peers should agree.
	// Default 1 MiB; at most
	// 1 GiB, and small enough that a message needs at most
	// wire.MaxFragmentCount fragments.
	MaxMessageSize int
	// MaxFramePayload is the number of bytes available for frames in one
	// packet (the datagram budget minus header and tag). Default
	// 1200-13-16. Fragments carry MaxFramePayload minus FrameReserve minus
	// a worst-case FRAGMENT header, which must be at least MinFragmentSize.
	MaxFramePayload int
	// SendQueueBytes bounds the Sender's queued plus unacknowledged bytes,
	// all channels together (payload plus 64 bytes of bookkeeping per
	// message; buffers come from size classes, so memory in use can be up
	// to a quarter more). Default 8 MiB; must be at least MaxMessageSize. A message
	// is always accepted by an empty queue.
	SendQueueBytes int
	// Window is the number of reliable messages in flight per channel on
	// the Sender, and the span of sequence numbers a Receiver accepts
	// beyond the oldest one it still misses. Default 1024, at most 65536.
	// Both peers must use the same Window (or the receiver's must be the
	// larger): a receiver treats a sequence number beyond its own window
	// as a protocol violation.
	Window int
	// RecvBufferBytes bounds the Receiver's received-but-undelivered and
	// reassembly bytes (payload plus bookkeeping, see Receiver). Default
	// 8 MiB; it must hold at least one message of MaxMessageSize plus one
	// packet's worth (NewReceiver says how much is needed).
	RecvBufferBytes int
	// FragmentTimeout is how long an incomplete fragment set of an
	// unreliable channel is kept before Receiver.Expire frees it. Default
	// 2 s. Reliable sets never expire.
	FragmentTimeout time.Duration
}

// resolved is a validated Config with defaults applied and derived limits.
type resolved struct {
	Config
	fragSize   int // payload bytes of every fragment but the last (sender)
	maxCount   int // largest fragment count a receiver accepts
	reserve    int // receive bytes kept for a reliable head message
	modesOwned []Mode
}

func (c Config) resolve() (resolved, error) {
	r := resolved{Config: c}
	d := &r.Config
	if len(d.Modes) == 0 {
		r.modesOwned = []Mode{ReliableOrdered}
	} else {
		r.modesOwned = append([]Mode(nil), d.Modes...)
	}
	d.Modes = r.modesOwned
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	def(&d.MaxMessageSize, defaultMaxMessageSize)
	def(&d.MaxFramePayload, DefaultMaxFramePayload)
	def(&d.SendQueueBytes, defaultSendQueueBytes)
	def(&d.Window, defaultWindow)
	def(&d.RecvBufferBytes, defaultRecvBufferBytes)
	if d.FragmentTimeout == 0 {
		d.FragmentTimeout = defaultFragmentTimeout
	}
	if len(d.Modes) > 256 {
		return r, fmt.Errorf("%w: %d channels, at most 256", ErrConfig, len(d.Modes))
	}
	for i, m := range d.Modes {
		if !m.valid() {
			return r, fmt.Errorf("%w: channel %d has unknown mode %d", ErrConfig, i, uint8(m))
		}
	}
	if d.MaxMessageSize < 1 || d.MaxMessageSize > 1<<30 {
		return r, fmt.Errorf("%w: MaxMessageSize %d outside 1..2^30", ErrConfig, d.MaxMessageSize)
	}
	if d.MaxFramePayload < 1 || d.MaxFramePayload > math.MaxUint16 {
		return r, fmt.Errorf("%w: MaxFramePayload %d outside 1..65535", ErrConfig, d.MaxFramePayload)
	}
	hdr := wire.FragmentFrameLen(math.MaxUint64, wire.MaxFragmentCount-1, wire.MaxFragmentCount, d.MaxFramePayload) - d.MaxFramePayload
	r.fragSize = d.MaxFramePayload - FrameReserve - hdr
	if r.fragSize < MinFragmentSize {
		return r, fmt.Errorf("%w: MaxFramePayload %d leaves fragments of %d bytes, below %d",
			ErrConfig, d.MaxFramePayload, r.fragSize, MinFragmentSize)
	}
	if n := (d.MaxMessageSize + r.fragSize - 1) / r.fragSize; n > wire.MaxFragmentCount {
		return r, fmt.Errorf("%w: MaxMessageSize %d needs %d fragments of %d bytes, more than %d",
			ErrConfig, d.MaxMessageSize, n, r.fragSize, wire.MaxFragmentCount)
	}
	if d.SendQueueBytes < d.MaxMessageSize {
		return r, fmt.Errorf("%w: SendQueueBytes %d below MaxMessageSize %d", ErrConfig, d.SendQueueBytes, d.MaxMessageSize)
	}
	if d.Window < 1 || d.Window > 1<<16 {
		return r, fmt.Errorf("%w: Window %d outside 1..65536", ErrConfig, d.Window)
	}
	if d.FragmentTimeout < 0 {
		return r, fmt.Errorf("%w: negative FragmentTimeout %v", ErrConfig, d.FragmentTimeout)
	}
	// A peer's fragments carry at least MinFragmentSize bytes each (but the
	// last), so a message of at most MaxMessageSize has at most maxCount.
	r.maxCount = min((d.MaxMessageSize-1)/MinFragmentSize+1, wire.MaxFragmentCount)
	r.reserve = maxMessageCharge(d.MaxMessageSize, r.maxCount)
	if need := r.reserve + bufCharge(d.MaxFramePayload) + recvMsgOverhead; d.RecvBufferBytes < need {
		return r, fmt.Errorf("%w: RecvBufferBytes %d below %d (one message of MaxMessageSize %d with its bookkeeping, plus one packet)",
			ErrConfig, d.RecvBufferBytes, need, d.MaxMessageSize)
	}
	return r, nil
}

// bufCharge is what the Receiver charges for storing n bytes: the capacity
// of the pooled buffer that holds them.
func bufCharge(n int) int {
	_, size := classOf(n)
	return size
}

// maxMessageCharge bounds what one message of at most maxMsg bytes can be
// charged on the Receiver, whole or in at most maxCount fragments. A
// buffer of n bytes has a capacity of at most max(64, 1.25n) (pool size
// classes), so fragments of sizes summing to at most maxMsg cost at most
// 1.25*maxMsg + 64 per fragment plus their bookkeeping.
func maxMessageCharge(maxMsg, maxCount int) int {
	whole := bufCharge(maxMsg) + recvMsgOverhead
	frags := setCharge(maxCount) + maxCount*(recvFragOverhead+minClassSize) + maxMsg + maxMsg/4 + 1
	return max(whole, frags)
}

// setCharge is what a fragment set of count fragments costs before any
// fragment is stored: its fixed bookkeeping and its bitset.
func setCharge(count int) int { return recvSetOverhead + 8*((count+63)/64) }
