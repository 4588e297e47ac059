package reservation

import (
	"errors"
	"fmt"
	"math/bits"
	"time"
	"unsafe"

	"stockd/reservation/jsonscan"
)

// The event decoder is a single pass over the JSON text of one flat event
// object. It reads exactly what encoding/json would read into the wire
// struct the decoder was first written with (pointers for optional strings
// and lists, raw bytes for numbers), with three deliberate differences:
// keys are matched exactly (encoding/json also takes "ID" or "Sku"), a key
// repeated in one object is refused (encoding/json keeps the last value,
// merging into earlier list elements), and neither is the case for any
// event 1C sends. Every problem with the JSON text itself (syntax, a value
// of the wrong JSON type, an unknown or repeated key, data after the
// object) is an EventError with an empty Field, found before any check of
// the values, as before.

// Event keys, as bits of jsonEvent.seen.
const (
	keyV = iota
	keyID
	keySource
	keySeq
	keyAt
	keyType
	keySKU
	keyWarehouse
	keyQty
	keyDelta
	keyHandoff
	keyPriceType
	keyPrice
	keyCurrency
	keyArticle
	keyName
	keyBarcodes
	keyKit
	keyReservationID
	keyCount
)

var eventKeys = [keyCount]string{"v", "id", "source", "seq", "at", "type", "sku", "warehouse", "qty", "delta",
	"handoff", "price_type", "price", "currency", "article", "name", "barcodes", "kit", "reservation_id"}

// stringKeys are the keys whose value is a string.
const stringKeys = 1<<keyID | 1<<keySource | 1<<keyAt | 1<<keyType | 1<<keySKU | 1<<keyWarehouse |
	1<<keyPriceType | 1<<keyCurrency | 1<<keyArticle | 1<<keyName | 1<<keyReservationID

// keyFields maps the type-specific keys to their fieldMask bit.
var keyFields = [keyCount]fieldMask{keySKU: fSKU, keyWarehouse: fWarehouse, keyQty: fQty, keyDelta: fDelta,
	keyHandoff: fHandoff, keyPriceType: fPriceType, keyPrice: fPrice, keyCurrency: fCurrency, keyArticle: fArticle,
	keyName: fName, keyBarcodes: fBarcodes, keyKit: fKit, keyReservationID: fReservationID}

// strSpan is a string value: the bytes between its quotes in the input.
type strSpan = jsonscan.Span

// rawSpan is a value's bytes in the input.
type rawSpan struct{ Start, End int32 }

// jsonKit is one element of "kit".
type jsonKit struct {
	hasSKU bool
	sku    strSpan
	qty    rawSpan // start == end: absent or null
}

// spanList is a list of strings, the first few inline so that parsing a
// typical event allocates nothing.
type spanList struct {
	n      int
	inline [4]strSpan
	more   []strSpan
}

func (l *spanList) add(s strSpan) {
	if l.n < len(l.inline) {
		l.inline[l.n] = s
	} else {
		l.more = append(l.more, s)
	}
	l.n++
}

func (l *spanList) at(i int) strSpan { return *l.ptr(i) }

func (l *spanList) ptr(i int) *strSpan {
	if i < len(l.inline) {
		return &l.inline[i]
	}
	return &l.more[i-len(l.inline)]
}

type kitList struct {
	n      int
	inline [4]jsonKit
	more   []jsonKit
}

func (l *kitList) add() *jsonKit {
	l.n++
	if l.n <= len(l.inline) {
		return &l.inline[l.n-1]
	}
	l.more = append(l.more, jsonKit{})
	return &l.more[len(l.more)-1]
}

func (l *kitList) at(i int) *jsonKit {
	if i < len(l.inline) {
		return &l.inline[i]
	}
	return &l.more[i-len(l.inline)]
}

