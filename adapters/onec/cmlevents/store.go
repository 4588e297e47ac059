package cmlevents

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
)

// KnownOffer is an offer a source has reported, with the warehouses (our ids) its stock
// figures named.
type KnownOffer struct {
	SKU        string   `json:"sku"`
	Warehouses []string `json:"warehouses,omitempty"`
}

// Store remembers, per source, the last event seq and the offers each catalog has
// reported, so that a full snapshot can tell which offers it no longer lists. An
// implementation must be safe for concurrent use by several imports.
type Store interface {
	// ReserveSeqs reserves n consecutive seqs for source and returns the first; the
	// first reservation of a source starts after the store's base.
	ReserveSeqs(ctx context.Context, source string, n int) (first uint64, err error)
	// Remember records offers as reported by catalog, adding their warehouses to
	// those already known. ErrStoreFull when there is no room for a new offer.
	Remember(ctx context.Context, source, catalog string, offers []KnownOffer) error
	// Missing calls fn for each known offer of catalog for which present is false.
	// fn is called without any lock of the store held and may call the store.
	Missing(ctx context.Context, source, catalog string, present func(sku string) bool, fn func(KnownOffer) error) error
	// Forget drops offers of catalog (deleted, or zeroed after a snapshot lacked them).
	Forget(ctx context.Context, source, catalog string, skus []string) error
}

// DefaultMaxKnownOffers bounds a MemoryStore: offers over all sources and catalogs.
const DefaultMaxKnownOffers = 20_000_000

// MemoryStore is a Store in memory. Warehouse ids are interned, so an offer costs its
// SKU and two bytes per warehouse. Save and LoadMemoryStore keep it in a file between
// runs (stockctl import -state).
type MemoryStore struct {
	mu             sync.Mutex
	maxKnownOffers int
	baseSeq        uint64
	lastSeq        map[string]uint64
	catalogs       map[catalogKey]map[string][]uint16
	offers         int
	warehouses     []string
	warehouseIDs   map[string]uint16
}

type catalogKey struct{ source, catalog string }

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store whose sources' seqs start at baseSeq+1 and
// that holds at most maxKnownOffers offers.
func NewMemoryStore(baseSeq uint64, maxKnownOffers int) *MemoryStore {
	return &MemoryStore{
		maxKnownOffers: maxKnownOffers,
		baseSeq:        baseSeq,
		lastSeq:        map[string]uint64{},
		catalogs:       map[catalogKey]map[string][]uint16{},
		warehouseIDs:   map[string]uint16{},
	}
}

