package exchange

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// updatesFake is an OrderSource that records the order documents 1C uploads.
type updatesFake struct {
	ordersFake
	mu      sync.Mutex
	uploads []OrderUpload
}

func (u *updatesFake) OrdersUpdated(_ context.Context, _ string, up OrderUpload) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.uploads = append(u.uploads, up)
	return nil
}

func (u *updatesFake) got() []OrderUpload {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]OrderUpload(nil), u.uploads...)
}

// TestSaleFileDeliversOrderStates: the real documents.xml of a УТ 11 base,
// uploaded as 1C uploads order states (type=sale&mode=file, in chunks of
// file_limit), is read once whole and handed to OrderUpdates; mode=import
// then answers success without reading it again.
func TestSaleFileDeliversOrderStates(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(samplesDir(t), "cml31-ut11-bitrix6", "documents.xml"))
	if err != nil {
		t.Fatal(err)
	}
	src := &updatesFake{}
	hs := newHarness(t, func(c *Config) { c.FileLimitBytes = 32 << 10 }, src, nil)
	cookie, _ := hs.checkauth(t, "sale")
	hs.do(t, "/1c/exchange", params("type", "sale", "mode", "init"), cookie, nil, nil)
	parts := chunks(doc, 8)
	for i, part := range parts {
		q := params("type", "sale", "mode", "file", "filename", `C:\documents___1.xml`)
		if r := hs.do(t, "/1c/exchange", q, cookie, part, nil); string(r.body) != "success" {
			t.Fatalf("chunk %d: %q", i, r.body)
		}
		if got, want := len(src.got()), 0; i < len(parts)-1 && got != want {
			t.Fatalf("after chunk %d of %d: %d deliveries, want %d", i+1, len(parts), got, want)
		}
	}
	ups := src.got()
	if len(ups) != 1 {
		t.Fatalf("%d deliveries, want 1", len(ups))
	}
	up := ups[0]
	if up.File != "documents___1.xml" || up.Total == 0 || len(up.Orders) != up.Total || up.Orders[0].ID != "320" {
		t.Fatalf("delivery: file %q, %d orders of %d, first %+v", up.File, len(up.Orders), up.Total, up.Orders[0].ID)
	}
	if r := hs.do(t, "/1c/exchange", params("type", "sale", "mode", "import", "filename", "documents___1.xml"), cookie, nil, nil); string(r.body) != "success" {
		t.Fatalf("import: %q", r.body)
	}
	if len(src.got()) != 1 {
		t.Fatal("import read the document again")
	}

	// An old 1C's windows-1251 document in one request.
	old, err := os.ReadFile(filepath.Join(samplesDir(t), "orders-cp1251", "orders-203.xml"))
	if err != nil {
		t.Fatal(err)
	}
	q := params("type", "sale", "mode", "file", "filename", "orders-203.xml")
	if r := hs.do(t, "/1c/exchange", q, cookie, old, nil); string(r.body) != "success" {
		t.Fatalf("cp1251 document: %q", r.body)
	}
	if ups := src.got(); len(ups) != 2 || ups[1].File != "orders-203.xml" || ups[1].Total == 0 {
		t.Fatalf("cp1251 document not delivered: %+v", ups)
	}
}

// TestSaleFileThatNeverReadsFails: a document that does not read whole is
// accepted chunk by chunk, and mode=import reports why it is refused.
func TestSaleFileThatNeverReadsFails(t *testing.T) {
	src := &updatesFake{}
	hs := newHarness(t, nil, src, nil)
	cookie, _ := hs.checkauth(t, "sale")
	q := params("type", "sale", "mode", "file", "filename", "orders.xml")
	if r := hs.do(t, "/1c/exchange", q, cookie, []byte(`<?xml version="1.0"?><КоммерческаяИнформация><Документ>`), nil); string(r.body) != "success" {
		t.Fatalf("file: %q", r.body)
	}
	r := hs.do(t, "/1c/exchange", params("type", "sale", "mode", "import", "filename", "orders.xml"), cookie, nil, nil)
	if r.first() != "failure" || len(r.lines()) < 2 {
		t.Fatalf("import of a broken document: %q", r.body)
	}
	if strings.Contains(string(r.body), hs.workDir) {
		t.Fatalf("failure reveals the work directory: %q", r.body)
	}
	if len(src.got()) != 0 {
		t.Fatal("a broken document was delivered")
	}
	r = hs.do(t, "/1c/exchange", params("type", "sale", "mode", "import", "filename", "missing.xml"), cookie, nil, nil)
	if r.first() != "failure" {
		t.Fatalf("import of a file never uploaded: %q", r.body)
	}
}