// jsonEvent is what the parser read: where each value is in the input. A
// key counts as present (in has) when it has a non-null value, as a
// non-nil pointer or a raw value other than null did for encoding/json.
// Strings are decoded only at the end, all into one allocation.
type jsonEvent struct {
	jsonscan.Scanner        // Err: the first error of the JSON text itself
	seen             uint32 // keys met, to refuse repeats
	has              uint32 // keys with a non-null value
	raws             [keyCount]rawSpan
	strs             [keyCount]strSpan
	lists            [2]spanList // handoff, barcodes
	kit              kitList
	// strBytes adds up the raw lengths of the strings the Event keeps
	strBytes int
	buf      []byte // decoded strings, once event runs
}

var (
	errJSONTrailing = errors.New("trailing data after the JSON object")
)

// DecodeEvent decodes and validates one event: schema version 1, known
// type, the fields its type requires and no others, SKU ≤ 80 bytes,
// quantities within ±MaxEventQty (a fraction is floored and Fractional
// set), prices as decimal strings, `at` in RFC 3339 (kept in UTC). Unknown
// and repeated fields are rejected; field names are matched exactly.
// Errors unwrap to ErrInvalidEvent and name the field (none for a text
// that is not a JSON event object).
func DecodeEvent(data []byte) (Event, error) {
	p := jsonEvent{Scanner: jsonscan.Scanner{Data: data}}
	if err := p.parse(); err != nil {
		return Event{}, eventErr("", err.Error())
	}
	return p.event()
}

// parse reads the whole text: one object (or null) and nothing after it.
func (p *jsonEvent) parse() error {
	i := p.WS(0)
	switch {
	case i >= len(p.Data):
		return jsonscan.ErrEnd
	case p.Data[i] == '{':
		i = p.object(i)
	case p.Lit(i, "null"):
		i += 4
	default:
		i = p.Skip(i)
		if p.Err == nil {
			return errors.New("json: cannot unmarshal a non-object into an event")
		}
	}
	if p.Err != nil {
		return p.Err
	}
	if i = p.WS(i); i != len(p.Data) {
		return errJSONTrailing
	}
	return nil
}

// object reads the event object starting at data[i] == '{' and returns the
// index after it.
func (p *jsonEvent) object(i int) int {
	p.Depth++
	i = p.WS(i + 1)
	if i < len(p.Data) && p.Data[i] == '}' {
		p.Depth--
		return i + 1
	}
	for p.Err == nil {
		key, next := p.key(i)
		if p.Err != nil {
			return next
		}
		var more bool
		if i, more = p.Next(p.WS(p.member(key, next)), '}'); !more {
			return i
		}
	}
	return len(p.Data)
}

// key reads `"name" :` and returns the key index (or -1 for an unknown
// key) and the index of the value.
func (p *jsonEvent) key(i int) (int, int) {
	if i >= len(p.Data) || p.Data[i] != '"' {
		return -1, p.Fail(i, "want a key")
	}
	var span strSpan
	i, span = p.Str(i)
	k := -1
	if span.Plain {
		k = keyIndex(p.Data[span.Start:span.End])
	} else if p.Err == nil {
		k = keyIndex(p.Decoded(nil, span))
	}
	switch {
	case p.Err != nil:
	case k < 0:
		p.Err = fmt.Errorf("json: unknown field %s", quoteInput(p.Decoded(nil, span)))
	case p.seen&(1<<k) != 0:
		p.Err = fmt.Errorf("json: repeated field %s", quoteInput(p.Decoded(nil, span)))
	default:
		p.seen |= 1 << k
	}
	i = p.WS(i)
	if i >= len(p.Data) || p.Data[i] != ':' {
		return k, p.Fail(i, "want : after a key")
	}
	return k, p.WS(i + 1)
}

// keyIndex returns the index of an event key, or -1.
func keyIndex(name []byte) int {
	switch string(name) {
	case "v":
		return keyV
	case "id":
		return keyID
	case "source":
		return keySource
	case "seq":
		return keySeq
	case "at":
		return keyAt
	case "type":
		return keyType
	case "sku":
		return keySKU
	case "warehouse":
		return keyWarehouse
	case "qty":
		return keyQty
	case "delta":
		return keyDelta
	case "handoff":
		return keyHandoff
	case "price_type":
		return keyPriceType
	case "price":
		return keyPrice
	case "currency":
		return keyCurrency
	case "article":
		return keyArticle
	case "name":
		return keyName
	case "barcodes":
		return keyBarcodes
	case "kit":
		return keyKit
	case "reservation_id":
		return keyReservationID
	}
	return -1
}

