package reservation

import (
	"slices"
	"time"
)

// Ledger is the reservation ledger. It is not safe for concurrent use: one
// goroutine owns it (or wrap it in Guarded). The zero value is not usable;
// call New or Restore.
type Ledger struct {
	cfg Config
	lim Limits

	skuIDs map[string]uint32
	skus   []skuInfo
	whIDs  map[string]uint16
	whs    []warehouse
	cols   [][]*cellPage // [warehouse][page]

	channels []channel
	chanIDs  map[string]int
	// holdChans names holds' channels (hold.channel indexes it): the
	// configured ones and any a restored or replayed hold names.
	holdChans   []string
	holdChanIDs map[string]uint16
	srcWhs      []uint16 // union of the channels' warehouses
	whChans     []uint64 // per warehouse id: the channels selling from it (bit i: channel i)

	kits      map[uint32][]kitComponent // kit → components, in 1C's order
	kitsOf    map[uint32][]uint32       // component → kits, sorted by kit id
	links     []skuLink                 // kits and kitsOf by skuInfo.link, for the hot paths
	freeLinks []uint32
	items     map[uint32]*itemAttrs

	holds  holdIndex // active holds and the replay window of closed ones
	active int
	expiry expiryHeap

	short map[uint32]struct{} // SKUs with a cell where free < held

	dedupe  idWindow
	offsets map[Partition]*int64 // last applied offset of each partition
	// lastPart and lastOffset cache the partition of the last offset
	// looked up: a batch's events mostly come in runs of one partition.
	lastPart   Partition
	lastOffset *int64

	priceTypeIDs map[string]uint16
	priceTypes   []string
	prices       map[priceKey]Price

	seq       uint64 // Seq of the last record
	replaying bool   // ApplyRecord/Restore: policy limits off
	views     viewTracker
	plan      planScratch
}

// skuInfo is one interned SKU. 32 bytes: a million SKUs cost 32 MB here.
type skuInfo struct {
	name       string
	holds      int32  // active holds with an unconsumed allocation of this SKU
	link       uint32 // 1 + index in Ledger.links for a kit or component, else 0
	shortCells uint16 // cells where free < held
	flags      uint8
}

const (
	skuDeleted   uint8 = 1 << iota // item.delete: every channel sees 0
	skuKit                         // has an entry in Ledger.kits
	skuComponent                   // has an entry in Ledger.kitsOf
)

type warehouse struct {
	name   string
	safety int64 // default safety stock of the warehouse's cells
}

type channel struct {
	name     string
	sources  []uint16 // warehouses in priority order
	srcIdx   []int    // index of each source in Ledger.srcWhs
	strategy Strategy
	split    bool
}

// New returns an empty ledger.
func New(cfg Config) (*Ledger, error) {
	l, err := newEmpty(cfg)
	if err != nil {
		return nil, err
	}
	l.applyConfig()
	return l, nil
}

func newEmpty(cfg Config) (*Ledger, error) {
	cfg, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	l := &Ledger{
		cfg:          cfg,
		lim:          cfg.Limits,
		skuIDs:       make(map[string]uint32),
		whIDs:        make(map[string]uint16),
		chanIDs:      make(map[string]int, len(cfg.Channels)),
		holdChanIDs:  make(map[string]uint16, len(cfg.Channels)),
		kits:         make(map[uint32][]kitComponent),
		kitsOf:       make(map[uint32][]uint32),
		items:        make(map[uint32]*itemAttrs),
		holds:        newHoldIndex(cfg.Limits.MaxRetainedHolds),
		short:        make(map[uint32]struct{}),
		offsets:      make(map[Partition]*int64),
		priceTypeIDs: make(map[string]uint16),
		prices:       make(map[priceKey]Price),
	}
	l.dedupe.init(cfg.Limits.MaxAdjustDedupeIDs)
	return l, nil
}

// applyConfig interns the configured warehouses and SKUs (after any
// restored ones, so ids stay stable) and sets channels and safety stock.
func (l *Ledger) applyConfig() {
	for i, cc := range l.cfg.Channels {
		ch := channel{name: cc.Name, strategy: cc.Strategy, split: cc.AllowSplit}
		for _, name := range cc.Warehouses {
			wh := l.internWarehouse(name)
			ch.sources = append(ch.sources, wh)
			at := slices.Index(l.srcWhs, wh)
			if at < 0 {
				at = len(l.srcWhs)
				l.srcWhs = append(l.srcWhs, wh)
			}
			ch.srcIdx = append(ch.srcIdx, at)
		}
		l.channels = append(l.channels, ch)
		l.chanIDs[cc.Name] = i
		for _, wh := range ch.sources {
			for int(wh) >= len(l.whChans) {
				l.whChans = append(l.whChans, 0)
			}
			l.whChans[wh] |= 1 << i
		}
	}
	for _, s := range l.cfg.SafetyStock {
		if s.SKU == "" {
			l.setWarehouseSafety(l.internWarehouse(s.Warehouse), s.Qty)
		}
	}
	for _, s := range l.cfg.SafetyStock {
		if s.SKU != "" {
			wh := l.internWarehouse(s.Warehouse)
			c := l.cellFor(l.internSKU(s.SKU), wh)
			c.safety = int32(s.Qty)
			c.flags |= cellOwnSafety
		}
	}
}

// Seq returns the Seq of the last record the ledger produced or applied.
// Records are numbered 1, 2, 3... without gaps.
func (l *Ledger) Seq() uint64 { return l.seq }

// Channels returns the configured channel names in config order.
func (l *Ledger) Channels() []string {
	names := make([]string, len(l.channels))
	for i, ch := range l.channels {
		names[i] = ch.name
	}
	return names
}

// ActiveHolds returns the number of held and confirmed holds.
func (l *Ledger) ActiveHolds() int { return l.active }

// SKUCount returns the number of interned SKUs.
func (l *Ledger) SKUCount() int { return len(l.skus) }

// roomForSKUs reports a LimitError if interning n more SKUs would pass
// MaxSKUs. Callers check before they change anything.
func (l *Ledger) roomForSKUs(n int, key string) error {
	if l.replaying || n == 0 || len(l.skus)+n <= l.lim.MaxSKUs {
		return nil
	}
	return limitErr("MaxSKUs", int64(l.lim.MaxSKUs), int64(len(l.skus)+n), key)
}

func (l *Ledger) roomForWarehouse(name string) error {
	if _, ok := l.whIDs[name]; ok || l.replaying || len(l.whs) < l.lim.MaxWarehouses {
		return nil
	}
	return limitErr("MaxWarehouses", int64(l.lim.MaxWarehouses), int64(len(l.whs)+1), name)
}

func (l *Ledger) internSKU(name string) uint32 {
	if id, ok := l.skuIDs[name]; ok {
		return id
	}
	assert(uint64(len(l.skus)) < 1<<32-1, "sku id space")
	id := uint32(len(l.skus))
	l.skus = append(l.skus, skuInfo{name: name})
	l.skuIDs[name] = id
	return id
}

func (l *Ledger) internWarehouse(name string) uint16 {
	if id, ok := l.whIDs[name]; ok {
		return id
	}
	assert(len(l.whs) < 1<<16-1, "warehouse id space")
	id := uint16(len(l.whs))
	l.whs = append(l.whs, warehouse{name: name})
	l.whIDs[name] = id
	l.cols = append(l.cols, nil)
	return id
}

func timeOf(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
