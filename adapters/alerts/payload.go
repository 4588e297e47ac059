package alerts

import (
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Payload is the JSON body of one message: Alertmanager's webhook format
// (version 4) carrying one alert.
type Payload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"` // firing, resolved
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []PayloadAlert    `json:"alerts"`
}

// PayloadAlert is the alert of a Payload.
type PayloadAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"` // zero while firing
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

func (n *Notifier) payload(m message) Payload {
	labels := map[string]string{"alertname": m.alert.Name, "service": n.service}
	if m.alert.Severity != "" {
		labels["severity"] = m.alert.Severity
	}
	if m.alert.Key != "" {
		labels["key"] = m.alert.Key
	}
	for k, v := range m.alert.Labels {
		labels[k] = v
	}
	annotations := map[string]string{"summary": m.alert.Summary,
		"value": strconv.FormatFloat(m.alert.Value, 'g', -1, 64)}
	return Payload{
		Version:           "4",
		GroupKey:          groupKey(labels),
		Status:            m.status,
		Receiver:          n.service,
		GroupLabels:       map[string]string{"alertname": m.alert.Name},
		CommonLabels:      labels,
		CommonAnnotations: annotations,
		Alerts: []PayloadAlert{{Status: m.status, Labels: labels, Annotations: annotations,
			StartsAt: m.startsAt.UTC(), EndsAt: m.endsAt.UTC(), Fingerprint: fingerprint(labels)}},
	}
}

func sortedLabels(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteString(`="`)
		b.WriteString(labels[k])
		b.WriteByte('"')
	}
	return b.String()
}

func groupKey(labels map[string]string) string { return "{}:{" + sortedLabels(labels) + "}" }

// fingerprint identifies an alert by its labels, as Alertmanager's does.
func fingerprint(labels map[string]string) string {
	h := fnv.New64a()
	h.Write([]byte(sortedLabels(labels)))
	return strconv.FormatUint(h.Sum64(), 16)
}
