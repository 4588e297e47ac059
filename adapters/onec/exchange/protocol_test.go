package exchange

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"stockd/adapters/onec/cmlevents"
	"stockd/adapters/onec/commerceml"
	"stockd/reservation"
)

// TestProtocolAsOneCDrivesIt runs a whole catalog exchange the way 1C does: checkauth,
// init, the real 3.1 sample files zipped and uploaded in 3 chunks, repeated import
// requests until success for each file, then complete.
func TestProtocolAsOneCDrivesIt(t *testing.T) {
	dir := filepath.Join(samplesDir(t), "cml31-ut11-bitrix6")
	var files [][2]string
	for _, name := range []string{"classifier.xml", "import.xml", "offers.xml", "prices.xml", "rests.xml"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, [2]string{name, string(data)})
	}
	files = append(files, [2]string{"import_files/ab/abc.jpg", "\xff\xd8\xff\xe0 not really a jpeg"})
	archive := makeZip(t, files...)
	limit := int64(len(archive)+2) / 3

	hs := newHarness(t, func(c *Config) { c.FileLimitBytes = max(limit, 1024) }, nil, nil)
	const path = "/bitrix/admin/1c_exchange.php"
	cookie, token := hs.checkauth(t, "catalog")

	r := hs.do(t, path, params("type", "catalog", "mode", "init", "sessid", token, "version", "3.1"), cookie, nil, nil)
	if want := "zip=yes\nfile_limit=" + strconv.FormatInt(max(limit, 1024), 10); string(r.body) != want {
		t.Fatalf("init: %q, want %q", r.body, want)
	}
	parts := chunks(archive, 3)
	if len(parts) != 3 {
		t.Fatalf("%d chunks", len(parts))
	}
	for i, part := range parts {
		r := hs.do(t, path, params("type", "catalog", "mode", "file", "filename", "v8_3B8F_3e.zip"), cookie, part, nil)
		if string(r.body) != "success" {
			t.Fatalf("chunk %d: %q", i, r.body)
		}
	}
	dirs := hs.sessionDirs(t)
	if len(dirs) != 1 {
		t.Fatalf("session dirs: %v", dirs)
	}
	uploaded, err := os.ReadFile(filepath.Join(dirs[0], "v8_3B8F_3e.zip"))
	if err != nil {
		t.Fatal(err)
	}
	if sha(uploaded) != sha(archive) {
		t.Fatalf("reassembled zip differs: %d bytes, want %d", len(uploaded), len(archive))
	}

	for _, name := range []string{"import.xml", "offers.xml", "prices.xml", "rests.xml"} {
		r, _ := hs.importUntilDone(t, "catalog", cookie, name)
		if string(r.body) != "success" {
			t.Fatalf("import %s: %q", name, r.body)
		}
	}
	if r := hs.do(t, path, params("type", "catalog", "mode", "complete"), cookie, nil, nil); string(r.body) != "success" {
		t.Fatalf("complete: %q", r.body)
	}
	if dirs := hs.sessionDirs(t); len(dirs) != 0 {
		t.Fatalf("session dirs after complete: %v", dirs)
	}
	if r := hs.do(t, path, params("type", "catalog", "mode", "init"), cookie, nil, nil); r.first() != "failure" {
		t.Fatalf("request after complete: %q", r.body)
	}

	// The events are those a direct import of the same files produces.
	want := &recorder{}
	imp, err := cmlevents.NewImport(hs.h.accounts[0].Events, cmlevents.NewMemoryStore(0, 1000), want, hs.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	reader, _ := commerceml.NewReader(commerceml.DefaultLimits())
	var paths []string
	for _, f := range files[:5] {
		paths = append(paths, filepath.Join(dir, f[0]))
	}
	if _, err := commerceml.Import(context.Background(), reader, paths, imp); err != nil {
		t.Fatal(err)
	}
	if _, err := imp.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, wantEvs := hs.sink.events(t), want.events(t)
	for _, typ := range []reservation.EventType{reservation.EventStockSet, reservation.EventPriceSet, reservation.EventItemUpsert, reservation.EventItemDelete} {
		if g, w := countType(got, typ), countType(wantEvs, typ); g != w || g == 0 {
			t.Errorf("%v: got %d, want %d (and more than 0)", typ, g, w)
		}
	}
	rests := []byte(files[4][1])
	if g, w := countType(got, reservation.EventStockSet), bytes.Count(rests, []byte("<Остаток>")); g != w {
		t.Errorf("stock.set: got %d, want %d Остаток in rests.xml", g, w)
	}
	for i, ev := range got {
		if ev.Seq != uint64(i+1) || ev.Source != "ut11-test" {
			t.Fatalf("event %d: source %q seq %d", i, ev.Source, ev.Seq)
		}
	}
}

