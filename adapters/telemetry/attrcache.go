package telemetry

import (
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// measureOpts are the ready option slices of one attribute set, so a
// record helper passes them without building a slice or a set per call.
type measureOpts struct {
	add    []metric.AddOption
	record []metric.RecordOption
}

func newMeasureOpts(set attribute.Set) measureOpts {
	opt := metric.WithAttributeSet(set)
	return measureOpts{add: []metric.AddOption{opt}, record: []metric.RecordOption{opt}}
}

// attrCache memoises the attribute sets of a record helper by a comparable
// key (route, status, …). It holds at most MaxCachedAttributeSets; past
// that a set is built per call, still correct, only slower.
type attrCache[K comparable] struct {
	build func(K) attribute.Set
	mu    sync.RWMutex
	sets  map[K]measureOpts
}

func newAttrCache[K comparable](build func(K) attribute.Set) *attrCache[K] {
	return &attrCache[K]{build: build, sets: make(map[K]measureOpts)}
}

func (c *attrCache[K]) get(key K) measureOpts {
	c.mu.RLock()
	opts, ok := c.sets[key]
	c.mu.RUnlock()
	if ok {
		return opts
	}
	opts = newMeasureOpts(c.build(key))
	c.mu.Lock()
	if len(c.sets) < MaxCachedAttributeSets {
		c.sets[key] = opts
	}
	c.mu.Unlock()
	return opts
}