// member reads the value of key k at data[i].
func (p *jsonEvent) member(k, i int) int {
	if i >= len(p.Data) {
		return p.Fail(i, "")
	}
	isNull := p.Lit(i, "null")
	switch k {
	case keyV, keySeq, keyQty, keyDelta, keyPrice:
		end := p.Skip(i)
		if !isNull {
			p.raws[k] = rawSpan{int32(i), int32(end)}
			p.has |= 1 << k
		}
		return end
	case keyHandoff, keyBarcodes:
		return p.strings(k, i)
	case keyKit:
		return p.kits(i)
	}
	if isNull {
		return i + 4
	}
	if p.Data[i] != '"' {
		return p.wrongType(i, eventKeys[k], "string")
	}
	i, p.strs[k] = p.Str(i)
	p.has |= 1 << k
	p.strBytes += int(p.strs[k].End - p.strs[k].Start)
	return i
}

func (p *jsonEvent) wrongType(i int, field, want string) int {
	end := p.Skip(i)
	if p.Err == nil {
		p.Err = fmt.Errorf("json: cannot unmarshal a non-%s into field %s", want, field)
	}
	return end
}

// strings reads a list of strings (null elements read as "").
func (p *jsonEvent) strings(k, i int) int {
	if p.Lit(i, "null") {
		return i + 4
	}
	if p.Data[i] != '[' {
		return p.wrongType(i, eventKeys[k], "array")
	}
	list := &p.lists[0]
	if k == keyBarcodes {
		list = &p.lists[1]
	}
	p.has |= 1 << k
	return p.Array(i, func(i int) int {
		if p.Lit(i, "null") {
			list.add(strSpan{Plain: true})
			return i + 4
		}
		if p.Data[i] != '"' {
			return p.wrongType(i, eventKeys[k], "string")
		}
		i, span := p.Str(i)
		list.add(span)
		p.strBytes += int(span.End - span.Start)
		return i
	})
}

// kits reads "kit": a list of {"sku","qty"} objects (null elements read as
// an element with neither).
func (p *jsonEvent) kits(i int) int {
	if p.Lit(i, "null") {
		return i + 4
	}
	if p.Data[i] != '[' {
		return p.wrongType(i, "kit", "array")
	}
	p.has |= 1 << keyKit
	return p.Array(i, func(i int) int {
		c := p.kit.add()
		if p.Lit(i, "null") {
			return i + 4
		}
		if p.Data[i] != '{' {
			return p.wrongType(i, "kit", "object")
		}
		return p.kitObject(c, i)
	})
}

func (p *jsonEvent) kitObject(c *jsonKit, i int) int {
	p.Depth++
	if p.Depth > jsonscan.MaxDepth {
		return p.Fail(i, "exceeded max depth")
	}
	i = p.WS(i + 1)
	if i < len(p.Data) && p.Data[i] == '}' {
		p.Depth--
		return i + 1
	}
	var seenSKU, seenQty bool
	for p.Err == nil {
		if i >= len(p.Data) || p.Data[i] != '"' {
			return p.Fail(i, "want a key")
		}
		var span strSpan
		i, span = p.Str(i)
		name := ""
		if span.Plain {
			name = unsafe.String(unsafe.SliceData(p.Data[span.Start:]), span.End-span.Start)
		} else if p.Err == nil {
			name = string(p.Decoded(nil, span))
		}
		i = p.WS(i)
		if i >= len(p.Data) || p.Data[i] != ':' {
			return p.Fail(i, "want : after a key")
		}
		i = p.WS(i + 1)
		if i >= len(p.Data) {
			return p.Fail(i, "")
		}
		switch {
		case name == "sku" && !seenSKU:
			seenSKU = true
			switch {
			case p.Lit(i, "null"):
				i += 4
			case p.Data[i] == '"':
				i, c.sku = p.Str(i)
				c.hasSKU = true
				p.strBytes += int(c.sku.End - c.sku.Start)
			default:
				i = p.wrongType(i, "kit.sku", "string")
			}
		case name == "qty" && !seenQty:
			seenQty = true
			end := p.Skip(i)
			if !p.Lit(i, "null") {
				c.qty = rawSpan{int32(i), int32(end)}
			}
			i = end
		default:
			if p.Err == nil {
				p.Err = fmt.Errorf("json: unknown or repeated field %s in kit", quoteInput(p.Decoded(nil, span)))
			}
			return len(p.Data)
		}
		var more bool
		if i, more = p.Next(p.WS(i), '}'); !more {
			return i
		}
	}
	return len(p.Data)
}

