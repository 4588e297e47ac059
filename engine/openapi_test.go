package engine

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"stockd/adapters/httpapi"
	"stockd/adapters/marketsim"
	"stockd/adapters/onec/exchange"
	"stockd/adapters/testsvc"
	"stockd/adapters/yandexmarket/ymsim"
	"stockd/feeds"
)

// specOp is the part of an operation the contract test reads.
type specOp struct {
	RequestBody struct {
		Content map[string]struct {
			Example any `yaml:"example"`
		} `yaml:"content"`
	} `yaml:"requestBody"`
	Responses map[string]any `yaml:"responses"`
}

// spec maps a path template to its operations by lower-case method.
type spec struct {
	Paths map[string]map[string]specOp
}

func loadSpec(tb testing.TB) spec {
	tb.Helper()
	data, err := os.ReadFile("../docs/openapi.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	var raw struct {
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		tb.Fatalf("docs/openapi.yaml: %v", err)
	}
	s := spec{Paths: map[string]map[string]specOp{}}
	for path, items := range raw.Paths {
		s.Paths[path] = map[string]specOp{}
		for key, node := range items {
			switch key {
			case "get", "post", "put", "delete", "patch":
				var op specOp
				if err := node.Decode(&op); err != nil {
					tb.Fatalf("docs/openapi.yaml %s %s: %v", key, path, err)
				}
				s.Paths[path][key] = op
			}
		}
	}
	return s
}

// route finds the spec path template a request path matches; of several
// ("/v1/channels/{channel}" and "/v1/channels/{channel}:resync") the
// longest.
func (s spec) route(path string) (string, bool) {
	best := ""
	for tmpl := range s.Paths {
		re := "^" + regexp.MustCompile(`\\\{[a-z]+\\\}`).ReplaceAllString(regexp.QuoteMeta(tmpl), `[^/]+`) + "$"
		if regexp.MustCompile(re).MatchString(path) && len(tmpl) > len(best) {
			best = tmpl
		}
	}
	return best, best != ""
}

