//go:build amd64 || arm64

package reservation

import "unsafe"

// prefetch asks the CPU to start loading the cache line at addr without
// waiting for it. It never faults and changes nothing the program can see.
//
//go:noescape
func prefetch(addr unsafe.Pointer)
