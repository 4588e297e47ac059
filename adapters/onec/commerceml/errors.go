package commerceml

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by Read and Import wrap one of them (or a Visitor's
// error) inside a *ParseError that names the file and line. None of them is worth a
// retry with the same input.
var (
	// ErrMalformed: the input is not well-formed XML (including invalid UTF-8 in a
	// UTF-8 file); the wrapped *xml.SyntaxError, when there is one, has the details.
	ErrMalformed = errors.New("commerceml: malformed XML")
	// ErrNotCommerceML: the root element is not КоммерческаяИнформация.
	ErrNotCommerceML = errors.New("commerceml: root element is not КоммерческаяИнформация")
	// ErrLimitExceeded: a Limits value was exceeded; the message names the limit.
	ErrLimitExceeded = errors.New("commerceml: limit exceeded")
	// ErrUnsupportedEncoding: the XML declaration names an encoding other than UTF-8 or windows-1251.
	ErrUnsupportedEncoding = errors.New("commerceml: unsupported encoding")
	// ErrInvalidLimits: a Limits value is not positive.
	ErrInvalidLimits = errors.New("commerceml: invalid limits")
	// ErrInvalidNumber: a decimal is not a number (see ParseDecimal).
	ErrInvalidNumber = errors.New("commerceml: invalid number")
	// ErrNumberRange: a decimal does not fit the requested integer.
	ErrNumberRange = errors.New("commerceml: number out of range")
	// ErrUnsafePath: a zip entry name is absolute, has a drive letter or climbs with "..".
	ErrUnsafePath = errors.New("commerceml: unsafe path in archive")
	// ErrInvalidOrder: WriteOrders was given an order it cannot write.
	ErrInvalidOrder = errors.New("commerceml: invalid order")
	// ErrInvalidOptions: WriteOrders was given incomplete options.
	ErrInvalidOptions = errors.New("commerceml: invalid write options")
)

// ParseError is an error at a position in a named input.
type ParseError struct {
	File   string // name given to Read (or the archive entry)
	Line   int    // 1-based line, 0 when unknown
	Offset int64  // byte offset in the decoded input
	Err    error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

func limitError(name string, value int64) error {
	return fmt.Errorf("%w: %s (%d)", ErrLimitExceeded, name, value)
}
