package feeds

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"stockd/adapters/ozon"
	"stockd/adapters/wildberries"
	"stockd/adapters/yandexmarket"
)

// Limits on a mapping file.
const (
	// MaxMappingBytes bounds a mapping file.
	MaxMappingBytes = 256 << 20
	// MaxMappingRows bounds the offers of one channel.
	MaxMappingRows = 1 << 21
	// MaxSKUBytes is the longest 1C SKU (productGUID#characteristicGUID).
	MaxSKUBytes = 80
	// maxReportedRows is how many bad rows an error message lists.
	maxReportedRows = 20
)

// ErrMapping means a mapping file cannot be used at all (unreadable,
// no header, too large); single bad rows are MappingErrors instead.
var ErrMapping = errors.New("feeds: bad offer mapping")

// Offer is one 1C SKU as a marketplace knows it.
type Offer struct {
	SKU string
	// StockID keys stock updates: Ozon offer_id, Wildberries chrtId,
	// Yandex Market sku.
	StockID string
	// PriceID keys price updates: Ozon offer_id, Wildberries nmID
	// (shared by the sizes of a card), Yandex Market offerId.
	PriceID string
	Line    int // in the mapping file; 0 for the identity mapping
}

// MappingError is one row that was refused, with its line number.
type MappingError struct {
	File string
	Line int
	SKU  string
	Err  error
}

func (e MappingError) Error() string {
	return fmt.Sprintf("%s:%d: sku %q: %v", e.File, e.Line, e.SKU, e.Err)
}

func (e MappingError) Unwrap() error { return e.Err }

// Mapping is a channel's offers. Bad rows are kept aside in Bad: their
// SKUs are quarantined (never sent) unless the mapping is strict, in
// which case the channel does not start.
type Mapping struct {
	kind     Kind
	identity bool
	offers   []Offer
	bySKU    map[string]int
	byStock  map[string]int
	byPrice  map[string]int // the first SKU of a price id is its price source
	Bad      []MappingError
}

// IdentityMapping maps every SKU to itself (sites and Yandex Market
// cabinets whose offer ids are the 1C SKUs).
func IdentityMapping(kind Kind) *Mapping {
	return &Mapping{kind: kind, identity: true}
}

// Lookup returns the offer of a SKU.
func (m *Mapping) Lookup(sku string) (Offer, bool) {
	if m.identity {
		return Offer{SKU: sku, StockID: sku, PriceID: sku}, true
	}
	i, ok := m.bySKU[sku]
	if !ok {
		return Offer{}, false
	}
	return m.offers[i], true
}

// ByStockID returns the offer whose stock key is id.
func (m *Mapping) ByStockID(id string) (Offer, bool) {
	if m.identity {
		return Offer{SKU: id, StockID: id, PriceID: id}, true
	}
	i, ok := m.byStock[id]
	if !ok {
		return Offer{}, false
	}
	return m.offers[i], true
}

// PriceSource returns the SKU whose price a price id carries.
func (m *Mapping) PriceSource(priceID string) (Offer, bool) {
	if m.identity {
		return Offer{SKU: priceID, StockID: priceID, PriceID: priceID}, true
	}
	i, ok := m.byPrice[priceID]
	if !ok {
		return Offer{}, false
	}
	return m.offers[i], true
}

// IsPriceSource reports whether the SKU's price is the one its price id
// carries (for Wildberries only the first size of a card).
func (m *Mapping) IsPriceSource(o Offer) bool {
	if m.identity {
		return true
	}
	i, ok := m.byPrice[o.PriceID]
	return ok && m.offers[i].SKU == o.SKU
}

// Identity reports a mapping of every SKU to itself.
func (m *Mapping) Identity() bool { return m.identity }

// Offers calls fn for every mapped offer in file order; false stops.
func (m *Mapping) Offers(fn func(Offer) bool) {
	for _, o := range m.offers {
		if !fn(o) {
			return
		}
	}
}

// Len is the number of mapped offers.
func (m *Mapping) Len() int { return len(m.offers) }

// StrictError lists the bad rows of a strict mapping.
func (m *Mapping) StrictError() error {
	if len(m.Bad) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%v: %d bad rows:", ErrMapping, len(m.Bad))
	for i, e := range m.Bad {
		if i == maxReportedRows {
			fmt.Fprintf(&b, "\n  ... and %d more", len(m.Bad)-i)
			break
		}
		b.WriteString("\n  " + e.Error())
	}
	return errors.New(b.String())
}

// ValidateOfferIDs checks identifiers by the marketplace's rules (the
// adapters' validators): stock and price id of one offer.
func ValidateOfferIDs(kind Kind, stockID, priceID string) error {
	switch kind {
	case KindOzon:
		if err := ozon.ValidateOfferID(stockID); err != nil {
			return err
		}
		if priceID != stockID {
			return fmt.Errorf("ozon: price offer_id %q differs from stock offer_id %q", priceID, stockID)
		}
	case KindWildberries:
		if _, err := wildberries.ParseChrtID(stockID); err != nil {
			return err
		}
		if _, err := wildberries.ParseNmID(priceID); err != nil {
			return err
		}
	case KindYandexMarket, KindSite:
		if err := yandexmarket.ValidateOfferID(stockID); err != nil {
			return err
		}
		if priceID != stockID {
			return fmt.Errorf("yandexmarket: price offerId %q differs from stock sku %q", priceID, stockID)
		}
	default:
		return fmt.Errorf("feeds: unknown kind %q", kind)
	}
	return nil
}

type mappingRow struct {
	line                     int
	sku, offer, chrt, nm     string
	hasOffer, hasChrt, hasNm bool
}

