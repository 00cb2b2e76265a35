package linkcond_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pumpnet/pumpnet/netcode/internal/linkcond"
)

func TestValidate(t *testing.T) {
	ok := []linkcond.Config{
		{},
		{Seed: 1, Send: linkcond.Direction{Latency: time.Hour, Jitter: time.Hour, Loss: 1, Duplicate: 1, Reorder: 1, Bandwidth: 1, QueueBytes: 1}},
		{Receive: linkcond.Direction{BurstEnter: 0.1, BurstExit: 0.5, BurstLoss: 0.5}},
		{Receive: linkcond.Direction{BurstExit: 0.5}}, // exit without enter: burst loss off
	}
	for _, c := range ok {
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v, want nil", c, err)
		}
	}
	bad := []struct {
		field string
		cfg   linkcond.Config
	}{
		{"Send.Loss", linkcond.Config{Send: linkcond.Direction{Loss: 1.01}}},
		{"Send.Loss", linkcond.Config{Send: linkcond.Direction{Loss: math.NaN()}}},
		{"Receive.Loss", linkcond.Config{Receive: linkcond.Direction{Loss: -0.1}}},
		{"Send.BurstEnter", linkcond.Config{Send: linkcond.Direction{BurstEnter: 2, BurstExit: 1}}},
		{"Send.BurstExit", linkcond.Config{Send: linkcond.Direction{BurstEnter: 0.1}}},
		{"Receive.BurstLoss", linkcond.Config{Receive: linkcond.Direction{BurstLoss: math.Inf(1)}}},
		{"Send.Duplicate", linkcond.Config{Send: linkcond.Direction{Duplicate: -1}}},
		{"Send.Reorder", linkcond.Config{Send: linkcond.Direction{Reorder: 1.5}}},
		{"Send.Latency", linkcond.Config{Send: linkcond.Direction{Latency: -time.Millisecond}}},
		{"Receive.Latency", linkcond.Config{Receive: linkcond.Direction{Latency: linkcond.MaxDuration + 1}}},
		{"Send.Jitter", linkcond.Config{Send: linkcond.Direction{Jitter: -1}}},
		{"Send.ReorderDelay", linkcond.Config{Send: linkcond.Direction{ReorderDelay: -1}}},
		{"Send.Bandwidth", linkcond.Config{Send: linkcond.Direction{Bandwidth: -1}}},
		{"Receive.QueueBytes", linkcond.Config{Receive: linkcond.Direction{QueueBytes: -1}}},
	}
	for _, b := range bad {
		err := b.cfg.Validate()
		if !errors.Is(err, linkcond.ErrInvalidConfig) {
			t.Errorf("Validate(%+v) = %v, want ErrInvalidConfig", b.cfg, err)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "linkcond: ") || !strings.Contains(msg, b.field) {
			t.Errorf("error %q does not start with \"linkcond: \" and name %s", msg, b.field)
		}
	}
}
