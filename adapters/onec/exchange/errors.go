package exchange

import "errors"

// Sentinel errors.
var (
	// ErrInvalidConfig: a Config field is unusable; the message names it.
	ErrInvalidConfig = errors.New("exchange: invalid config")
	// ErrUnsafePath: a filename parameter is absolute, climbs with "..", or has
	// characters outside the safe set.
	ErrUnsafePath = errors.New("exchange: unsafe file name")
	// ErrBadPasswordHash: a PasswordHash is not in a known form.
	ErrBadPasswordHash = errors.New("exchange: bad password hash")
)
