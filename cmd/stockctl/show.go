package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	"stockd/adapters/httpapi"
)

// getJSON fetches path into v; a non-200 reply becomes an error with the
// server's message.
func (c *client) getJSON(ctx context.Context, path string, v any) error {
	status, body, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		var e struct{ Error, Message string }
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s: %d %s: %s", path, status, e.Error, e.Message)
		}
		return fmt.Errorf("%s: %d %s", path, status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%s: reply is not what stockctl expects: %w", path, err)
	}
	return nil
}

// showSKU prints a SKU across warehouses and channels.
func (c *client) showSKU(ctx context.Context, out io.Writer, sku, channel string) error {
	path := "/v1/availability/" + url.PathEscape(sku)
	if channel != "" {
		path += "?channel=" + url.QueryEscape(channel)
	}
	var av httpapi.Availability
	if err := c.getJSON(ctx, path, &av); err != nil {
		return err
	}
	if !av.Known {
		fmt.Fprintf(out, "SKU %s is not known to stockd (no stock, item or price from 1C yet)\n", av.SKU)
	}
	fmt.Fprintf(out, "SKU %s", av.SKU)
	if av.Short {
		fmt.Fprint(out, "  SHORT: 1C reports less free stock than is held")
	}
	fmt.Fprintln(out)
	if len(av.Kit) > 0 {
		fmt.Fprint(out, "kit of:")
		for _, k := range av.Kit {
			fmt.Fprintf(out, " %d×%s", k.Qty, k.SKU)
		}
		fmt.Fprintln(out)
	}
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WAREHOUSE\tFREE\tHELD\tSAFETY\tAVAILABLE")
	for _, w := range av.Warehouses {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\n", w.Warehouse, w.Free, w.Held, w.Safety, w.Available)
	}
	fmt.Fprintln(tw, "\t\t\t\t")
	fmt.Fprintln(tw, "CHANNEL\tAVAILABLE\t\t\t")
	for _, ch := range av.Channels {
		fmt.Fprintf(tw, "%s\t%d\t\t\t\n", ch.Channel, ch.Available)
	}
	return tw.Flush()
}

// showHold prints one hold.
func (c *client) showHold(ctx context.Context, out io.Writer, id string) error {
	var h httpapi.HoldReply
	if err := c.getJSON(ctx, "/v1/reservations/"+url.PathEscape(id), &h); err != nil {
		return err
	}
	expires := "never"
	if h.ExpiresAt != nil {
		expires = h.ExpiresAt.Format(time.RFC3339)
	}
	fmt.Fprintf(out, "hold %s  channel %s  state %s", h.ID, h.Channel, h.State)
	if h.Forced {
		fmt.Fprint(out, "  (marketplace order recorded without stock)")
	}
	fmt.Fprintf(out, "\ncreated %s  expires %s\n", h.CreatedAt.Format(time.RFC3339), expires)
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LINE\tSKU\tQTY\tFROM\tHANDED OFF")
	for i, ln := range h.Lines {
		for _, a := range ln.Allocations {
			from := fmt.Sprintf("%d×%s@%s", a.Qty, a.SKU, a.Warehouse)
			fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%v\n", i+1, ln.SKU, ln.Qty, from, a.HandedOff)
		}
		if len(ln.Allocations) == 0 {
			fmt.Fprintf(tw, "%d\t%s\t%d\t-\t\n", i+1, ln.SKU, ln.Qty)
		}
	}
	return tw.Flush()
}

// showIngest prints the 1C ingest counters and recent seq gaps.
func (c *client) showIngest(ctx context.Context, out io.Writer) error {
	var st httpapi.IngestStatus
	if err := c.getJSON(ctx, "/v1/ingest", &st); err != nil {
		return err
	}
	fmt.Fprintf(out, "applied %d  stale %d  duplicate %d  rejected %d  dlq %d  redelivered %d  fractional %d  seq gaps %d\n",
		st.Applied, st.Stale, st.Duplicate, st.Rejected, st.DLQ, st.AlreadyApplied, st.Fractional, st.SeqGaps)
	for _, g := range st.RecentGaps {
		fmt.Fprintf(out, "gap  source %s  after seq %d  missing %d  at %s\n", g.Source, g.After, g.Missing, g.DetectedAt.Format(time.RFC3339))
	}
	return nil
}
