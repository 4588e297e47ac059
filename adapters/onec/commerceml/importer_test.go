package commerceml

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestImportDirectory(t *testing.T) {
	dir := filepath.Join(samplesDir(t), "cml207-warehouses")
	it := &items{}
	sum, err := Import(context.Background(), newTestReader(t), []string{dir}, it.visitor())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Files != 2 || sum.Products != 36 || sum.Offers != 44 || sum.WarningCount != 0 {
		t.Errorf("summary: %+v", sum)
	}
	if it.Packages[0].File != filepath.Join(dir, "import0_1.xml") {
		t.Errorf("import0_1.xml must be read first: %+v", it.Packages[0])
	}
}

func TestImportUnknownNameReadLast(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "aaa-export.xml"), testdata(t, "layout-d.xml"))
	writeFile(t, filepath.Join(dir, "rests_1.xml"), testdata(t, "layout-c.xml"))
	writeFile(t, filepath.Join(dir, "notes.txt"), []byte("not read"))
	it := &items{}
	sum, err := Import(context.Background(), newTestReader(t), []string{dir}, it.visitor())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Files != 2 || filepath.Base(it.Packages[0].File) != "rests_1.xml" || filepath.Base(it.Packages[1].File) != "aaa-export.xml" {
		t.Errorf("order: %+v", it.Packages)
	}
	if len(it.warningsWith(WarnUnknownFile)) != 1 {
		t.Errorf("warnings: %v", it.Warnings)
	}
}

func TestImportErrors(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "offers.xml")
	writeFile(t, broken, []byte(`<КоммерческаяИнформация><ПакетПредложений>`))
	_, err := Import(context.Background(), newTestReader(t), []string{broken}, VisitorFuncs{})
	var pe *ParseError
	if !errors.Is(err, ErrMalformed) || !errors.As(err, &pe) || pe.File != broken {
		t.Errorf("got %v, want ErrMalformed naming %s", err, broken)
	}
	if _, err := Import(context.Background(), newTestReader(t), []string{filepath.Join(dir, "missing.xml")}, VisitorFuncs{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v", err)
	}
	notZip := filepath.Join(dir, "v8_1.zip")
	writeFile(t, notZip, []byte("PK not really"))
	if _, err := Import(context.Background(), newTestReader(t), []string{notZip}, VisitorFuncs{}); err == nil {
		t.Error("corrupt zip: got nil error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	writeFile(t, filepath.Join(dir, "offers.xml"), testdata(t, "layout-a.xml"))
	if _, err := Import(ctx, newTestReader(t), []string{filepath.Join(dir, "offers.xml")}, VisitorFuncs{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v", err)
	}
}
