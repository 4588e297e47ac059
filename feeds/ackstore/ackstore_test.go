package ackstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"stockd/adapters/postgres"
	"stockd/adapters/testsvc"
	"stockd/feeds/ackstore"
)

var at = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func load(tb testing.TB, st ackstore.Store, channel string) []ackstore.Entry {
	tb.Helper()
	var out []ackstore.Entry
	if err := st.Load(context.Background(), channel, func(e ackstore.Entry) error {
		out = append(out, e)
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Offer != b.Offer {
			return a.Offer < b.Offer
		}
		return a.Warehouse < b.Warehouse
	})
	return out
}

func put(tb testing.TB, st ackstore.Store, entries ...ackstore.Entry) {
	tb.Helper()
	if err := st.Put(context.Background(), entries); err != nil {
		tb.Fatal(err)
	}
}

func stock(channel, offer, wh string, qty int64) ackstore.Entry {
	return ackstore.Entry{Key: ackstore.StockKey(channel, offer, wh), Value: ackstore.Value{Qty: qty, At: at}}
}

func price(channel, offer string, p, old int64) ackstore.Entry {
	return ackstore.Entry{Key: ackstore.PriceKey(channel, offer), Value: ackstore.Value{Price: p, OldPrice: old, At: at}}
}

// contract runs the behaviour every Store must have; reopen gives a new
// store over the same data.
func contract(t *testing.T, open func(t *testing.T) ackstore.Store, reopen func(t *testing.T) ackstore.Store) {
	t.Run("put load overwrite delete", func(t *testing.T) {
		st := open(t)
		put(t, st, stock("ozon", "A", "1", 5), stock("ozon", "A", "2", 7), price("ozon", "A", 149900, 0), stock("wb", "A", "1", 9))
		put(t, st, stock("ozon", "A", "1", 3), stock("ozon", "A", "1", 4)) // last of a key wins
		put(t, st, ackstore.Entry{Key: ackstore.StockKey("ozon", "A", "2"), Deleted: true})
		got := load(t, st, "ozon")
		want := []ackstore.Entry{stock("ozon", "A", "1", 4), price("ozon", "A", 149900, 0)}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("Load = %v, want %v", got, want)
		}
		st2 := reopen(t)
		if got := load(t, st2, "ozon"); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("after reopen Load = %v, want %v", got, want)
		}
		if got := load(t, st2, "wb"); len(got) != 1 || got[0].Qty != 9 {
			t.Fatalf("wb = %v, want one entry of 9", got)
		}
	})
	t.Run("invalid entries refused", func(t *testing.T) {
		st := open(t)
		for _, e := range []ackstore.Entry{
			{Key: ackstore.Key{Kind: 9, Channel: "c", Offer: "o"}},
			{Key: ackstore.StockKey("", "o", "1")},
			{Key: ackstore.StockKey("c", "", "1")},
			{Key: ackstore.Key{Kind: ackstore.KindPrice, Channel: "c", Offer: "o", Warehouse: "1"}},
			{Key: ackstore.StockKey("c", "o", "1"), Value: ackstore.Value{Qty: -1}},
		} {
			if err := st.Put(context.Background(), []ackstore.Entry{e}); !errors.Is(err, ackstore.ErrInvalid) {
				t.Errorf("Put(%+v) = %v, want ErrInvalid", e, err)
			}
		}
	})
}

