package sources

import (
	"cmp"
	"math/rand/v2"
	"time"
)

// RetryPolicy says how often and how patiently a client retries a request
// after a 429, a 5xx, a timeout or a dropped connection.
type RetryPolicy struct {
	// MaxRetries is how often one request is retried. Default 6.
	MaxRetries int
	// Base and Max bound the exponential backoff with full jitter: a wait
	// in [0, Base·2^attempt], capped at Max. Defaults 500 ms and 30 s. A
	// 429's Retry-After, when longer, is honoured (up to 5 minutes).
	Base, Max time.Duration
}

// WithDefaults fills in the zero fields of p.
func (p RetryPolicy) WithDefaults() RetryPolicy {
	p.MaxRetries = cmp.Or(p.MaxRetries, 6)
	p.Base = cmp.Or(p.Base, 500*time.Millisecond)
	p.Max = cmp.Or(p.Max, 30*time.Second)
	return p
}

// Backoff is the wait before retry number attempt+1: exponential with full
// jitter, a random duration in [0, min(Base·2^attempt, Max)].
func (p RetryPolicy) Backoff(attempt int) time.Duration {
	ceil := min(p.Base<<min(attempt, 30), p.Max)
	if ceil <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceil) + 1))
}