// ReserveSeqs implements Store.
func (s *MemoryStore) ReserveSeqs(_ context.Context, source string, n int) (uint64, error) {
	if n < 0 {
		panic("cmlevents: negative seq reservation")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	last, ok := s.lastSeq[source]
	if !ok {
		last = s.baseSeq
	}
	s.lastSeq[source] = last + uint64(n)
	return last + 1, nil
}

// raiseSeqs makes every source's next seq, and the base of new sources,
// come after min.
func (s *MemoryStore) raiseSeqs(min uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.baseSeq = max(s.baseSeq, min)
	for src, last := range s.lastSeq {
		s.lastSeq[src] = max(last, min)
	}
}

// LastSeq returns the last seq reserved for source (the base when none was).
func (s *MemoryStore) LastSeq(source string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if last, ok := s.lastSeq[source]; ok {
		return last
	}
	return s.baseSeq
}

// Remember implements Store.
func (s *MemoryStore) Remember(_ context.Context, source, catalog string, offers []KnownOffer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := catalogKey{source, catalog}
	known := s.catalogs[key]
	if known == nil {
		known = map[string][]uint16{}
		s.catalogs[key] = known
	}
	for _, o := range offers {
		ids, ok := known[o.SKU]
		if !ok && s.offers >= s.maxKnownOffers {
			return fmt.Errorf("%w: %d offers (MaxKnownOffers)", ErrStoreFull, s.maxKnownOffers)
		}
		for _, w := range o.Warehouses {
			id, err := s.intern(w)
			if err != nil {
				return err
			}
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		if !ok {
			s.offers++
		}
		known[o.SKU] = ids
	}
	return nil
}

func (s *MemoryStore) intern(w string) (uint16, error) {
	if id, ok := s.warehouseIDs[w]; ok {
		return id, nil
	}
	if len(s.warehouses) >= 1<<16-1 {
		return 0, fmt.Errorf("%w: 65535 warehouses", ErrStoreFull)
	}
	id := uint16(len(s.warehouses))
	s.warehouses = append(s.warehouses, w)
	s.warehouseIDs[w] = id
	return id, nil
}

// Missing implements Store. The missing offers are copied out under the lock, then fn
// is called for each.
func (s *MemoryStore) Missing(ctx context.Context, source, catalog string, present func(string) bool, fn func(KnownOffer) error) error {
	s.mu.Lock()
	var missing []KnownOffer
	for sku, ids := range s.catalogs[catalogKey{source, catalog}] {
		if present(sku) {
			continue
		}
		o := KnownOffer{SKU: sku}
		for _, id := range ids {
			o.Warehouses = append(o.Warehouses, s.warehouses[id])
		}
		missing = append(missing, o)
	}
	s.mu.Unlock()
	slices.SortFunc(missing, func(a, b KnownOffer) int { return strings.Compare(a.SKU, b.SKU) })
	for _, o := range missing {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

// Forget implements Store.
func (s *MemoryStore) Forget(_ context.Context, source, catalog string, skus []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	known := s.catalogs[catalogKey{source, catalog}]
	for _, sku := range skus {
		if _, ok := known[sku]; ok {
			delete(known, sku)
			s.offers--
		}
	}
	return nil
}

// Known returns the number of offers the store holds.
func (s *MemoryStore) Known() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offers
}

// storeFile is the JSON form of a MemoryStore.
type storeFile struct {
	Version  int                `json:"version"`
	BaseSeq  uint64             `json:"base_seq"`
	Sources  map[string]uint64  `json:"last_seq"`
	Catalogs []storeFileCatalog `json:"catalogs"`
}

type storeFileCatalog struct {
	Source  string       `json:"source"`
	Catalog string       `json:"catalog"`
	Offers  []KnownOffer `json:"offers"`
}

// Save writes the store as JSON.
func (s *MemoryStore) Save(w io.Writer) error {
	s.mu.Lock()
	f := storeFile{Version: 1, BaseSeq: s.baseSeq, Sources: maps.Clone(s.lastSeq)}
	for key, known := range s.catalogs {
		c := storeFileCatalog{Source: key.source, Catalog: key.catalog}
		for sku, ids := range known {
			o := KnownOffer{SKU: sku}
			for _, id := range ids {
				o.Warehouses = append(o.Warehouses, s.warehouses[id])
			}
			c.Offers = append(c.Offers, o)
		}
		slices.SortFunc(c.Offers, func(a, b KnownOffer) int { return strings.Compare(a.SKU, b.SKU) })
		f.Catalogs = append(f.Catalogs, c)
	}
	s.mu.Unlock()
	slices.SortFunc(f.Catalogs, func(a, b storeFileCatalog) int {
		if c := strings.Compare(a.Source, b.Source); c != 0 {
			return c
		}
		return strings.Compare(a.Catalog, b.Catalog)
	})
	enc := json.NewEncoder(w)
	return enc.Encode(f)
}

// LoadMemoryStore reads a store written by Save.
func LoadMemoryStore(r io.Reader, maxKnownOffers int) (*MemoryStore, error) {
	var f storeFile
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("cmlevents: read store: %w", err)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("cmlevents: read store: version %d, want 1", f.Version)
	}
	s := NewMemoryStore(f.BaseSeq, maxKnownOffers)
	for src, last := range f.Sources {
		s.lastSeq[src] = last
	}
	for _, c := range f.Catalogs {
		if err := s.Remember(context.Background(), c.Source, c.Catalog, c.Offers); err != nil {
			return nil, err
		}
	}
	return s, nil
}