// Case 35: checkauth with Basic auth (also through a header a proxy renamed) answers
// success, the cookie name and value, sessid and timestamp; wrong credentials fail.
func TestCase35_CheckauthBasicAuth(t *testing.T) {
	hs := newHarness(t, nil, nil, nil)
	q := params("type", "catalog", "mode", "checkauth")
	for _, header := range []string{"Authorization", "X-Authorization"} {
		r := hs.do(t, "/1c/exchange", q, "", nil, map[string]string{header: basic(testLogin, testPassword)})
		lines := r.lines()
		if len(lines) != 5 || lines[0] != "success" || lines[1] != "EXCHSID" || len(lines[2]) != 32 ||
			lines[3] != "sessid="+lines[2] || lines[4] != "timestamp="+strconv.FormatInt(hs.clock.Now().Unix(), 10) {
			t.Errorf("%s: %q", header, r.body)
		}
	}
	for name, auth := range map[string]string{
		"wrong password": basic(testLogin, "nope"),
		"wrong login":    basic("someone", testPassword),
		"not basic":      "Bearer " + testPassword,
		"bad base64":     "Basic ###",
	} {
		r := hs.do(t, "/1c/exchange", q, "", nil, map[string]string{"Authorization": auth})
		if r.status != http.StatusOK || r.first() != "failure" || len(r.lines()) != 2 {
			t.Errorf("%s: %d %q", name, r.status, r.body)
		}
	}
	r := hs.do(t, "/1c/exchange", q, "", nil, nil)
	if r.status != http.StatusUnauthorized || r.first() != "failure" || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("no credentials: %d %q %q", r.status, r.header.Get("WWW-Authenticate"), r.body)
	}
	if n := hs.h.Sessions(); n != 2 {
		t.Errorf("sessions: %d, want 2", n)
	}
}

// TestVerifiedCredentialsSkipBusySlots: with every password-check slot
// taken (wrong passwords sent in a loop), the 1C that logged in before
// still logs in, a wrong password still gets no session, and after
// VerifiedAuthTTL the credentials are checked again.
func TestVerifiedCredentialsSkipBusySlots(t *testing.T) {
	hs := newHarness(t, nil, nil, nil)
	q := params("type", "catalog", "mode", "checkauth")
	hs.checkauth(t, "catalog") // checked once, remembered
	for range cap(hs.h.authSlots) {
		hs.h.authSlots <- struct{}{} // the slots busy with an attacker's checks
	}
	defer func() {
		for range cap(hs.h.authSlots) {
			<-hs.h.authSlots
		}
	}()
	hs.checkauth(t, "catalog")
	for name, auth := range map[string]string{
		"wrong password": basic(testLogin, testPassword+"x"),
		"wrong login":    basic(testLogin+"x", testPassword),
	} {
		r := hs.do(t, "/1c/exchange", q, "", nil, map[string]string{"Authorization": auth})
		if r.first() != "failure" || !strings.Contains(string(r.body), "занят") {
			t.Errorf("%s with the slots busy: %q, want failure (busy)", name, r.body)
		}
	}
	hs.clock.Advance(VerifiedAuthTTL)
	r := hs.do(t, "/1c/exchange", q, "", nil, map[string]string{"Authorization": basic(testLogin, testPassword)})
	if r.first() != "failure" || !strings.Contains(string(r.body), "занят") {
		t.Fatalf("after VerifiedAuthTTL with the slots busy: %q, want the password checked again (busy)", r.body)
	}
	if n := hs.h.Sessions(); n != 2 {
		t.Fatalf("sessions: %d, want 2", n)
	}
}

// TestVerifiedCacheBound: the cache holds at most maxVerified credentials,
// dropping the one closest to expiry.
func TestVerifiedCacheBound(t *testing.T) {
	c, err := newVerifiedCache(strings.NewReader(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)
	a := &account{}
	for i := range maxVerified + 10 {
		c.add("login", strconv.Itoa(i), a, now.Add(time.Duration(i)*time.Second))
	}
	if len(c.entries) != maxVerified {
		t.Fatalf("%d entries, want %d", len(c.entries), maxVerified)
	}
	at := now.Add(time.Duration(maxVerified+10) * time.Second)
	if _, ok := c.lookup("login", "0", at); ok {
		t.Fatal("the first, closest to expiry, was kept")
	}
	if got, ok := c.lookup("login", strconv.Itoa(maxVerified+9), at); !ok || got != a {
		t.Fatal("the newest was dropped")
	}
	if _, ok := c.lookup("login2", strconv.Itoa(maxVerified+9), at); ok {
		t.Fatal("another login matched")
	}
}

func TestPBKDF2Password(t *testing.T) {
	hash, err := HashPassword(testPassword, bytes.Repeat([]byte{7}, 16), MinPBKDF2Iterations)
	if err != nil {
		t.Fatal(err)
	}
	hs := newHarness(t, func(c *Config) { c.Accounts[0].PasswordHash = hash }, nil, nil)
	hs.checkauth(t, "catalog")
	r := hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "checkauth"), "", nil,
		map[string]string{"Authorization": basic(testLogin, testPassword+"x")})
	if r.first() != "failure" {
		t.Fatalf("wrong password: %q", r.body)
	}
}