func (p *jsonEvent) raw(k int) []byte {
	if p.has&(1<<k) == 0 {
		return nil
	}
	return p.Data[p.raws[k].Start:p.raws[k].End]
}

func (p *jsonEvent) present() fieldMask {
	var m fieldMask
	for b := p.has; b != 0; b &= b - 1 {
		m |= keyFields[bits.TrailingZeros32(b)]
	}
	return m
}

// event checks the values read, in the order and with the errors of the
// encoding/json decoder, and builds the Event.
func (p *jsonEvent) event() (Event, error) {
	p.decodeAll()
	if p.has&(1<<keyV) == 0 {
		return Event{}, eventErr("v", "required")
	}
	v, err := parseUintBytes(p.raw(keyV), 1<<20)
	if err != nil {
		return Event{}, eventErr("v", err.Error())
	}
	if p.has&(1<<keyType) == 0 {
		return Event{}, eventErr("type", "required")
	}
	t, ok := ParseEventType(p.text(keyType))
	if !ok {
		return Event{}, eventErr("type", "unknown type "+quoteInput(p.text(keyType)))
	}
	if err := checkFields(t, p.present(), false); err != nil {
		return Event{}, err
	}
	ev := Event{V: int(v), Type: t}
	ev.ID, ev.Source = p.text(keyID), p.text(keySource)
	ev.SKU, ev.Warehouse = p.text(keySKU), p.text(keyWarehouse)
	ev.PriceType, ev.Currency = p.text(keyPriceType), p.text(keyCurrency)
	ev.Article, ev.Name, ev.ReservationID = p.text(keyArticle), p.text(keyName), p.text(keyReservationID)
	ev.Handoff, ev.Barcodes = p.list(0), p.list(1)
	if err := p.fillTimes(&ev); err != nil {
		return Event{}, err
	}
	if err := p.fillNumbers(&ev); err != nil {
		return Event{}, err
	}
	if err := p.fillKit(&ev); err != nil {
		return Event{}, err
	}
	if err := ev.checkValues(); err != nil {
		return Event{}, err
	}
	return ev, nil
}

// decodeAll decodes every string value into one buffer, which becomes the
// backing of the Event's strings, and points the spans at it: from here on
// a span indexes p.buf. A decoded string is never longer than its raw
// bytes except for invalid UTF-8 (each bad byte becomes U+FFFD), for which
// the buffer grows.
func (p *jsonEvent) decodeAll() {
	if p.strBytes == 0 {
		return
	}
	p.buf = make([]byte, 0, p.strBytes)
	for m := p.has & stringKeys; m != 0; m &= m - 1 {
		p.decode(&p.strs[bits.TrailingZeros32(m)])
	}
	for li := range p.lists {
		l := &p.lists[li]
		for i := range l.n {
			p.decode(l.ptr(i))
		}
	}
	for i := range p.kit.n {
		if c := p.kit.at(i); c.hasSKU {
			p.decode(&c.sku)
		}
	}
}

