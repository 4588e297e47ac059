// Package alerts sends stockd's own alerts to a webhook, so a seller
// without Prometheus and Alertmanager still hears that a channel fell
// behind, the journal failed or 1C events went missing.
//
// The engine evaluates its conditions every Config.Interval and hands the
// alerts firing now to Update; the Notifier keeps one state per (name,
// key) and posts one "firing" message when an alert starts and one
// "resolved" message when it stops (again every MinRepeat while it keeps
// firing, if set). Messages wait in a bounded queue and are sent by Run at
// most MaxPerMinute a minute; Update never blocks, and a message that
// finds the queue full is dropped and counted.
//
//	n, err := alerts.New(cfg, alerts.Deps{Client: http.DefaultClient, Now: time.Now})
//	go n.Run(ctx)
//	n.Update([]alerts.Alert{{Name: "StockdSeqGaps", Key: "", Severity: "page", Summary: "1C events are missing"}})
//
// The body is Alertmanager's webhook format (version 4) with one alert,
// so receivers written for Alertmanager read it.
package alerts