func TestRequestsNeedASession(t *testing.T) {
	hs := newHarness(t, nil, nil, nil)
	_, token := hs.checkauth(t, "catalog")
	for name, tc := range map[string]struct {
		cookie string
		sessid string
	}{
		"no cookie":       {},
		"unknown cookie":  {cookie: "EXCHSID=" + strings.Repeat("0", 32)},
		"other cookie":    {cookie: "PHPSESSID=" + token},
		"sessid mismatch": {cookie: "EXCHSID=" + token, sessid: strings.Repeat("1", 32)},
	} {
		q := params("type", "catalog", "mode", "init")
		if tc.sessid != "" {
			q.Set("sessid", tc.sessid)
		}
		if r := hs.do(t, "/1c/exchange", q, tc.cookie, nil, nil); r.first() != "failure" || len(r.lines()) != 2 {
			t.Errorf("%s: %q", name, r.body)
		}
	}
	// The sessid parameter alone is enough.
	if r := hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "init", "sessid", token), "", nil, nil); r.first() != "zip=yes" {
		t.Errorf("sessid alone: %q", r.body)
	}
	if r := hs.do(t, "/1c/exchange", params("type", "other", "mode", "init", "sessid", token), "", nil, nil); r.first() != "failure" {
		t.Errorf("unknown type: %q", r.body)
	}
	if r := hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "dance", "sessid", token), "", nil, nil); r.first() != "failure" {
		t.Errorf("unknown mode: %q", r.body)
	}
}

// Case 36: 1C 8.3 may skip init and send files straight after checkauth.
func TestCase36_FileWithoutInit(t *testing.T) {
	hs := newHarness(t, nil, nil, nil)
	cookie, _ := hs.checkauth(t, "catalog")
	r := hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "file", "filename", "offers.xml"), cookie, []byte(smallOffers("sku-1", "7")), nil)
	if string(r.body) != "success" {
		t.Fatalf("file: %q", r.body)
	}
	if r, _ := hs.importUntilDone(t, "catalog", cookie, "offers.xml"); string(r.body) != "success" {
		t.Fatalf("import: %q", r.body)
	}
	evs := hs.sink.events(t)
	if len(evs) != 1 || evs[0].Type != reservation.EventStockSet || evs[0].SKU != "sku-1" || evs[0].Qty != 7 {
		t.Fatalf("events: %+v", evs)
	}
}