// TestOpenAPIDescribesTheServer drives every route through its success and
// error paths and checks that each (route, method, status) the server
// answers is in docs/openapi.yaml, that every documented operation was
// exercised, and that the spec's example requests succeed.
func TestOpenAPIDescribesTheServer(t *testing.T) {
	s := loadSpec(t)
	topics := uniqueTopics(t)
	cfg := testConfig(t.TempDir())
	cfg.Kafka = topics
	cfg.Kafka.Brokers = testsvc.Kfake(t, 2, topics.EventsTopic, topics.DLQTopic)
	cfg.HTTP.APIKeys = append(cfg.HTTP.APIKeys, httpapi.APIKey{Name: "admin", SHA256: httpapi.HashToken("admin-key"),
		Scopes: []httpapi.Scope{httpapi.ScopeAdmin}})
	cfg.Channels = append(cfg.Channels, ChannelConfig{Name: "ym", Kind: ChannelYandexMarket, Warehouses: []string{"wh-msk"}})
	cfg.Feeds = []feeds.ChannelConfig{{Name: "ym", Kind: feeds.KindYandexMarket, Warehouses: []feeds.TargetConfig{{}},
		Stock: feeds.DefaultStockPolicy(), YML: feeds.YMLConfig{Enabled: true, Shop: "demo", Company: "demo", URL: "http://127.0.0.1"},
		Account: feeds.AccountConfig{APIKey: feeds.SecretRef{Env: "YM_KEY"}, BusinessID: 10, CampaignID: 20, StockMethod: "campaign"}}}
	cfg.OneC.Exchange.Accounts = []exchange.Account{{Login: "1c", PasswordHash: exchange.HashPasswordSHA256("secret")}}
	cfg.OneC.Exchange.WorkDir = t.TempDir()
	cfg.OneC.Exchange.FileLimitBytes = 32 << 10
	cfg.HTTP.Limits.MaxBodyBytes = 64 << 10
	simCfg := ymsim.DefaultConfig("ACMA:key", 10, 20)
	simCfg.AutoCreateOffers = true
	te := startEngine(t, cfg, Deps{Secrets: mapSecrets{"YM_KEY": "ACMA:key"},
		MarketTransport: marketsim.HandlerTransport{Handler: ymsim.New(simCfg)}})
	setStock(t, te.eng, "sku-1", "wh-msk", 50, 1)
	setStock(t, te.eng, "sku-2", "wh-msk", 50, 2)

	seen := map[string]bool{}
	exercised := map[string]bool{}
	check := func(method, path, key, body string) reply {
		t.Helper()
		r := call(t, method, te.base+path, key, body)
		tmpl, ok := s.route(strings.SplitN(path, "?", 2)[0])
		if !ok {
			t.Errorf("%s %s: no path in the spec matches", method, path)
			return r
		}
		op, ok := s.Paths[tmpl][strings.ToLower(method)]
		if !ok && r.status != 405 {
			t.Errorf("%s %s answered %d but the spec has no %s on %s", method, path, r.status, method, tmpl)
			return r
		}
		if _, ok := op.Responses[fmt.Sprint(r.status)]; !ok && r.status != 405 {
			t.Errorf("%s %s answered %d (%v), not documented for %s %s", method, path, r.status, r.body["error"], method, tmpl)
		}
		seen[fmt.Sprintf("%s %s %d", method, tmpl, r.status)] = true
		exercised[strings.ToLower(method)+" "+tmpl] = true
		return r
	}

	// The spec's own examples first: each must succeed.
	paths := make([]string, 0, len(s.Paths))
	for p := range s.Paths {
		paths = append(paths, p)
	}
	sort.Slice(paths, func(i, j int) bool { return len(paths[i]) < len(paths[j]) }) // create before confirm
	for _, tmpl := range paths {
		for method, op := range s.Paths[tmpl] {
			ex, ok := op.RequestBody.Content["application/json"]
			if !ok || ex.Example == nil {
				continue
			}
			body, _ := json.Marshal(ex.Example)
			path := strings.NewReplacer("{id}", "order-1001", "{sku}", "sku-1").Replace(tmpl)
			r := check(strings.ToUpper(method), path, "admin-key", string(body))
			if r.status < 200 || r.status > 299 {
				t.Errorf("spec example %s %s answered %d %v", method, tmpl, r.status, r.body)
			}
		}
	}

	hold := `{"id":"h1","channel":"site","lines":[{"sku":"sku-1","qty":1}]}`
	for _, c := range []struct{ method, path, key, body string }{
		{"GET", "/healthz", "", ""}, {"GET", "/readyz", "", ""}, {"POST", "/healthz", "", ""},
		{"POST", "/v1/reservations", testKey, hold}, {"POST", "/v1/reservations", testKey, hold},
		{"POST", "/v1/reservations", testKey, strings.Replace(hold, `"qty":1`, `"qty":2`, 1)},
		{"POST", "/v1/reservations", testKey, `{"id":"h2","channel":"site","lines":[{"sku":"sku-1","qty":1000}]}`},
		{"POST", "/v1/reservations", testKey, `{"id":`},
		{"POST", "/v1/reservations", "", hold}, {"POST", "/v1/reservations", testReadKey, hold},
		{"GET", "/v1/reservations", testKey, ""},
		{"GET", "/v1/reservations/h1", testKey, ""}, {"GET", "/v1/reservations/none", testKey, ""},
		{"GET", "/v1/reservations/h1", "", ""}, {"GET", "/v1/reservations/h1", "events-only", ""},
		{"POST", "/v1/reservations/h1/confirm", testKey, `{"ttl_seconds":60}`},
		{"POST", "/v1/reservations/h1/confirm", testKey, `{"ttl_seconds":"x"}`},
		{"POST", "/v1/reservations/none/confirm", testKey, ""},
		{"POST", "/v1/reservations/h1/release", testKey, ""}, {"POST", "/v1/reservations/h1/release", testKey, ""},
		{"POST", "/v1/reservations/h1/confirm", testKey, ""},
		{"POST", "/v1/reservations/none/release", testKey, ""},
		{"GET", "/v1/availability/sku-1?channel=site", testReadKey, ""},
		{"GET", "/v1/availability/sku-1?channel=nope", testReadKey, ""},
		{"GET", "/v1/availability/sku%231", "", ""},
		{"POST", "/v1/availability:batch", testReadKey, `{"skus":["sku-1","sku-2"]}`},
		{"POST", "/v1/availability:batch", testReadKey, `{"skus":[]}`},
		{"POST", "/v1/availability:batch", testReadKey, `{"skus":`},
		{"POST", "/v1/events", "admin-key", `[{"v":2}]`}, {"POST", "/v1/events", testKey, `[]`},
		{"POST", "/v1/events", "admin-key", `[`},
		{"GET", "/v1/ingest", testReadKey, ""}, {"GET", "/v1/ingest", "", ""},
		{"GET", "/v1/channels", testReadKey, ""}, {"GET", "/v1/channels", "", ""}, {"POST", "/v1/channels", testReadKey, ""},
		{"GET", "/v1/channels/ym", testReadKey, ""}, {"GET", "/v1/channels/nope", testReadKey, ""},
		{"GET", "/v1/channels/ym", "events-only", ""},
		{"POST", "/v1/channels/ym:resync", "admin-key", ""}, {"POST", "/v1/channels/ym:resync", testReadKey, ""},
		{"POST", "/v1/channels/ym:resync", "", ""}, {"POST", "/v1/channels/nope:resync", "admin-key", ""},
		{"GET", "/v1/channels/ym:resync", "admin-key", ""},
		{"POST", "/v1/channels/ym:reconcile", "admin-key", ""}, {"POST", "/v1/channels/nope:reconcile", "admin-key", ""},
		{"POST", "/v1/channels/ym:reconcile", testReadKey, ""},
		{"POST", "/v1/channels/ym/prices/sku-1:approve", "admin-key", ""},
		{"POST", "/v1/channels/ym/prices/sku-1:approve", testReadKey, ""},
		{"POST", "/v1/channels/ym/quarantine:release", "admin-key", `{"method":"stock","offer":"sku-1","warehouse":""}`},
		{"POST", "/v1/channels/ym/quarantine:release", "admin-key", `{"method":"stocks","offer":"sku-1"}`},
		{"POST", "/v1/channels/ym/quarantine:release", "admin-key", `{"method":`},
		{"POST", "/v1/channels/nope/quarantine:release", "admin-key", `{"method":"price","offer":"sku-1"}`},
		{"GET", "/feeds/ym.yml", "", ""}, {"GET", "/feeds/nope.yml", "", ""}, {"POST", "/feeds/ym.yml", "", ""},
		{"GET", "/1c/exchange?type=catalog&mode=checkauth", "", ""},
		{"POST", "/1c/exchange?type=catalog&mode=init", "", ""},
		{"GET", "/bitrix/admin/1c_exchange.php?type=catalog&mode=checkauth", "", ""},
		{"POST", "/bitrix/admin/1c_exchange.php?type=catalog&mode=init", "", ""},
	} {
		check(c.method, c.path, c.key, c.body)
	}
	// A body over the limit, announced by Content-Length: 413 before it is read.
	if got := rawStatus(t, te.eng.HTTPAddr(), "POST /v1/reservations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+testKey+
		"\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n"); got != 413 {
		t.Errorf("oversized body: status %d, want 413", got)
	} else if _, ok := s.Paths["/v1/reservations"]["post"].Responses["413"]; !ok {
		t.Error("413 is not documented for POST /v1/reservations")
	}
	if r := call(t, "GET", te.base+"/feeds/ym.yml", "", ""); r.status != 200 {
		t.Fatalf("feed = %d", r.status)
	}
	for tmpl, ops := range s.Paths {
		for method := range ops {
			if !exercised[method+" "+tmpl] {
				t.Errorf("the spec documents %s %s but the test never called it", method, tmpl)
			}
		}
	}
	if r := call(t, "GET", te.base+"/v1/nothing", testKey, ""); r.status != 404 {
		t.Errorf("unknown route answered %d, want 404", r.status)
	}
	t.Logf("%d distinct (method, route, status) checked against the spec", len(seen))
}

// rawStatus sends a raw request and returns the reply's status code.
func rawStatus(tb testing.TB, addr, req string) int {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte(req)); err != nil {
		tb.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		tb.Fatalf("read reply: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
