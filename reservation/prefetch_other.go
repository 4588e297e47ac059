//go:build !amd64 && !arm64

package reservation

import "unsafe"

// prefetch is a no-op where the package has no prefetch instruction.
func prefetch(addr unsafe.Pointer) {}