// Case 37: a file sent in N chunks of at most file_limit is reassembled byte for byte;
// a chunk sent again after a lost reply is not appended twice.
func TestCase37_ChunksAppendByteExact(t *testing.T) {
	hs := newHarness(t, func(c *Config) { c.FileLimitBytes = 4096 }, nil, nil)
	cookie, _ := hs.checkauth(t, "catalog")
	data := make([]byte, 4096*5+123)
	for i := range data {
		data[i] = byte(i*7 + i/251)
	}
	q := params("type", "catalog", "mode", "file", "filename", "import_files/ab/abc.jpg")
	for i, part := range chunks(data, 6) {
		if r := hs.do(t, "/1c/exchange", q, cookie, part, nil); string(r.body) != "success" {
			t.Fatalf("chunk %d: %q", i, r.body)
		}
		if i == 2 { // the reply was lost; 1C sends the same chunk again
			if r := hs.do(t, "/1c/exchange", q, cookie, part, nil); string(r.body) != "success" {
				t.Fatalf("retried chunk %d: %q", i, r.body)
			}
		}
	}
	got, err := os.ReadFile(filepath.Join(hs.sessionDirs(t)[0], "import_files", "ab", "abc.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if sha(got) != sha(data) {
		t.Fatalf("reassembled: %d bytes, want %d, sha256 differs", len(got), len(data))
	}
	// A chunk over file_limit is refused.
	if r := hs.do(t, "/1c/exchange", q, cookie, make([]byte, 4097), nil); r.first() != "failure" {
		t.Fatalf("oversized chunk: %q", r.body)
	}
	// A GET is not an upload.
	if r := hs.do(t, "/1c/exchange", q, cookie, nil, nil); r.first() != "failure" {
		t.Fatalf("GET file: %q", r.body)
	}
}

// An XML file sent again from its declaration starts over instead of appending.
func TestXMLReuploadStartsOver(t *testing.T) {
	hs := newHarness(t, nil, nil, nil)
	cookie, _ := hs.checkauth(t, "catalog")
	q := params("type", "catalog", "mode", "file", "filename", "offers.xml")
	for _, qty := range []string{"1", "2"} {
		if r := hs.do(t, "/1c/exchange", q, cookie, []byte(smallOffers("sku-1", qty)), nil); string(r.body) != "success" {
			t.Fatalf("file: %q", r.body)
		}
	}
	if r, _ := hs.importUntilDone(t, "catalog", cookie, "offers.xml"); string(r.body) != "success" {
		t.Fatalf("import: %q", r.body)
	}
	// After its import the same name starts over too, and is imported again.
	if r := hs.do(t, "/1c/exchange", q, cookie, []byte(smallOffers("sku-1", "3")), nil); string(r.body) != "success" {
		t.Fatalf("file: %q", r.body)
	}
	if r, _ := hs.importUntilDone(t, "catalog", cookie, "offers.xml"); string(r.body) != "success" {
		t.Fatalf("import: %q", r.body)
	}
	evs := hs.sink.events(t)
	if len(evs) != 2 || evs[0].Qty != 2 || evs[1].Qty != 3 {
		t.Fatalf("events: %+v", evs)
	}
}

// TestSecondZipInSessionIsImported: two zips uploaded one after the other
// in one session (without init between them, as 1C sometimes does), each
// holding offers.xml, each followed by import of offers.xml: both are read,
// the second import does not answer from the first one's result.
func TestSecondZipInSessionIsImported(t *testing.T) {
	hs := newHarness(t, nil, nil, nil)
	cookie, _ := hs.checkauth(t, "catalog")
	for i, zipName := range []string{"v8_A1.zip", "v8_B2.zip"} {
		archive := makeZip(t, [2]string{"offers.xml", smallOffers("sku-1", strconv.Itoa(5+2*i))})
		q := params("type", "catalog", "mode", "file", "filename", zipName)
		if r := hs.do(t, "/1c/exchange", q, cookie, archive, nil); string(r.body) != "success" {
			t.Fatalf("upload %s: %q", zipName, r.body)
		}
		if r, _ := hs.importUntilDone(t, "catalog", cookie, "offers.xml"); string(r.body) != "success" {
			t.Fatalf("import after %s: %q", zipName, r.body)
		}
	}
	// asked again with no new upload: the last import's answer, no third import
	if r, _ := hs.importUntilDone(t, "catalog", cookie, "offers.xml"); string(r.body) != "success" {
		t.Fatalf("import repeated: %q", r.body)
	}
	evs := hs.sink.events(t)
	if len(evs) != 2 || evs[0].Qty != 5 || evs[1].Qty != 7 {
		t.Fatalf("events: %+v, want stock 5 from the first zip, then 7 from the second", evs)
	}
}

// Case 38: a zip with a random name, sent in chunks, holding XML and import_files
// images; traversal in file names and in zip entries is refused.
func TestCase38_ZipAndUnsafePaths(t *testing.T) {
	hs := newHarness(t, func(c *Config) { c.FileLimitBytes = 1024 }, nil, nil)
	cookie, _ := hs.checkauth(t, "catalog")
	archive := makeZip(t,
		[2]string{"offers.xml", smallOffers("sku-z", "4") + strings.Repeat("\n", 3000)},
		[2]string{"import_files/0a/0a1b.jpg", "jpeg"})
	q := params("type", "catalog", "mode", "file", "filename", "v8_8F1A_7c.zip")
	for i, part := range chunks(archive, (len(archive)+1023)/1024) {
		if r := hs.do(t, "/1c/exchange", q, cookie, part, nil); string(r.body) != "success" {
			t.Fatalf("chunk %d: %q", i, r.body)
		}
	}
	if r, _ := hs.importUntilDone(t, "catalog", cookie, "offers.xml"); string(r.body) != "success" {
		t.Fatalf("import: %q", r.body)
	}
	if evs := hs.sink.events(t); len(evs) != 1 || evs[0].SKU != "sku-z" || evs[0].Qty != 4 {
		t.Fatalf("events: %+v", evs)
	}

	outside := filepath.Join(filepath.Dir(hs.workDir), "escaped.xml")
	for _, name := range []string{"../escaped.xml", "../../escaped.xml", "/etc/passwd", `C:\..\escaped.xml`,
		"import_files/../../escaped.xml", `..\escaped.xml`, "a//b.xml", ".htaccess", "имя.xml", "a\x00b.xml", ""} {
		q := params("type", "catalog", "mode", "file", "filename", name)
		if r := hs.do(t, "/1c/exchange", q, cookie, []byte("x"), nil); r.first() != "failure" {
			t.Errorf("filename %q: %q", name, r.body)
		}
	}
	if _, err := os.Stat(outside); err == nil {
		t.Fatalf("a file escaped to %s", outside)
	}
	// 1C's Windows path for order files keeps its base name.
	q = params("type", "sale", "mode", "file", "filename", `C:\v8_8789_c.xml`)
	if r := hs.do(t, "/1c/exchange", q, cookie, []byte("<x/>"), nil); string(r.body) != "success" {
		t.Fatalf("windows path: %q", r.body)
	}
	if _, err := os.Stat(filepath.Join(hs.sessionDirs(t)[0], "v8_8789_c.xml")); err != nil {
		t.Fatal(err)
	}

	// A zip whose entry climbs out fails its import; nothing is written outside.
	evil := makeZip(t, [2]string{"../escaped.xml", smallOffers("sku-evil", "1")})
	if r := hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "file", "filename", "evil.zip"), cookie, evil, nil); string(r.body) != "success" {
		t.Fatalf("upload evil.zip: %q", r.body)
	}
	r, _ := hs.importUntilDone(t, "catalog", cookie, "evil.zip")
	if r.first() != "failure" || !strings.Contains(string(r.body), "unsafe") {
		t.Fatalf("import evil.zip: %q", r.body)
	}
	if _, err := os.Stat(outside); err == nil {
		t.Fatalf("a file escaped to %s", outside)
	}
}

