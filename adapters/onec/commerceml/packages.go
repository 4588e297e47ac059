package commerceml

// pkgReader reads one Классификатор, Каталог, ПакетПредложений or
// ИзмененияПакетаПредложений. Its header is visited before the first collection
// (ТипыЦен, Склады, Товары, Предложения) or, failing that, at the end of the package;
// a header field after that point is ignored with a warning.
type pkgReader struct {
	p       *parser
	h       Package
	emitted bool
}

func (p *parser) pkg(start *element, kind PackageKind) error {
	r := &pkgReader{p: p, h: Package{File: p.file, Line: p.s.currentLine(), Kind: kind, SchemaVersion: p.version, GeneratedAt: p.created}}
	if v, ok := start.attr("СодержитТолькоИзменения"); ok {
		r.h.Mode = p.mode(r.h.Line, v)
	}
	if err := p.s.children(r.child); err != nil {
		return err
	}
	return r.emit()
}

func (r *pkgReader) child(c *element) error {
	p, h := r.p, &r.h
	switch string(c.name()) {
	case "Ид":
		return r.header("Ид", &h.ID)
	case "Наименование":
		return r.header("Наименование", &h.Name)
	case "ИдКаталога":
		return r.header("ИдКаталога", &h.CatalogID)
	case "ИдКлассификатора":
		return r.header("ИдКлассификатора", &h.ClassifierID)
	case "СодержитТолькоИзменения":
		var raw string
		if err := r.header("СодержитТолькоИзменения", &raw); err != nil || r.emitted {
			return err
		}
		h.Mode = p.mode(p.s.currentLine(), raw)
		return nil
	case "ТипыЦен":
		return r.collection("ТипЦены", p.priceType)
	case "Склады":
		return r.collection("Склад", p.warehouse)
	case "Предложения":
		if h.Kind == KindOffers || h.Kind == KindOfferChanges {
			return r.collection("Предложение", p.offer)
		}
	case "Товары":
		if h.Kind == KindCatalog {
			return r.collection("Товар", p.product)
		}
	}
	return p.s.skip()
}

// collection visits the header, then reads the children named local with fn.
func (r *pkgReader) collection(local string, fn func(*element) error) error {
	if err := r.emit(); err != nil {
		return err
	}
	return r.p.each(local, fn)
}

// header reads a header field into dst, or warns when the header was already visited.
func (r *pkgReader) header(name string, dst *string) error {
	line := r.p.s.currentLine()
	t, err := r.p.s.text()
	if err != nil {
		return err
	}
	if r.emitted {
		r.p.warn(line, WarnLateHeader, "%s %q after the package's first item; ignored", name, t)
		return nil
	}
	*dst = t
	return nil
}

// emit visits the header once.
func (r *pkgReader) emit() error {
	if r.emitted {
		return nil
	}
	r.emitted = true
	p, h := r.p, &r.h
	if h.Kind == KindOfferChanges && h.Mode == ModeUnspecified {
		h.Mode = ModeChangesOnly
	}
	if h.Kind == KindCatalog && h.CatalogID == "" {
		h.CatalogID = h.ID
	}
	p.checkRefID(h.Line, "package Ид", h.ID)
	p.sum.Packages++
	if p.visitErr != nil {
		return p.visitErr
	}
	return p.v.Package(p.ctx, *h)
}
