package commerceml

import (
	"bytes"
	"encoding/xml"
)

// validName reports whether name is an XML name (the Name production of XML 1.0 with the
// character classes encoding/xml uses). Names made of ASCII and the Russian alphabet,
// which is every name in CommerceML, are checked here byte by byte; any other name is
// checked by encoding/xml itself, so both always agree.
func validName(name []byte) bool {
	if len(name) == 0 {
		return false
	}
	for i := 0; i < len(name); {
		c := name[i]
		switch {
		case c < 0x80:
			if !nameByte[c] || i == 0 && !nameStartASCII[c] {
				return false
			}
			i++
			continue
		case i+1 < len(name) && isRussianLetter(c, name[i+1]):
			i += 2
			continue
		}
		return validNameSlow(name)
	}
	return true
}

// isRussianLetter reports whether c1 c2 encode А–я (U+0410–U+044F), Ё (U+0401) or ё
// (U+0451), all of them name characters in any position.
func isRussianLetter(c1, c2 byte) bool {
	switch c1 {
	case 0xD0:
		return c2 >= 0x90 && c2 <= 0xBF || c2 == 0x81
	case 0xD1:
		return c2 >= 0x80 && c2 <= 0x8F || c2 == 0x91
	}
	return false
}

// validNameSlow asks encoding/xml whether name is a name. Colons are replaced by '_' (both
// are name characters anywhere) so that prefixes play no part.
func validNameSlow(name []byte) bool {
	doc := make([]byte, 0, len(name)+3)
	doc = append(doc, '<')
	doc = append(doc, bytes.ReplaceAll(name, []byte{':'}, []byte{'_'})...)
	doc = append(doc, '/', '>')
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	tok, err := d.RawToken()
	if err != nil {
		return false
	}
	start, ok := tok.(xml.StartElement)
	return ok && start.Name.Local == string(bytes.ReplaceAll(name, []byte{':'}, []byte{'_'}))
}
