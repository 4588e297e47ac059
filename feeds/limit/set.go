package limit

import (
	"fmt"
	"sync"
)

// Key names one bucket: a marketplace account and one of its method groups
// ("ozon:12345", "stocks").
type Key struct {
	Account string
	Group   string
}

// MaxBuckets bounds the buckets one Set makes.
const MaxBuckets = 4096

// Set hands out one bucket per (account, method group), made on first use
// from the group's config. Safe for concurrent use.
type Set struct {
	groups map[string]Config

	mu      sync.Mutex
	buckets map[Key]*Bucket
}

// NewSet checks every group's config.
func NewSet(groups map[string]Config) (*Set, error) {
	copied := make(map[string]Config, len(groups))
	for g, cfg := range groups {
		if err := cfg.Validate(); err != nil {
			return nil, fmt.Errorf("limit: group %q: %w", g, err)
		}
		copied[g] = cfg
	}
	return &Set{groups: copied, buckets: make(map[Key]*Bucket)}, nil
}

// Bucket returns the bucket of k, making it if needed.
func (s *Set) Bucket(k Key) (*Bucket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.buckets[k]; ok {
		return b, nil
	}
	cfg, ok := s.groups[k.Group]
	if !ok {
		return nil, fmt.Errorf("limit: no config for method group %q", k.Group)
	}
	if len(s.buckets) >= MaxBuckets {
		return nil, fmt.Errorf("limit: %d buckets already (MaxBuckets)", MaxBuckets)
	}
	b, err := New(cfg)
	if err != nil {
		return nil, err
	}
	s.buckets[k] = b
	return b, nil
}

// Each calls fn for every bucket made so far, for metrics.
func (s *Set) Each(fn func(Key, *Bucket)) {
	s.mu.Lock()
	keys := make([]Key, 0, len(s.buckets))
	bs := make([]*Bucket, 0, len(s.buckets))
	for k, b := range s.buckets {
		keys = append(keys, k)
		bs = append(bs, b)
	}
	s.mu.Unlock()
	for i := range keys {
		fn(keys[i], bs[i])
	}
}
