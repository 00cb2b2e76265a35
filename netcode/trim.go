package netcode

import "time"

// trim gives back to the garbage collector, at most once per trimInterval,
// the free buffers of the outbound queue that no get took since the last
// trim: after a burst (a server's broadcast to many clients) the endpoint
// returns to its idle size, and a busy one keeps what it uses (issue 13
// item 7). Connections call it from their timers.
func (q *outQueue) trim(now time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if now.Sub(q.trimmed) < trimInterval {
		return
	}
	q.trimmed = now
	n := len(q.free) - q.freeLow
	clear(q.free[n:])
	if q.free = q.free[:n]; n == 0 {
		q.free = nil
	}
	q.freeLow = n
}
