package commerceml

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// items collects everything a read visits.
type items struct {
	Packages   []Package
	Warehouses []Warehouse
	PriceTypes []PriceType
	Products   []Product
	Offers     []Offer
	Orders     []Order
	Warnings   []Warning
}

func (it *items) visitor() Visitor {
	return VisitorFuncs{
		OnPackage:   func(_ context.Context, p Package) error { it.Packages = append(it.Packages, p); return nil },
		OnWarehouse: func(_ context.Context, w Warehouse) error { it.Warehouses = append(it.Warehouses, w); return nil },
		OnPriceType: func(_ context.Context, t PriceType) error { it.PriceTypes = append(it.PriceTypes, t); return nil },
		OnProduct:   func(_ context.Context, p Product) error { it.Products = append(it.Products, p); return nil },
		OnOffer:     func(_ context.Context, o Offer) error { it.Offers = append(it.Offers, o); return nil },
		OnOrder:     func(_ context.Context, o Order) error { it.Orders = append(it.Orders, o); return nil },
		OnWarning:   func(_ context.Context, w Warning) error { it.Warnings = append(it.Warnings, w); return nil },
	}
}

// warningsWith returns the warnings of one code.
func (it *items) warningsWith(code WarningCode) []Warning {
	var out []Warning
	for _, w := range it.Warnings {
		if w.Code == code {
			out = append(out, w)
		}
	}
	return out
}

// offer returns the offer with the given ID (the last one, as a consumer would keep).
func (it *items) offer(tb testing.TB, id string) Offer {
	tb.Helper()
	for i := len(it.Offers) - 1; i >= 0; i-- {
		if it.Offers[i].ID == id {
			return it.Offers[i]
		}
	}
	tb.Fatalf("offer %q not visited", id)
	return Offer{}
}

func newTestReader(tb testing.TB) *Reader {
	tb.Helper()
	r, err := NewReader(DefaultLimits())
	if err != nil {
		tb.Fatalf("NewReader: %v", err)
	}
	return r
}

// readWith reads data with r and returns what was visited.
func readWith(tb testing.TB, r *Reader, name string, data []byte) (*items, Summary, error) {
	tb.Helper()
	it := &items{}
	sum, err := r.Read(context.Background(), name, bytes.NewReader(data), it.visitor())
	return it, sum, err
}

// mustRead reads data with a fresh reader and fails the test on an error.
func mustRead(tb testing.TB, name string, data []byte) (*items, Summary) {
	tb.Helper()
	it, sum, err := readWith(tb, newTestReader(tb), name, data)
	if err != nil {
		tb.Fatalf("Read %s: %v", name, err)
	}
	return it, sum
}

// repoRoot walks up from the package directory to the directory holding go.mod.
func repoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found above the package directory")
		}
		dir = parent
	}
}

// samplesDir returns shared/samples/commerceml beside the repository (read in place,
// read-only). Missing: fatal under CI=true, skipped otherwise.
func samplesDir(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(repoRoot(tb), "..", "shared", "samples", "commerceml")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("real CommerceML samples missing at %s: %v", dir, err)
		}
		tb.Skipf("real CommerceML samples not found at %s (shared/ not checked out beside the repository); skipping", dir)
	}
	return dir
}

// sample returns the bytes of one real sample file.
func sample(tb testing.TB, rel string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(samplesDir(tb), rel))
	if err != nil {
		tb.Fatalf("read sample: %v", err)
	}
	return data
}

// testdata returns the bytes of one file under testdata/.
func testdata(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatalf("read testdata: %v", err)
	}
	return data
}

// offersDoc wraps offer XML in a minimal offers package.
func offersDoc(rootAttrs, pkgAttrs, body string) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<КоммерческаяИнформация ВерсияСхемы="2.08" ДатаФормирования="2025-01-01T00:00:00"` + rootAttrs + ">\n")
	b.WriteString(`<ПакетПредложений` + pkgAttrs + "><Ид>cat#</Ид><Предложения>\n")
	b.WriteString(body)
	b.WriteString("\n</Предложения></ПакетПредложений></КоммерческаяИнформация>\n")
	return []byte(b.String())
}

func dec(tb testing.TB, s string) Decimal {
	tb.Helper()
	d, err := ParseDecimal(s)
	if err != nil {
		tb.Fatalf("ParseDecimal(%q): %v", s, err)
	}
	return d
}
