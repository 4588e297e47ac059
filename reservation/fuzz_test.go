package reservation

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"reflect"
	"testing"
)

func FuzzDecodeEvent(f *testing.F) {
	for _, s := range []string{
		`{` + head + `,"type":"stock.set","sku":"8f1c#a2c4","warehouse":"wh-msk","qty":12,"handoff":["o1"]}`,
		`{` + head + `,"type":"stock.adjust","sku":"s","warehouse":"w","delta":-1.5}`,
		`{` + head + `,"type":"price.set","sku":"s","price_type":"retail","price":"1234.50","currency":"RUB"}`,
		`{` + head + `,"type":"item.upsert","sku":"k","name":"n","barcodes":["1"],"kit":[{"sku":"a","qty":2}]}`,
		`{` + head + `,"type":"item.delete","sku":"s"}`,
		`{` + head + `,"type":"reservation.handoff","reservation_id":"o1"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := DecodeEvent(data)
		if err != nil {
			return
		}
		if err := ev.Validate(); err != nil {
			t.Fatalf("decoded event fails Validate: %v", err)
		}
		enc, err := EncodeEvent(&ev)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		back, err := DecodeEvent(enc)
		if err != nil {
			t.Fatalf("decode %s: %v", enc, err)
		}
		ev.Fractional = false
		if !reflect.DeepEqual(back, ev) {
			t.Fatalf("round trip:\n%+v\n%+v", back, ev)
		}
		rec := Record{Seq: 1, Kind: RecordEvent, Outcome: OutcomeApplied, Event: ev}
		got, err := DecodeRecord(MarshalRecord(&rec))
		if err != nil || !reflect.DeepEqual(got, rec) {
			t.Fatalf("record round trip: %v\n%+v\n%+v", err, got, rec)
		}
	})
}

func FuzzDecodeReserveRequest(f *testing.F) {
	f.Add([]byte(`{"id":"o1","channel":"site","lines":[{"sku":"a","qty":2}],"ttl_seconds":600}`))
	f.Add([]byte(`{"id":"o1","channel":"site","lines":[{"sku":"a","qty":2},{"sku":"b","qty":1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := DecodeReserveRequest(data)
		if err != nil {
			return
		}
		if req.ID == "" || req.Channel == "" || len(req.Lines) == 0 || req.TTL < 0 {
			t.Fatalf("accepted %+v", req)
		}
		type line struct {
			SKU string `json:"sku"`
			Qty int64  `json:"qty"`
		}
		out := struct {
			ID    string `json:"id"`
			Ch    string `json:"channel"`
			Lines []line `json:"lines"`
			TTL   int64  `json:"ttl_seconds"`
		}{ID: req.ID, Ch: req.Channel, TTL: int64(req.TTL.Seconds())}
		for _, ln := range req.Lines {
			if ln.SKU == "" || len(ln.SKU) > MaxSKUBytes || ln.Qty < 1 {
				t.Fatalf("accepted line %+v", ln)
			}
			out.Lines = append(out.Lines, line(ln))
		}
		enc, _ := json.Marshal(out)
		back, err := DecodeReserveRequest(enc)
		if err != nil || !reflect.DeepEqual(back, req) {
			t.Fatalf("round trip %s: %+v %v", enc, back, err)
		}
	})
}

func FuzzDecodeRecord(f *testing.F) {
	for _, r := range sampleRecords() {
		f.Add(MarshalRecord(&r))
	}
	cfg := testConfig()
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := DecodeRecord(data)
		if err != nil {
			return
		}
		back, err := DecodeRecord(MarshalRecord(&rec))
		if err != nil || !reflect.DeepEqual(back, rec) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, back, rec)
		}
		l, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		rec.Seq = 1
		if l.ApplyRecord(&rec, &Effects{}) == nil {
			if _, err := Restore(cfg, l.Snapshot()); err != nil {
				t.Fatalf("snapshot after %+v: %v", rec, err)
			}
		}
	})
}

// FuzzRestore fuzzes the snapshot body; the checksum is appended so the
// decoder behind it is reached.
func FuzzRestore(f *testing.F) {
	e := newEnv(f, testConfig())
	e.set("a", "msk", 10)
	e.kit("k", KitComponent{SKU: "a", Qty: 2})
	e.mustEvent(Event{Type: EventPriceSet, SKU: "a", PriceType: "r", Price: Decimal{1, 0}, Currency: "RUB"})
	e.mustReserve("o1", "site", Line{SKU: "k", Qty: 1})
	e.mustReserve("o2", "site", Line{SKU: "a", Qty: 1})
	if err := e.l.Release("o2", e.now, &e.fx); err != nil {
		f.Fatal(err)
	}
	snap := e.l.Snapshot()
	f.Add(snap[:len(snap)-4])
	f.Fuzz(func(t *testing.T, body []byte) {
		data := binary.LittleEndian.AppendUint32(bytes.Clone(body), crc32.Checksum(body, castagnoli))
		l, err := Restore(testConfig(), data)
		if err != nil {
			return
		}
		if err := l.checkInvariants(); err != nil {
			t.Fatalf("restored ledger: %v", err)
		}
		if _, err := Restore(testConfig(), l.Snapshot()); err != nil {
			t.Fatalf("re-restore: %v", err)
		}
	})
}
