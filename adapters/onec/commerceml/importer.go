package commerceml

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// fileRank orders the files of one exchange the way 1C uploads them: the classifier
// and catalog (import), then offers, prices, rests, then order documents. Files with
// other names come last.
func fileRank(name string) (rank int, known bool) {
	base := strings.ToLower(path.Base(strings.ReplaceAll(name, `\`, "/")))
	for i, prefix := range []string{"classifier", "import", "offers", "prices", "rests", "documents", "orders"} {
		if strings.HasPrefix(base, prefix) {
			return i, true
		}
	}
	return 99, false
}

// source is one XML document of an import: a plain file or a zip entry.
type source struct {
	name string // path, or "archive.zip/entry"
	open func() (io.ReadCloser, error)
}

// Import reads an exchange set with r: XML files and zips of them, given by path (a
// directory stands for the .xml and .zip files directly in it). The
// documents are read in upload order (classifier, import, offers, prices, rests,
// documents/orders; by name within a kind; unknown names last with a warning), so that
// warehouses and price types declared first are known to the files after them. Zip
// entries that are not .xml (images under import_files/) are ignored; an entry name that
// is absolute, has a drive letter or climbs with ".." fails the import (ErrUnsafePath),
// and the zip's entry count and uncompressed size are bounded by MaxZipEntries and
// MaxZipBytes. When the offers, prices and rests files name different packages, a
// WarnPackageMismatch warning says so. The Summary adds up all files.
func Import(ctx context.Context, r *Reader, paths []string, v Visitor) (Summary, error) {
	var total Summary
	var sources []source
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			_ = c.Close()
		}
	}()
	paths, err := expandDirs(paths)
	if err != nil {
		return total, err
	}
	for _, p := range paths {
		if strings.EqualFold(filepath.Ext(p), ".zip") {
			zs, closer, err := zipSources(p, r.limits)
			if err != nil {
				return total, err
			}
			closers = append(closers, closer)
			sources = append(sources, zs...)
			continue
		}
		sources = append(sources, source{name: p, open: func() (io.ReadCloser, error) { return os.Open(p) }})
	}
	if len(sources) > r.limits.MaxFiles {
		return total, limitError("MaxFiles", int64(r.limits.MaxFiles))
	}
	sort.SliceStable(sources, func(i, j int) bool {
		ri, _ := fileRank(sources[i].name)
		rj, _ := fileRank(sources[j].name)
		if ri != rj {
			return ri < rj
		}
		return sources[i].name < sources[j].name
	})
	packages := &packageWatch{Visitor: v}
	for _, src := range sources {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		sum, err := readSource(ctx, r, src, packages)
		total.add(sum, r.limits.MaxWarnings)
		if err != nil {
			return total, err
		}
	}
	if w, ok := packages.mismatch(); ok {
		total.WarningCount++
		if len(total.Warnings) < r.limits.MaxWarnings {
			total.Warnings = append(total.Warnings, w)
		}
		if err := v.Warning(ctx, w); err != nil {
			return total, err
		}
	}
	return total, nil
}

// expandDirs replaces each directory in paths by the .xml and .zip files directly in it.
func expandDirs(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, &ParseError{File: p, Err: err}
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, &ParseError{File: p, Err: err}
		}
		for _, e := range entries {
			ext := strings.ToLower(filepath.Ext(e.Name()))
			if !e.IsDir() && (ext == ".xml" || ext == ".zip") {
				out = append(out, filepath.Join(p, e.Name()))
			}
		}
	}
	return out, nil
}

func readSource(ctx context.Context, r *Reader, src source, v Visitor) (Summary, error) {
	rc, err := src.open()
	if err != nil {
		return Summary{}, &ParseError{File: src.name, Err: err}
	}
	defer rc.Close()
	var sum Summary
	if _, known := fileRank(src.name); !known {
		w := Warning{File: src.name, Code: WarnUnknownFile, Message: "file name is not import/offers/prices/rests/documents; read last"}
		sum.WarningCount++
		sum.Warnings = append(sum.Warnings, w)
		if err := v.Warning(ctx, w); err != nil {
			return sum, err
		}
	}
	fileSum, err := r.Read(ctx, src.name, rc, v)
	sum.add(fileSum, r.limits.MaxWarnings)
	return sum, err
}

// zipSources lists the .xml entries of a zip.
func zipSources(zipPath string, limits Limits) ([]source, io.Closer, error) {
	f, err := os.Open(zipPath)
	if err != nil {
		return nil, nil, &ParseError{File: zipPath, Err: err}
	}
	info, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, nil, &ParseError{File: zipPath, Err: err}
	}
	zr, err := zip.NewReader(f, info.Size())
	if err != nil {
		_ = f.Close()
		return nil, nil, &ParseError{File: zipPath, Err: err}
	}
	srcs, err := zipEntries(zipPath, zr, limits)
	if err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	return srcs, f, nil
}

// zipEntries checks the entries of an archive and returns its XML documents. All of
// them draw on one budget of MaxZipBytes uncompressed bytes.
func zipEntries(zipPath string, zr *zip.Reader, limits Limits) ([]source, error) {
	if len(zr.File) > limits.MaxZipEntries {
		return nil, &ParseError{File: zipPath, Err: limitError("MaxZipEntries", int64(limits.MaxZipEntries))}
	}
	budget := &byteBudget{left: limits.MaxZipBytes}
	var out []source
	for _, zf := range zr.File {
		name, err := safeEntryName(zf.Name)
		if err != nil {
			return nil, &ParseError{File: zipPath, Err: err}
		}
		if zf.FileInfo().IsDir() || !strings.EqualFold(path.Ext(name), ".xml") {
			continue
		}
		out = append(out, source{
			name: zipPath + "/" + name,
			open: func() (io.ReadCloser, error) {
				if zf.UncompressedSize64 > uint64(budget.left) {
					return nil, limitError("MaxZipBytes", limits.MaxZipBytes)
				}
				rc, err := zf.Open()
				if err != nil {
					return nil, err
				}
				return budgetReader{ReadCloser: rc, budget: budget, limit: limits.MaxZipBytes}, nil
			},
		})
	}
	return out, nil
}

// safeEntryName normalises a zip entry name and rejects names that could escape a
// directory: absolute paths, drive letters ("C:\v8_8789_c.xml") and "..".
func safeEntryName(name string) (string, error) {
	n := strings.ReplaceAll(name, `\`, "/")
	switch {
	case n == "" || strings.ContainsRune(n, 0):
		return "", fmt.Errorf("%w: %q", ErrUnsafePath, name)
	case strings.HasPrefix(n, "/"):
		return "", fmt.Errorf("%w: absolute %q", ErrUnsafePath, name)
	case len(n) >= 2 && n[1] == ':':
		return "", fmt.Errorf("%w: drive letter in %q", ErrUnsafePath, name)
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", fmt.Errorf("%w: %q climbs out", ErrUnsafePath, name)
		}
	}
	return path.Clean(n), nil
}

// byteBudget is the uncompressed bytes left for one archive.
type byteBudget struct{ left int64 }

// budgetReader counts the bytes actually decompressed against the budget; entry headers
// are not trusted.
type budgetReader struct {
	io.ReadCloser
	budget *byteBudget
	limit  int64
}

func (b budgetReader) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.budget.left -= int64(n)
	if b.budget.left < 0 {
		return n, limitError("MaxZipBytes", b.limit)
	}
	return n, err
}

// packageWatch passes items through and remembers the package IDs of offer files, to
// warn when split offers/prices/rests files do not belong together.
type packageWatch struct {
	Visitor
	first Package
	other *Package
}

func (w *packageWatch) Package(ctx context.Context, p Package) error {
	if p.Kind == KindOffers || p.Kind == KindOfferChanges {
		switch {
		case w.first.ID == "" && w.first.File == "":
			w.first = p
		case p.ID != w.first.ID && w.other == nil:
			other := p
			w.other = &other
		}
	}
	return w.Visitor.Package(ctx, p)
}

func (w *packageWatch) mismatch() (Warning, bool) {
	if w.other == nil {
		return Warning{}, false
	}
	return Warning{
		File: w.other.File,
		Line: w.other.Line,
		Code: WarnPackageMismatch,
		Message: fmt.Sprintf("offer package %q differs from %q in %s; the files may not be one exchange",
			w.other.ID, w.first.ID, w.first.File),
	}, true
}