// decode appends the string's value to p.buf and points the span at it.
func (p *jsonEvent) decode(s *strSpan) {
	start := len(p.buf)
	if s.Plain {
		p.buf = append(p.buf, p.Data[s.Start:s.End]...)
	} else {
		p.buf = jsonscan.AppendUnquoted(p.buf, p.Data[s.Start:s.End])
	}
	*s = strSpan{Start: int32(start), End: int32(len(p.buf))}
}

// text returns key k's decoded string ("" when absent); it shares p.buf,
// which is never written again.
func (p *jsonEvent) text(k int) string {
	if p.has&(1<<k) == 0 {
		return ""
	}
	return p.span(p.strs[k])
}

func (p *jsonEvent) span(s strSpan) string {
	if s.Start == s.End {
		return ""
	}
	return unsafe.String(&p.buf[s.Start], s.End-s.Start)
}

func (p *jsonEvent) list(n int) []string {
	l := &p.lists[n]
	if l.n == 0 {
		return nil
	}
	out := make([]string, l.n)
	for i := range out {
		out[i] = p.span(l.at(i))
	}
	return out
}

func (p *jsonEvent) fillTimes(ev *Event) error {
	if p.has&(1<<keySeq) == 0 {
		return eventErr("seq", "required")
	}
	seq, err := parseUintBytes(p.raw(keySeq), 1<<63-1)
	if err != nil {
		return eventErr("seq", err.Error())
	}
	ev.Seq = seq
	if p.has&(1<<keyAt) == 0 {
		return eventErr("at", "required (RFC 3339)")
	}
	at, err := parseEventTime(p.text(keyAt))
	if err != nil {
		return eventErr("at", "not RFC 3339: "+p.text(keyAt))
	}
	ev.At = at
	return nil
}

func (p *jsonEvent) fillNumbers(ev *Event) error {
	var fracQty, fracDelta bool
	var err error
	if raw := p.raw(keyQty); raw != nil {
		if ev.Qty, fracQty, err = parseQtyBytes(raw); err != nil {
			return eventErr("qty", err.Error())
		}
	}
	if raw := p.raw(keyDelta); raw != nil {
		if ev.Delta, fracDelta, err = parseQtyBytes(raw); err != nil {
			return eventErr("delta", err.Error())
		}
	}
	ev.Fractional = fracQty || fracDelta
	if raw := p.raw(keyPrice); raw != nil {
		if raw[0] != '"' {
			return eventErr("price", "must be a decimal string like \"1234.50\"")
		}
		var buf [32]byte
		if ev.Price, err = ParseDecimal(string(jsonscan.AppendUnquoted(buf[:0], raw[1:len(raw)-1]))); err != nil {
			return eventErr("price", err.Error())
		}
	}
	return nil
}

func (p *jsonEvent) fillKit(ev *Event) error {
	if p.kit.n == 0 {
		return nil
	}
	ev.Kit = make([]KitComponent, 0, p.kit.n)
	for i := range p.kit.n {
		c := p.kit.at(i)
		if !c.hasSKU || c.qty.Start == c.qty.End {
			return eventErr(fmt.Sprintf("kit[%d]", i), "sku and qty are required")
		}
		q, err := parseUintBytes(p.Data[c.qty.Start:c.qty.End], MaxKitComponentQty)
		if err != nil {
			return eventErr(fmt.Sprintf("kit[%d].qty", i), err.Error())
		}
		ev.Kit = append(ev.Kit, KitComponent{SKU: p.span(c.sku), Qty: int64(q)})
	}
	return nil
}

// parseUintBytes is parseUint on bytes: a JSON integer in [0, maxValue].
func parseUintBytes(raw []byte, maxValue uint64) (uint64, error) {
	if len(raw) == 0 || len(raw) > 20 || !allDigitsBytes(raw) {
		return parseUint(raw, maxValue) // the error, worded as before
	}
	var v uint64
	for _, c := range raw {
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return parseUint(raw, maxValue)
		}
		v = v*10 + d
	}
	if v > maxValue {
		return parseUint(raw, maxValue)
	}
	return v, nil
}

