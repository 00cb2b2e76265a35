package linkcond

import "time"

// schedule is the scheduler goroutine: it hands on delayed copies of both
// directions at their due times, with one timer armed for the earliest.
func (c *Conn) schedule() {
	t := time.NewTimer(time.Hour)
	t.Stop()
	defer t.Stop()
	for {
		txNext, txOK := c.flushSend()
		rxNext, rxOK := c.flushReceive()
		switch {
		case txOK && rxOK:
			t.Reset(time.Duration(min(txNext, rxNext) - c.now()))
		case txOK:
			t.Reset(time.Duration(txNext - c.now()))
		case rxOK:
			t.Reset(time.Duration(rxNext - c.now()))
		default:
			t.Stop()
		}
		select {
		case <-c.done:
			return
		case <-c.wake:
		case <-t.C:
		}
	}
}