// Case 39: import of a file answers progress (first line exactly "progress") until the
// events are published, then success.
func TestCase39_ImportProgressThenSuccess(t *testing.T) {
	sink := &recorder{gate: make(chan struct{})}
	hs := newHarness(t, nil, nil, sink)
	cookie, _ := hs.checkauth(t, "catalog")
	if r := hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "file", "filename", "rests.xml"), cookie, []byte(smallOffers("sku-1", "5")), nil); string(r.body) != "success" {
		t.Fatalf("file: %q", r.body)
	}
	q := params("type", "catalog", "mode", "import", "filename", "rests.xml")
	for i := range 3 {
		r := hs.do(t, "/1c/exchange", q, cookie, nil, nil)
		if lines := r.lines(); lines[0] != "progress" || len(lines) != 2 || lines[1] == "" {
			t.Fatalf("request %d while the sink is blocked: %q", i, r.body)
		}
	}
	// Another file waits for the running one.
	if r := hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "complete"), cookie, nil, nil); r.first() != "progress" {
		t.Fatalf("complete during import: %q", r.body)
	}
	close(sink.gate)
	r, n := hs.importUntilDone(t, "catalog", cookie, "rests.xml")
	if string(r.body) != "success" || n < 1 {
		t.Fatalf("import: %q after %d requests", r.body, n)
	}
	// Asked again, the answer stays success.
	if r := hs.do(t, "/1c/exchange", q, cookie, nil, nil); string(r.body) != "success" {
		t.Fatalf("repeated: %q", r.body)
	}
	if r := hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "import", "filename", "nothing.xml"), cookie, nil, nil); r.first() != "failure" {
		t.Fatalf("import of a file never uploaded: %q", r.body)
	}
	// A broken file fails with a reason.
	if r := hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "file", "filename", "bad.xml"), cookie, []byte("<?xml version=\"1.0\"?><a>"), nil); string(r.body) != "success" {
		t.Fatalf("file: %q", r.body)
	}
	if r, _ := hs.importUntilDone(t, "catalog", cookie, "bad.xml"); r.first() != "failure" || len(r.lines()) != 2 || strings.Contains(string(r.body), hs.workDir) {
		t.Fatalf("bad.xml: %q", r.body)
	}
}

// Case 40: replies are UTF-8 by default and windows-1251 for accounts of old 1C versions.
func TestCase40_Windows1251Replies(t *testing.T) {
	for _, cp1251 := range []bool{false, true} {
		hs := newHarness(t, func(c *Config) { c.Accounts[0].Windows1251 = cp1251; c.Windows1251 = cp1251 }, nil, nil)
		cookie, _ := hs.checkauth(t, "catalog")
		r := hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "import", "filename", "offers.xml"), cookie, nil, nil)
		const want = "failure\nфайл offers.xml не загружен (mode=file)"
		body, charset := string(r.body), "utf-8"
		if cp1251 {
			decoded, err := charmap.Windows1251.NewDecoder().Bytes(r.body)
			if err != nil {
				t.Fatal(err)
			}
			body, charset = string(decoded), "windows-1251"
			if bytes.Contains(r.body, []byte("файл")) {
				t.Errorf("windows-1251 reply carries UTF-8 bytes")
			}
		}
		if body != want || r.header.Get("Content-Type") != "text/plain; charset="+charset {
			t.Errorf("cp1251=%v: %q (%s), want %q", cp1251, body, r.header.Get("Content-Type"), want)
		}
		// Before an account is known (wrong password) the handler-wide flag applies.
		r = hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "checkauth"), "", nil, map[string]string{"Authorization": basic(testLogin, "x")})
		if r.header.Get("Content-Type") != "text/plain; charset="+charset {
			t.Errorf("cp1251=%v: failed checkauth content type %q", cp1251, r.header.Get("Content-Type"))
		}
	}
}

