package cmlevents

import "errors"

// Sentinel errors.
var (
	// ErrInvalidConfig: a Config field is unusable; the message names it.
	ErrInvalidConfig = errors.New("cmlevents: invalid config")
	// ErrFinished: the Import was used after Finish.
	ErrFinished = errors.New("cmlevents: import already finished")
	// ErrStoreFull: the Store holds MaxKnownOffers offers; further offers are not remembered.
	ErrStoreFull = errors.New("cmlevents: store full")
)

// PublishError is a Sink failure. The events of the failed batch and of everything after
// it were not acknowledged; publishing the same import again is safe (stock.set and
// price.set are absolute, item events idempotent).
type PublishError struct {
	Events int // events in the failed batch
	Err    error
}

func (e *PublishError) Error() string {
	return "cmlevents: publish failed: " + e.Err.Error()
}

// Unwrap returns the Sink's error.
func (e *PublishError) Unwrap() error { return e.Err }
