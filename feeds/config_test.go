package feeds

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type mapSecrets map[string]string

func (m mapSecrets) LookupEnv(k string) (string, bool) { v, ok := m[k]; return v, ok }
func (m mapSecrets) ReadFile(p string) ([]byte, error) { return os.ReadFile(p) }

func nowFunc() time.Time { return time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC) }

func TestParseChannels(t *testing.T) {
	y := `
- name: ozon
  kind: ozon
  account: {client_id: {env: OZ_ID}, api_key: {file: /run/secrets/ozon}}
  warehouses: [{id: "22142605386000", sources: [wh-msk]}]
  offers: {file: ozon.csv}
  stock: {percent: 90, buffer: 1}
  price: {price_type: retail, markup_bp: 1000, max_change_pct: 30}
- name: site
  kind: site
  yml: {enabled: true, shop: Shop}
`
	cfgs, err := ParseChannels([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfgs) != 2 || cfgs[0].Account.APIKey.File != "/run/secrets/ozon" || cfgs[0].Price.MarkupBP != 1000 {
		t.Fatalf("parsed %+v", cfgs)
	}
}

func TestConfigErrorsAreClear(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{`[{name: oz, kind: ozon, account: {client_id: "123", api_key: "secret"}}]`, "not written inline"},
		{`[{name: oz, kind: amazon}]`, `kind "amazon"`},
		{`[{name: oz, kind: ozon, account: {client_id: {env: A}, api_key: {env: B}}, offers: {file: a.csv}}]`, "at least one marketplace warehouse"},
		{`[{name: oz, kind: ozon, account: {client_id: {env: A}, api_key: {env: B}}, offers: {file: a.csv}, warehouses: [{id: x}]}]`, "not a positive integer"},
		{`[{name: wb, kind: wildberries, account: {token: {env: T}}, warehouses: [{id: "1"}]}]`, "offers.file is required"},
		{`[{name: ym, kind: yandexmarket, account: {api_key: {env: K}}, warehouses: [{}]}]`, "business_id"},
		{`[{name: s, kind: site}]`, "enable yml"},
		{`[{name: s, kind: site, yml: {enabled: true}, stock: {percent: 120}}]`, "percent 120"},
		{`[{name: s, kind: site, yml: {enabled: true}, colour: red}]`, "colour"},
	} {
		_, err := ParseChannels([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", tc.yaml, err, tc.want)
		}
	}
}

func TestSecretResolve(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key")
	if err := os.WriteFile(path, []byte("  k3y\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := mapSecrets{"A": "v", "EMPTY": ""}
	if v, err := (SecretRef{Env: "A"}).Resolve(src); err != nil || v != "v" {
		t.Fatalf("env: %q %v", v, err)
	}
	if v, err := (SecretRef{File: path}).Resolve(src); err != nil || v != "k3y" {
		t.Fatalf("file: %q %v", v, err)
	}
	for _, ref := range []SecretRef{{Env: "MISSING"}, {Env: "EMPTY"}, {}, {Env: "A", File: path}, {File: filepath.Join(dir, "none")}} {
		if _, err := ref.Resolve(src); !errors.Is(err, ErrSecret) {
			t.Errorf("%+v: %v, want ErrSecret", ref, err)
		}
	}
}