func TestSessionExpiryRemovesDirectory(t *testing.T) {
	hs := newHarness(t, func(c *Config) { c.SessionIdleTimeout = time.Minute; c.SweepInterval = time.Hour }, nil, nil)
	cookie, _ := hs.checkauth(t, "catalog")
	if r := hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "file", "filename", "import_files/a/b.jpg"), cookie, []byte("jpeg"), nil); string(r.body) != "success" {
		t.Fatalf("file: %q", r.body)
	}
	dirs := hs.sessionDirs(t)
	if len(dirs) != 1 {
		t.Fatalf("dirs %v", dirs)
	}
	hs.clock.Advance(59 * time.Second)
	if n := hs.h.Sweep(hs.clock.Now()); n != 0 {
		t.Fatalf("swept %d before the idle timeout", n)
	}
	hs.clock.Advance(2 * time.Second)
	if n := hs.h.Sweep(hs.clock.Now()); n != 1 {
		t.Fatalf("swept %d", n)
	}
	if _, err := os.Stat(dirs[0]); !os.IsNotExist(err) {
		t.Fatalf("session directory still there: %v", err)
	}
	if r := hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "init"), cookie, nil, nil); r.first() != "failure" {
		t.Fatalf("expired session: %q", r.body)
	}
	// An expired session found by a request (before any sweep) is closed too.
	cookie, _ = hs.checkauth(t, "catalog")
	hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "file", "filename", "x.jpg"), cookie, []byte("x"), nil)
	hs.clock.Advance(2 * time.Minute)
	if r := hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "init"), cookie, nil, nil); r.first() != "failure" {
		t.Fatalf("expired session: %q", r.body)
	}
	if dirs := hs.sessionDirs(t); len(dirs) != 0 || hs.h.Sessions() != 0 {
		t.Fatalf("after expiry: dirs %v, sessions %d", dirs, hs.h.Sessions())
	}
}

// An expired session whose import is running is cancelled; its directory goes when
// the import stops.
func TestExpiryDuringImport(t *testing.T) {
	sink := &recorder{gate: make(chan struct{})}
	hs := newHarness(t, func(c *Config) { c.SessionIdleTimeout = time.Minute }, nil, sink)
	cookie, _ := hs.checkauth(t, "catalog")
	hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "file", "filename", "offers.xml"), cookie, []byte(smallOffers("a", "1")), nil)
	if r := hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "import", "filename", "offers.xml"), cookie, nil, nil); r.first() != "progress" {
		t.Fatalf("import: %q", r.body)
	}
	hs.clock.Advance(2 * time.Minute)
	if n := hs.h.Sweep(hs.clock.Now()); n != 1 {
		t.Fatalf("swept %d", n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(hs.sessionDirs(t)) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("directory of a cancelled import not removed: %v", hs.sessionDirs(t))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(sink.events(t)) != 0 {
		t.Fatal("a cancelled import published")
	}
}

func TestSessionLimits(t *testing.T) {
	hs := newHarness(t, func(c *Config) {
		c.MaxSessions = 2
		c.MaxSessionBytes = 4096
		c.FileLimitBytes = 4096
		c.MaxFilesPerSession = 2
	}, nil, nil)
	cookie, _ := hs.checkauth(t, "catalog")
	for i, tc := range []struct {
		name string
		size int
		want string
	}{
		{"a.jpg", 3000, "success"},
		{"b.jpg", 1000, "success"},
		{"b.jpg", 97, "failure"}, // 4097 bytes in the session
		{"c.jpg", 1, "failure"},  // a third file
	} {
		r := hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "file", "filename", tc.name), cookie, bytes.Repeat([]byte{byte(i)}, tc.size), nil)
		if r.first() != tc.want {
			t.Errorf("%d %s: %q, want %s", i, tc.name, r.body, tc.want)
		}
	}
	// Sessions are bounded: the least recently used idle one makes room.
	hs.clock.Advance(time.Second)
	hs.checkauth(t, "catalog")
	hs.clock.Advance(time.Second)
	hs.checkauth(t, "sale")
	if n := hs.h.Sessions(); n != 2 {
		t.Fatalf("sessions: %d", n)
	}
	if r := hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "init"), cookie, nil, nil); r.first() != "failure" {
		t.Fatalf("evicted session: %q", r.body)
	}
}

// TestTotalBytesAcrossSessions: the sessions' directories together hold at
// most MaxTotalBytes; a session that ends gives its room back, and so do
// an init that starts over and a re-uploaded file.
func TestTotalBytesAcrossSessions(t *testing.T) {
	hs := newHarness(t, func(c *Config) {
		c.FileLimitBytes, c.MaxSessionBytes, c.MaxTotalBytes = 4096, 4096, 6000
	}, nil, nil)
	upload := func(cookie, name string, size int) string {
		r := hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "file", "filename", name), cookie, bytes.Repeat([]byte{'x'}, size), nil)
		return string(r.body)
	}
	a, _ := hs.checkauth(t, "catalog")
	b, _ := hs.checkauth(t, "catalog")
	if r := upload(a, "a.jpg", 4000); r != "success" {
		t.Fatalf("a: %q", r)
	}
	if r := upload(b, "b.jpg", 2000); r != "success" {
		t.Fatalf("b: %q", r)
	}
	if r := upload(b, "c.jpg", 1); !strings.HasPrefix(r, "failure") || !strings.Contains(r, "MaxTotalBytes") {
		t.Fatalf("past MaxTotalBytes: %q, want failure naming MaxTotalBytes", r)
	}
	if got := hs.h.uploaded.Load(); got != 6000 {
		t.Fatalf("counted %d bytes, want 6000", got)
	}
	if r := hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "init"), a, nil, nil); r.first() != "zip=yes" {
		t.Fatalf("init a: %q", r.body) // starts over: a's 4000 bytes are given back
	}
	if r := upload(b, "c.jpg", 1000); r != "success" {
		t.Fatalf("after a's init: %q", r)
	}
	if r := hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "complete"), b, nil, nil); r.first() != "success" {
		t.Fatalf("complete b: %q", r.body)
	}
	if got := hs.h.uploaded.Load(); got != 0 {
		t.Fatalf("after every session gave its files back: %d bytes counted", got)
	}
}

