package httpapi

import (
	"fmt"
	"time"
)

// Limits bounds every resource a client can make the server spend. Each
// field has a name, a unit and a default; a request over a limit gets
// 413, 422 or 429, never unbounded memory.
type Limits struct {
	MaxBodyBytes       int           `yaml:"max_body_bytes"`        // request body, bytes (413 past it)
	MaxHeaderBytes     int           `yaml:"max_header_bytes"`      // request line + headers, bytes (fasthttp read buffer)
	MaxResponseBytes   int           `yaml:"max_response_bytes"`    // write buffer per connection, bytes
	MaxConcurrency     int           `yaml:"max_concurrency"`       // requests served at once; more wait or get 503 from fasthttp
	MaxConnsPerIP      int           `yaml:"max_conns_per_ip"`      // open connections from one client address
	MaxRequestsPerConn int           `yaml:"max_requests_per_conn"` // requests on one keep-alive connection before it is closed
	ReadTimeout        time.Duration `yaml:"read_timeout"`          // whole request read, including the body
	WriteTimeout       time.Duration `yaml:"write_timeout"`         // whole response write
	IdleTimeout        time.Duration `yaml:"idle_timeout"`          // keep-alive connection with no request
	MaxBatchSKUs       int           `yaml:"max_batch_skus"`        // SKUs in one availability batch (422 past it)
}

// DefaultLimits returns the limits stockd starts with when the config names none.
func DefaultLimits() Limits {
	return Limits{
		MaxBodyBytes:       1 << 20,
		MaxHeaderBytes:     8 << 10,
		MaxResponseBytes:   16 << 10,
		MaxConcurrency:     16 << 10,
		MaxConnsPerIP:      4096,
		MaxRequestsPerConn: 0,
		ReadTimeout:        5 * time.Second,
		WriteTimeout:       5 * time.Second,
		IdleTimeout:        60 * time.Second,
		MaxBatchSKUs:       1000,
	}
}

// Validate reports the first limit that is out of range.
func (l Limits) Validate() error {
	switch {
	case l.MaxBodyBytes < 1024:
		return fmt.Errorf("httpapi: MaxBodyBytes %d is below 1024", l.MaxBodyBytes)
	case l.MaxHeaderBytes < 1024:
		return fmt.Errorf("httpapi: MaxHeaderBytes %d is below 1024", l.MaxHeaderBytes)
	case l.MaxResponseBytes < 1024:
		return fmt.Errorf("httpapi: MaxResponseBytes %d is below 1024", l.MaxResponseBytes)
	case l.MaxConcurrency < 1:
		return fmt.Errorf("httpapi: MaxConcurrency %d must be positive", l.MaxConcurrency)
	case l.MaxConnsPerIP < 0 || l.MaxRequestsPerConn < 0:
		return fmt.Errorf("httpapi: MaxConnsPerIP and MaxRequestsPerConn must not be negative")
	case l.ReadTimeout <= 0 || l.WriteTimeout <= 0 || l.IdleTimeout <= 0:
		return fmt.Errorf("httpapi: read, write and idle timeouts must be positive")
	case l.MaxBatchSKUs < 1:
		return fmt.Errorf("httpapi: MaxBatchSKUs %d must be positive", l.MaxBatchSKUs)
	}
	return nil
}