// parseQtyBytes is parseQty on bytes, allocation-free on success.
func parseQtyBytes(raw []byte) (int64, bool, error) {
	s := raw
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	intPart, frac := s, []byte(nil)
	hasPoint := false
	for i, c := range s {
		if c == '.' {
			intPart, frac, hasPoint = s[:i], s[i+1:], true
			break
		}
	}
	if len(intPart) == 0 || !allDigitsBytes(intPart) || !allDigitsBytes(frac) || (hasPoint && len(frac) == 0) {
		return parseQty(raw)
	}
	for len(intPart) > 1 && intPart[0] == '0' {
		intPart = intPart[1:]
	}
	if len(intPart) > 13 {
		return parseQty(raw)
	}
	var v int64
	for _, c := range intPart {
		v = v*10 + int64(c-'0')
	}
	fractional := false
	for _, c := range frac {
		if c != '0' {
			fractional = true
			break
		}
	}
	if neg {
		v = -v
		if fractional {
			v--
		}
	}
	if v < -MaxEventQty || v > MaxEventQty {
		return parseQty(raw)
	}
	return v, fractional, nil
}

func allDigitsBytes(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseEventTime is time.Parse(time.RFC3339Nano, s) in UTC. The common
// strict form (what time.Parse itself tries first) is read here without the
// zone lookup time.Parse does for a result that is converted to UTC anyway;
// anything else goes to time.Parse.
func parseEventTime(s string) (time.Time, error) {
	if t, ok := parseRFC3339UTC(s); ok {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t.UTC(), err
}

// parseRFC3339UTC reads YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm) with
// every field in range, exactly as the time package's RFC 3339 fast path.
func parseRFC3339UTC(s string) (time.Time, bool) {
	ok := true
	num := func(s string, lo, hi int) int {
		x := 0
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				ok = false
				return lo
			}
			x = x*10 + int(c-'0')
		}
		if x < lo || x > hi {
			ok = false
			return lo
		}
		return x
	}
	if len(s) < len("2006-01-02T15:04:05") {
		return time.Time{}, false
	}
	year := num(s[0:4], 0, 9999)
	month := num(s[5:7], 1, 12)
	day := num(s[8:10], 1, daysIn(month, year))
	hour := num(s[11:13], 0, 23)
	minute := num(s[14:16], 0, 59)
	sec := num(s[17:19], 0, 59)
	if !ok || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	s = s[19:]
	nsec := 0
	if len(s) >= 2 && s[0] == '.' && s[1] >= '0' && s[1] <= '9' {
		n := 2
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		digits := s[1:min(n, 10)] // digits past the ninth are dropped
		for i := 0; i < len(digits); i++ {
			nsec = nsec*10 + int(digits[i]-'0')
		}
		for range 9 - len(digits) {
			nsec *= 10
		}
		s = s[n:]
	}
	unix := daysFromCivil(year, month, day)*86400 + int64(hour*3600+minute*60+sec)
	if len(s) == 1 && s[0] == 'Z' {
		return time.Unix(unix, int64(nsec)).UTC(), true
	}
	if len(s) != len("-07:00") {
		return time.Time{}, false
	}
	hr, mm := num(s[1:3], 0, 23), num(s[4:6], 0, 59)
	if !ok || (s[0] != '-' && s[0] != '+') || s[3] != ':' {
		return time.Time{}, false
	}
	offset := (hr*60 + mm) * 60
	if s[0] == '-' {
		offset = -offset
	}
	return time.Unix(unix-int64(offset), int64(nsec)).UTC(), true
}

// daysFromCivil is the number of days from 1970-01-01 to a date of the
// proleptic Gregorian calendar (H. Hinnant's days_from_civil), what
// time.Date computes, without its normalisation of out-of-range fields.
func daysFromCivil(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	m := int64(month) + 9
	if month > 2 {
		m = int64(month) - 3
	}
	doy := (153*m+2)/5 + int64(day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// daysIn is the number of days in a month of a year (proleptic Gregorian).
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