// Full snapshot across files of one exchange; the missing report happens at deactivate.
func TestDeactivateReportsMissing(t *testing.T) {
	hs := newHarness(t, func(c *Config) { c.Accounts[0].Events.ZeroMissing = true }, nil, nil)
	ctx := context.Background()
	if err := hs.store.Remember(ctx, "ut11-test", "cat", []cmlevents.KnownOffer{{SKU: "gone", Warehouses: []string{"wh"}}}); err != nil {
		t.Fatal(err)
	}
	cookie, _ := hs.checkauth(t, "catalog")
	doc := strings.Replace(smallOffers("kept", "2"), `"true"`, `"false"`, 1)
	hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "file", "filename", "offers.xml"), cookie, []byte(doc), nil)
	if r, _ := hs.importUntilDone(t, "catalog", cookie, "offers.xml"); string(r.body) != "success" {
		t.Fatalf("import: %q", r.body)
	}
	if n := len(hs.sink.events(t)); n != 1 {
		t.Fatalf("%d events before deactivate", n)
	}
	if r := hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "deactivate"), cookie, nil, nil); string(r.body) != "success" {
		t.Fatalf("deactivate: %q", r.body)
	}
	evs := hs.sink.events(t)
	if len(evs) != 2 || evs[1].SKU != "gone" || evs[1].Qty != 0 || evs[1].Warehouse != "wh" {
		t.Fatalf("events: %+v", evs)
	}
	if r := hs.do(t, "/1c/exchange", params("type", "catalog", "mode", "complete"), cookie, nil, nil); string(r.body) != "success" {
		t.Fatalf("complete: %q", r.body)
	}
	if len(hs.sink.events(t)) != 2 {
		t.Fatal("complete after deactivate published again")
	}
}

// ordersFake is an OrderSource with fixed orders that records what was exported.
type ordersFake struct {
	orders   []commerceml.Order
	exported []string
}

func (o *ordersFake) Orders(context.Context, string, int) ([]commerceml.Order, error) {
	return o.orders, nil
}

func (o *ordersFake) Exported(_ context.Context, _ string, ids []string) error {
	o.exported = append(o.exported, ids...)
	return nil
}

func TestCase41_SaleQueryAndSuccess(t *testing.T) {
	one, _ := commerceml.ParseDecimal("1")
	price, _ := commerceml.ParseDecimal("150.00")
	src := &ordersFake{orders: []commerceml.Order{{ID: "ord-1", Number: "1", Date: "2026-11-21", Currency: "RUB",
		Lines: []commerceml.OrderLine{{ProductID: "sku-1", Name: "Чайник", Qty: one, Price: price, Sum: price}}}}}
	hs := newHarness(t, func(c *Config) { c.Accounts[0].OrdersContainer = true }, src, nil)
	cookie, _ := hs.checkauth(t, "sale")
	hs.do(t, "/1c/exchange", params("type", "sale", "mode", "init"), cookie, nil, nil)
	r := hs.do(t, "/1c/exchange", params("type", "sale", "mode", "query"), cookie, nil, nil)
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/xml") {
		t.Fatalf("query content type %q", r.header.Get("Content-Type"))
	}
	var got []commerceml.Order
	reader, _ := commerceml.NewReader(commerceml.DefaultLimits())
	if _, err := reader.Read(context.Background(), "query.xml", bytes.NewReader(r.body), commerceml.VisitorFuncs{
		OnOrder: func(_ context.Context, o commerceml.Order) error { got = append(got, o); return nil },
	}); err != nil {
		t.Fatalf("query reply: %v\n%s", err, r.body)
	}
	if len(got) != 1 || got[0].ID != "ord-1" || !bytes.Contains(r.body, []byte("<Контейнер>")) {
		t.Fatalf("orders: %+v", got)
	}
	if len(src.exported) != 0 {
		t.Fatal("exported before success")
	}
	if r := hs.do(t, "/1c/exchange", params("type", "sale", "mode", "success"), cookie, nil, nil); string(r.body) != "success" {
		t.Fatalf("success: %q", r.body)
	}
	if len(src.exported) != 1 || src.exported[0] != "ord-1" {
		t.Fatalf("exported %v", src.exported)
	}
	// Without an OrderSource the reply is an empty document.
	hs2 := newHarness(t, nil, nil, nil)
	cookie, _ = hs2.checkauth(t, "sale")
	r = hs2.do(t, "/1c/exchange", params("type", "sale", "mode", "query"), cookie, nil, nil)
	if !bytes.Contains(r.body, []byte("КоммерческаяИнформация")) || bytes.Contains(r.body, []byte("Документ")) {
		t.Fatalf("empty query: %q", r.body)
	}
}

