// Package feeds turns ledger changes into what each sales channel is sent
// and sends it: the channel quantity and price per offer by the channel's
// policies, a coalescing dirty set per channel and method with
// priorities, one worker per (channel, method) that pushes batches
// through the marketplace client's rate limits, the last acknowledged
// value per key (package ackstore), the verdict of asynchronous price
// uploads (Wildberries), quarantine of refused values, of keys refused
// as retriable too often and of price jumps awaiting approval, a
// read-back reconcile, and the YML pull feed (package yml).
//
// A change marks a key dirty; the value is read again when a batch is
// built, so a 5 → 4 → 3 sequence sends one 3, and a key whose value is the
// acknowledged one is not sent at all. docs/FEEDS.md describes the flow.
//
//	chs, err := feeds.BuildChannels(cfgs, feeds.Deps{Secrets: env, ReadFile: os.ReadFile, Now: time.Now})
//	hub, err := feeds.New(ctx, feeds.Config{Channels: chs, Source: src, Acks: acks, Now: time.Now})
//	hub.OnChanges(changes, prices, time.Now()) // after the ledger's journal has them
//	defer hub.Close(ctx)
package feeds
