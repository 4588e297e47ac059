package marketsim

import "sync"

// Violations counts the limits a client broke, by kind ("rate_stocks",
// "batch_size", "item_cooldown"...): each kind is a rule the real
// marketplace enforces. Safe for concurrent use.
type Violations struct {
	mu     sync.Mutex
	counts map[string]int64
}

// Add counts one violation of kind.
func (v *Violations) Add(kind string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.counts == nil {
		v.counts = make(map[string]int64)
	}
	v.counts[kind]++
}

// Count is the number of violations of kind.
func (v *Violations) Count(kind string) int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.counts[kind]
}

// Total is the number of violations of every kind.
func (v *Violations) Total() int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	var n int64
	for _, c := range v.counts {
		n += c
	}
	return n
}

// Snapshot copies the counters.
func (v *Violations) Snapshot() map[string]int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make(map[string]int64, len(v.counts))
	for k, c := range v.counts {
		out[k] = c
	}
	return out
}