func TestNewRemovesStaleSessionDirs(t *testing.T) {
	work := t.TempDir()
	stale := filepath.Join(work, sessionDirPrefix+"0123456789abcdef")
	if err := os.MkdirAll(filepath.Join(stale, "import_files"), 0o700); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(work, "other")
	if err := os.WriteFile(keep, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	h, err := New(Options{Config: testConfig(work), Sink: &recorder{}, Store: cmlevents.NewMemoryStore(0, 10)})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale session dir kept: %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("other file removed: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for name, mutate := range map[string]func(*Config){
		"no work dir":   func(c *Config) { c.WorkDir = "" },
		"no accounts":   func(c *Config) { c.Accounts = nil },
		"bad hash":      func(c *Config) { c.Accounts[0].PasswordHash = "plain" },
		"short hash":    func(c *Config) { c.Accounts[0].PasswordHash = "sha256:abcd" },
		"bad cookie":    func(c *Config) { c.CookieName = "a b" },
		"small limit":   func(c *Config) { c.FileLimitBytes = 10 },
		"dup login":     func(c *Config) { c.Accounts = append(c.Accounts, c.Accounts[0]) },
		"no source":     func(c *Config) { c.Accounts[0].Events.Source = "" },
		"session bytes": func(c *Config) { c.MaxSessionBytes = c.FileLimitBytes - 1 },
		"total bytes":   func(c *Config) { c.MaxTotalBytes = c.MaxSessionBytes - 1 },
	} {
		cfg := testConfig(t.TempDir())
		mutate(&cfg)
		if err := cfg.Validate(); err == nil {
			t.Errorf("%s: valid", name)
		}
	}
}

// zipEntryNames lists both the path and the base name of nested documents.
func TestZipEntryNames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.zip")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range []string{"import.xml", "sub/offers.xml", "import_files/a.jpg", "../bad.xml"} {
		if _, err := zw.Create(n); err != nil {
			t.Fatal(err)
		}
	}
	_ = zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	names, ok := zipEntryNames(path, 100)
	if got, want := strings.Join(names, ","), "import.xml,sub/offers.xml,offers.xml"; got != want || !ok {
		t.Fatalf("got %s (ok %v), want %s", got, ok, want)
	}
	if _, ok := zipEntryNames(path, 3); ok {
		t.Fatal("four entries listed under a limit of 3")
	}
	if err := os.WriteFile(path, buf.Bytes()[:buf.Len()/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if names, ok := zipEntryNames(path, 100); ok || names != nil {
		t.Fatalf("a truncated zip listed %v", names)
	}
}

// TestCorruptZipImportSaysWhy: a truncated zip's import of a document in it
// fails with the zip's error, not "not uploaded", however often 1C asks.
func TestCorruptZipImportSaysWhy(t *testing.T) {
	hs := newHarness(t, nil, nil, nil)
	cookie, _ := hs.checkauth(t, "catalog")
	archive := makeZip(t, [2]string{"offers.xml", smallOffers("sku-1", "5")})
	q := params("type", "catalog", "mode", "file", "filename", "v8_C3.zip")
	if r := hs.do(t, "/1c/exchange", q, cookie, archive[:len(archive)-10], nil); string(r.body) != "success" {
		t.Fatalf("upload: %q", r.body)
	}
	for range 2 {
		r, _ := hs.importUntilDone(t, "catalog", cookie, "offers.xml")
		if r.first() != "failure" || !strings.Contains(string(r.body), "zip") || strings.Contains(string(r.body), "не загружен") {
			t.Fatalf("import offers.xml from a truncated zip: %q, want the zip's error", r.body)
		}
	}
	if evs := hs.sink.events(t); len(evs) != 0 {
		t.Fatalf("events from a truncated zip: %+v", evs)
	}
}

// TestToWindows1251: Cyrillic and ASCII are encoded, a character
// windows-1251 lacks is '?' (not the control byte 0x1A).
func TestToWindows1251(t *testing.T) {
	got := toWindows1251("файл №1 😀 ok")
	want, err := charmap.Windows1251.NewEncoder().String("файл №1 ? ok")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want || bytes.IndexByte(got, 0x1A) >= 0 {
		t.Fatalf("got % x, want % x", got, want)
	}
}
