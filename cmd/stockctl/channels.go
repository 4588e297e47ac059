package main

import (
	"bytes"
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

const channelUsage = `usage:
  stockctl channels                                  every channel's lag, queues and quarantine
  stockctl channel NAME                              one channel and its quarantined offers
  stockctl channel NAME resync                       queue what differs from the acknowledged values
  stockctl channel NAME reconcile                    read stock back and resend what differs (background)
  stockctl channel NAME approve OFFER                send a price held for max_change_pct
  stockctl channel NAME release stock|price OFFER [WAREHOUSE]
                                                     send a quarantined key once more`

// showChannels prints every channel's propagation state.
func (c *client) showChannels(ctx context.Context, out io.Writer) error {
	var reply httpapi.ChannelsReply
	if err := c.getJSON(ctx, "/v1/channels", &reply); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANNEL\tKIND\tLAG\tSTOCK PENDING\tPRICE PENDING\tQUARANTINED\tAWAITING APPROVAL\tLAST ERROR")
	for _, s := range reply.Channels {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n", s.Channel, s.Kind, s.Freshness.Round(time.Millisecond),
			s.Stock.Pending+s.Stock.InFlight, s.Price.Pending+s.Price.InFlight+s.Price.AwaitingVerdict,
			s.Quarantined, s.AwaitingApproval, s.LastError)
	}
	return tw.Flush()
}

// showChannel prints one channel and its quarantined offers.
func (c *client) showChannel(ctx context.Context, out io.Writer, name string) error {
	var reply httpapi.ChannelReply
	if err := c.getJSON(ctx, "/v1/channels/"+url.PathEscape(name), &reply); err != nil {
		return err
	}
	s := reply.Stats
	fmt.Fprintf(out, "channel %s (%s)  lag %s\n", s.Channel, s.Kind, s.Freshness.Round(time.Millisecond))
	for _, m := range []struct {
		name string
		st   func() (pending, inFlight int, acked, rejected uint64, paused time.Time)
	}{
		{"stock", func() (int, int, uint64, uint64, time.Time) {
			return s.Stock.Pending, s.Stock.InFlight, s.Stock.Acked, s.Stock.Rejected, s.Stock.PausedUntil
		}},
		{"price", func() (int, int, uint64, uint64, time.Time) {
			return s.Price.Pending, s.Price.InFlight + s.Price.AwaitingVerdict, s.Price.Acked, s.Price.Rejected, s.Price.PausedUntil
		}},
	} {
		pending, inFlight, acked, rejected, paused := m.st()
		fmt.Fprintf(out, "%s: pending %d, in flight %d, acked %d, rejected %d", m.name, pending, inFlight, acked, rejected)
		if !paused.IsZero() {
			fmt.Fprintf(out, ", paused until %s", paused.Format(time.RFC3339))
		}
		fmt.Fprintln(out)
	}
	if s.LastError != "" {
		fmt.Fprintf(out, "last error %s: %s\n", s.LastErrorAt.Format(time.RFC3339), s.LastError)
	}
	if len(reply.Quarantined) == 0 {
		fmt.Fprintln(out, "nothing quarantined")
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "METHOD\tOFFER\tWAREHOUSE\tSKU\tVALUE\tCODE\tREASON")
	for _, q := range reply.Quarantined {
		value := fmt.Sprint(q.Qty)
		if q.Method == "price" {
			value = q.Price.String()
			if q.NeedsApproval {
				value += " (was " + q.Acked.String() + ", needs approval)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", q.Method, q.Offer, q.Warehouse, q.SKU, value, q.Code, q.Reason)
	}
	return tw.Flush()
}

// channelAction runs an admin action on a channel.
func (c *client) channelAction(ctx context.Context, out io.Writer, name string, args []string) error {
	base := "/v1/channels/" + url.PathEscape(name)
	var path string
	var body []byte
	switch {
	case len(args) == 1 && (args[0] == "resync" || args[0] == "reconcile"):
		path = base + ":" + args[0]
	case len(args) == 2 && args[0] == "approve":
		path = base + "/prices/" + url.PathEscape(args[1]) + ":approve"
	case (len(args) == 3 || len(args) == 4) && args[0] == "release":
		rb := httpapi.ReleaseBody{Method: args[1], Offer: args[2]}
		if len(args) == 4 {
			rb.Warehouse = args[3]
		}
		path = base + "/quarantine:release"
		body, _ = json.Marshal(rb)
	default:
		return fmt.Errorf("%s", channelUsage)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	status, reply, err := c.do(ctx, http.MethodPost, path, rd)
	if err != nil {
		return err
	}
	if status != http.StatusOK && status != http.StatusAccepted {
		var e struct{ Error, Message string }
		if json.Unmarshal(reply, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s: %d %s: %s", path, status, e.Error, e.Message)
		}
		return fmt.Errorf("%s: %d %s", path, status, reply)
	}
	var r httpapi.ChannelActionReply
	if err := json.Unmarshal(reply, &r); err != nil {
		return fmt.Errorf("%s: reply is not what stockctl expects: %w", path, err)
	}
	switch r.Action {
	case "resync":
		fmt.Fprintf(out, "channel %s: %d keys differ from what the marketplace acknowledged; queued to send\n", r.Channel, r.Marked)
	case "reconcile":
		fmt.Fprintf(out, "channel %s: reconcile started; see stockctl channel %s\n", r.Channel, r.Channel)
	case "approve":
		fmt.Fprintf(out, "channel %s: price of %s approved; queued to send\n", r.Channel, r.Offer)
	default:
		fmt.Fprintf(out, "channel %s: %s %s %s released; queued to send\n", r.Channel, r.Method, r.Offer, r.Warehouse)
	}
	return nil
}
