package rendezvous

import (
	"net/netip"
	"time"
)

// bucket is a token bucket: it holds up to burst tokens and gains rate per
// second.
type bucket struct {
	tokens   float64
	last     time.Time
	lastMiss time.Time // the miss limiter's: when the source last missed
}

// take refills b to now and takes one token if there is one.
func (b *bucket) take(now time.Time, rate, burst float64) bool {
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens += dt * rate
		if b.tokens > burst {
			b.tokens = burst
		}
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// full reports whether b would be full at now (it can be forgotten: a new
// bucket starts full).
func (b *bucket) full(now time.Time, rate, burst float64) bool {
	return b.tokens+now.Sub(b.last).Seconds()*rate >= burst
}

// limiter keeps one token bucket per source (sourceKey). It tracks at most
// max sources: when full it forgets sources whose buckets have refilled,
// and if none have, it refuses new sources. Not goroutine-safe: the
// server's lock guards it.
type limiter struct {
	rate, burst float64
	max         int
	buckets     map[netip.Prefix]*bucket
}

func newLimiter(rate, burst float64, max int) *limiter {
	return &limiter{rate: rate, burst: burst, max: max, buckets: make(map[netip.Prefix]*bucket)}
}

// allow takes a token for src. tracked is false when the source table is
// full (the caller refuses with ErrServerFull).
func (l *limiter) allow(src netip.Prefix, now time.Time) (ok, tracked bool) {
	b := l.buckets[src]
	if b == nil {
		if len(l.buckets) >= l.max {
			l.sweep(now)
			if len(l.buckets) >= l.max {
				return false, false
			}
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[src] = b
	}
	return b.take(now, l.rate, l.burst), true
}

func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.full(now, l.rate, l.burst) && now.Sub(b.lastMiss) >= missQuiet {
			delete(l.buckets, k)
		}
	}
}

// sourceKey is the unit rates are counted per: the IPv4 address, or the
// /64 of an IPv6 address (one home network gets one /64 or more).
func sourceKey(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.WithZone("").Prefix(64)
	return p
}

// refund gives back the token src just took.
func (l *limiter) refund(src netip.Prefix) {
	if b := l.buckets[src]; b != nil {
		b.tokens = min(b.tokens+1, l.burst)
	}
}
