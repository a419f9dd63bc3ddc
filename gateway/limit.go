package gateway

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
)

// limiter admits at most concurrency requests at once and lets at most
// buffer more wait; any request beyond them is refused at once (429), as
// Walrus's load-shedding buffer does.
type limiter struct {
	name    string
	slots   chan struct{}
	max     int64 // concurrency + buffer
	waiting atomic.Int64
}

func newLimiter(name string, concurrency, buffer int) *limiter {
	return &limiter{name: name, slots: make(chan struct{}, max(concurrency, 1)), max: int64(max(concurrency, 1) + buffer)}
}

// acquire takes a slot, waiting in the buffer if there is room. The
// returned release must be called once.
func (l *limiter) acquire(ctx context.Context) (release func(), err *apiError) {
	if l.waiting.Add(1) > l.max {
		l.waiting.Add(-1)
		e := errf(http.StatusTooManyRequests, ReasonTooManyRequests,
			"the %s is receiving too many requests; please try again later", l.name)
		e.RetryAfter = 1
		return nil, e
	}
	select {
	case l.slots <- struct{}{}:
		return func() { <-l.slots; l.waiting.Add(-1) }, nil
	case <-ctx.Done():
		l.waiting.Add(-1)
		return nil, unavailable(fmt.Sprintf("the request ended while waiting for the %s: %v", l.name, ctx.Err()))
	}
}