// ParseMapping reads a mapping file of a channel of kind: CSV when name
// ends in .csv, YAML when it ends in .yaml or .yml. Every row is checked
// against the marketplace's identifier rules before anything is sent;
// refused rows are in Mapping.Bad with their line numbers.
func ParseMapping(kind Kind, name string, data []byte) (*Mapping, error) {
	if len(data) > MaxMappingBytes {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrMapping, name, MaxMappingBytes)
	}
	var rows []mappingRow
	var err error
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		rows, err = csvRows(data)
	case ".yaml", ".yml":
		rows, err = yamlRows(data)
	default:
		return nil, fmt.Errorf("%w: %s: use a .csv, .yaml or .yml file", ErrMapping, name)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMapping, name, err)
	}
	if len(rows) > MaxMappingRows {
		return nil, fmt.Errorf("%w: %s has %d rows, at most %d", ErrMapping, name, len(rows), MaxMappingRows)
	}
	m := &Mapping{kind: kind, bySKU: make(map[string]int, len(rows)), byStock: make(map[string]int, len(rows)),
		byPrice: make(map[string]int, len(rows))}
	for _, r := range rows {
		o, err := m.check(kind, r)
		if err != nil {
			m.Bad = append(m.Bad, MappingError{File: name, Line: r.line, SKU: r.sku, Err: err})
			continue
		}
		i := len(m.offers)
		m.offers = append(m.offers, o)
		m.bySKU[o.SKU] = i
		m.byStock[o.StockID] = i
		if _, ok := m.byPrice[o.PriceID]; !ok {
			m.byPrice[o.PriceID] = i
		}
	}
	return m, nil
}

// check validates one row against the rules and the rows before it.
func (m *Mapping) check(kind Kind, r mappingRow) (Offer, error) {
	switch {
	case r.sku == "":
		return Offer{}, errors.New("empty sku")
	case len(r.sku) > MaxSKUBytes || !utf8.ValidString(r.sku):
		return Offer{}, fmt.Errorf("sku is not UTF-8 of at most %d bytes", MaxSKUBytes)
	}
	o := Offer{SKU: r.sku, Line: r.line}
	switch kind {
	case KindWildberries:
		if !r.hasChrt || !r.hasNm {
			return Offer{}, errors.New("wildberries rows need chrt_id and nm_id")
		}
		o.StockID, o.PriceID = r.chrt, r.nm
	default:
		if !r.hasOffer {
			return Offer{}, errors.New("offer_id is missing")
		}
		o.StockID, o.PriceID = r.offer, r.offer
	}
	if err := ValidateOfferIDs(kind, o.StockID, o.PriceID); err != nil {
		return Offer{}, err
	}
	if i, dup := m.bySKU[o.SKU]; dup {
		return Offer{}, fmt.Errorf("sku already mapped on line %d", m.offers[i].Line)
	}
	if i, dup := m.byStock[o.StockID]; dup {
		return Offer{}, fmt.Errorf("%s %q already mapped to sku %q on line %d", stockIDName(kind), o.StockID, m.offers[i].SKU, m.offers[i].Line)
	}
	return o, nil
}

func stockIDName(kind Kind) string {
	switch kind {
	case KindOzon:
		return "offer_id"
	case KindWildberries:
		return "chrt_id"
	}
	return "sku"
}

func csvRows(data []byte) ([]mappingRow, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comment = '#'
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("no header line (sku,offer_id or sku,chrt_id,nm_id): %v", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	if _, ok := col["sku"]; !ok {
		return nil, errors.New("the header has no sku column")
	}
	var rows []mappingRow
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, err // a *csv.ParseError names its line
		}
		line, _ := r.FieldPos(0)
		if len(rows) >= MaxMappingRows {
			return nil, fmt.Errorf("more than %d rows", MaxMappingRows)
		}
		get := func(name string) (string, bool) {
			i, ok := col[name]
			if !ok || i >= len(rec) {
				return "", false
			}
			v := strings.TrimSpace(rec[i])
			return v, v != ""
		}
		row := mappingRow{line: line}
		row.sku, _ = get("sku")
		row.offer, row.hasOffer = get("offer_id")
		row.chrt, row.hasChrt = get("chrt_id")
		row.nm, row.hasNm = get("nm_id")
		rows = append(rows, row)
	}
}

func yamlRows(data []byte) ([]mappingRow, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	list := doc.Content[0]
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("line %d: want a list of {sku, offer_id} or {sku, chrt_id, nm_id}", list.Line)
	}
	rows := make([]mappingRow, 0, len(list.Content))
	for _, n := range list.Content {
		if len(rows) >= MaxMappingRows {
			return nil, fmt.Errorf("more than %d rows", MaxMappingRows)
		}
		var raw struct {
			SKU     string `yaml:"sku"`
			OfferID string `yaml:"offer_id"`
			ChrtID  string `yaml:"chrt_id"`
			NmID    string `yaml:"nm_id"`
		}
		row := mappingRow{line: n.Line}
		if err := n.Decode(&raw); err != nil {
			row.sku = "" // reported as a bad row by check
			rows = append(rows, row)
			continue
		}
		row.sku = strings.TrimSpace(raw.SKU)
		row.offer, row.hasOffer = raw.OfferID, raw.OfferID != ""
		row.chrt, row.hasChrt = strings.TrimSpace(raw.ChrtID), strings.TrimSpace(raw.ChrtID) != ""
		row.nm, row.hasNm = strings.TrimSpace(raw.NmID), strings.TrimSpace(raw.NmID) != ""
		rows = append(rows, row)
	}
	return rows, nil
}
