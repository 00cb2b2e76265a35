package harness

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/codec"
	"github.com/pumpnet/pumpnet/engine"
	"github.com/pumpnet/pumpnet/netcode"
)

// Blob is the message of every engine benchmark: an action and opaque
// bytes whose first bytes carry a sequence number and a send time. Its
// size is chosen so that the engine frame (kind byte + msgpack) that
// netcode carries has an exact length, the same as the netcode-level and
// raw benchmarks' payloads.
type Blob struct {
	Action string `msgpack:"action"`
	Data   []byte `msgpack:"d"`
}

// NewBlob returns a message whose engine frame is frameSize bytes long.
// It panics if there is none (frameSize too small for action).
func NewBlob(action string, frameSize int) *Blob {
	c := codec.Default()
	for n := frameSize; n >= 0; n-- {
		m := &Blob{Action: action, Data: make([]byte, n)}
		if b, err := c.Append([]byte{0}, m); err == nil && len(b) == frameSize {
			return m
		}
	}
	panic(fmt.Sprintf("harness: no %q message has a %d-byte frame", action, frameSize))
}

// ConnectEngine connects an engine client to target and pumps it until
// the server's "connected" greeting arrived (up to 10 s); it blocks.
func ConnectEngine(tb testing.TB, target string, cfg *engine.ClientConfig) *engine.Client {
	tb.Helper()
	cl, err := engine.Connect(target, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := WaitGreeting(cl, 10*time.Second); err != nil {
		cl.Close()
		tb.Fatal(err)
	}
	return cl
}

// WaitGreeting pumps cl until the server greeted it, or fails after
// timeout; it blocks.
func WaitGreeting(cl *engine.Client, timeout time.Duration) error {
	greeted := false
	var failed error
	cl.Handle("connected", func(engine.Msg) { greeted = true })
	cl.Handle("error", func(err error) { failed = err })
	cl.Handle("disconnected", func(d engine.Disconnected) {
		if failed == nil {
			failed = fmt.Errorf("disconnected: %s", d.Reason)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for !greeted && failed == nil {
		if ctx.Err() != nil {
			return errors.New("harness: no greeting from the server in time")
		}
		cl.PumpWait(ctx, 50*time.Millisecond)
	}
	return failed
}

// Datagrams counts the datagrams two endpoints received: what went over
// the wire between them, both directions.
func Datagrams(a, b *netcode.Endpoint) uint64 {
	return a.Stats().DatagramsIn + b.Stats().DatagramsIn
}