func TestFileContract(t *testing.T) {
	var path string
	var stores []*ackstore.File
	t.Cleanup(func() {
		for _, s := range stores {
			s.Close()
		}
	})
	open := func(t *testing.T) ackstore.Store {
		path = filepath.Join(t.TempDir(), "acks.log")
		s, err := ackstore.OpenFile(ackstore.FileConfig{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		stores = append(stores, s)
		return s
	}
	reopen := func(t *testing.T) ackstore.Store {
		stores[len(stores)-1].Close()
		s, err := ackstore.OpenFile(ackstore.FileConfig{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		stores = append(stores, s)
		return s
	}
	contract(t, open, reopen)
}

func TestPostgresContract(t *testing.T) {
	url := testsvc.SchemaURL(t)
	ctx := context.Background()
	newStore := func(t *testing.T) ackstore.Store {
		pool, err := postgres.NewPool(ctx, postgres.DefaultConfig(url))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		if err := postgres.Migrate(ctx, pool); err != nil {
			t.Fatal(err)
		}
		return ackstore.NewPostgres(pool)
	}
	contract(t, func(t *testing.T) ackstore.Store {
		st := newStore(t)
		// Each subtest starts empty: the schema is shared.
		var keys []ackstore.Entry
		for _, ch := range []string{"ozon", "wb", "c"} {
			for _, e := range load(t, st, ch) {
				e.Deleted = true
				keys = append(keys, e)
			}
		}
		put(t, st, keys...)
		return st
	}, newStore)
}

func TestFileTornTailIsCut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "acks.log")
	st, err := ackstore.OpenFile(ackstore.FileConfig{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	put(t, st, stock("ozon", "A", "1", 5))
	put(t, st, stock("ozon", "B", "1", 6))
	st.Close()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// Cut the last record in half: B is lost, A survives.
	if err := os.Truncate(path, info.Size()-5); err != nil {
		t.Fatal(err)
	}
	st, err = ackstore.OpenFile(ackstore.FileConfig{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := load(t, st, "ozon"); len(got) != 1 || got[0].Offer != "A" {
		t.Fatalf("after torn tail Load = %v, want only A", got)
	}
	if st.Stats().TornBytes == 0 {
		t.Fatal("no torn bytes reported")
	}
	put(t, st, stock("ozon", "C", "1", 7)) // appends after the cut
	st.Close()
	st, err = ackstore.OpenFile(ackstore.FileConfig{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := load(t, st, "ozon"); len(got) != 2 {
		t.Fatalf("Load = %v, want A and C", got)
	}
}

func TestFileCorruptRecordEndsTheLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "acks.log")
	st, err := ackstore.OpenFile(ackstore.FileConfig{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	put(t, st, stock("ozon", "A", "1", 5))
	_, sizeA := st.Size()
	put(t, st, stock("ozon", "B", "1", 6))
	st.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[8+int(sizeA)+10] ^= 0xff // a byte inside B's payload
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err = ackstore.OpenFile(ackstore.FileConfig{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := load(t, st, "ozon"); len(got) != 1 || got[0].Offer != "A" {
		t.Fatalf("Load = %v, want only A", got)
	}
}

func TestFileCompactsWhenOverRatio(t *testing.T) {
	path := filepath.Join(t.TempDir(), "acks.log")
	st, err := ackstore.OpenFile(ackstore.FileConfig{Path: path, CompactRatio: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const offers = 1000
	for round := range 60 {
		batch := make([]ackstore.Entry, offers)
		for i := range batch {
			batch[i] = stock("ozon", fmt.Sprintf("offer-%04d", i), "22142605386000", int64(round))
		}
		put(t, st, batch...)
	}
	if st.Stats().Compactions == 0 {
		t.Fatal("no compaction after 60 rewrites of every key")
	}
	file, live := st.Size()
	if file > 2*live && file > ackstore.MinCompactBytes {
		t.Fatalf("file %d bytes for %d live: over the ratio", file, live)
	}
	st.Close()
	st2, err := ackstore.OpenFile(ackstore.FileConfig{Path: path, CompactRatio: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	got := load(t, st2, "ozon")
	if len(got) != offers || got[0].Qty != 59 || got[offers-1].Qty != 59 {
		t.Fatalf("after compaction: %d entries, first %+v", len(got), got[0])
	}
}

func TestFileMaxEntries(t *testing.T) {
	st, err := ackstore.OpenFile(ackstore.FileConfig{Path: filepath.Join(t.TempDir(), "a.log"), MaxEntries: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	put(t, st, stock("c", "A", "1", 1), stock("c", "B", "1", 1))
	if err := st.Put(context.Background(), []ackstore.Entry{stock("c", "C", "1", 1)}); !errors.Is(err, ackstore.ErrFull) {
		t.Fatalf("third key: %v, want ErrFull", err)
	}
	put(t, st, stock("c", "A", "1", 2)) // an update is not a new key
}

func TestFileRefusesForeignFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	if err := os.WriteFile(path, []byte("this is not an ack log at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ackstore.OpenFile(ackstore.FileConfig{Path: path}); err == nil {
		t.Fatal("opened a foreign file")
	}
}
