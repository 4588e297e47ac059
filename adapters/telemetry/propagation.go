package telemetry

import (
	"context"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/valyala/fasthttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// The W3C trace-context header names.
const (
	HeaderTraceparent = "traceparent"
	HeaderTracestate  = "tracestate"
)

// KafkaHeaders carries trace context in a kafka-go message's headers. Set
// replaces a header of the same key, so re-injecting never duplicates one.
type KafkaHeaders struct{ Headers *[]kafkago.Header }

var _ propagation.TextMapCarrier = KafkaHeaders{}

// Get returns the first value of key, or "".
func (c KafkaHeaders) Get(key string) string {
	for _, h := range *c.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// Set replaces or appends key.
func (c KafkaHeaders) Set(key, value string) {
	hs := *c.Headers
	for i := range hs {
		if hs[i].Key == key {
			hs[i].Value = []byte(value)
			return
		}
	}
	*c.Headers = append(hs, kafkago.Header{Key: key, Value: []byte(value)})
}

// Keys lists the header keys.
func (c KafkaHeaders) Keys() []string {
	keys := make([]string, len(*c.Headers))
	for i, h := range *c.Headers {
		keys[i] = h.Key
	}
	return keys
}

// InjectKafka returns headers with the traceparent (and tracestate) of the
// span in ctx set; headers is returned unchanged when ctx carries no valid
// span context. Call it on produce:
//
//	msg.Headers = telemetry.InjectKafka(ctx, msg.Headers)
func InjectKafka(ctx context.Context, headers []kafkago.Header) []kafkago.Header {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return headers
	}
	propagation.TraceContext{}.Inject(ctx, KafkaHeaders{&headers})
	return headers
}

// ExtractKafka returns ctx with the remote span context of the message's
// traceparent, ready to be the parent of the consumer's span; ctx itself
// when the message has none or an invalid one.
func ExtractKafka(ctx context.Context, headers []kafkago.Header) context.Context {
	if !hasTraceparent(headers) {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, KafkaHeaders{&headers})
}

// KafkaLink returns a link to the message's trace, for a span that carries
// many messages (an applied batch, a push batch), and false when the
// message has no valid traceparent.
func KafkaLink(headers []kafkago.Header) (trace.Link, bool) {
	if !hasTraceparent(headers) {
		return trace.Link{}, false
	}
	sc := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), KafkaHeaders{&headers}))
	if !sc.IsValid() {
		return trace.Link{}, false
	}
	return trace.Link{SpanContext: sc}, true
}

func hasTraceparent(headers []kafkago.Header) bool {
	for _, h := range headers {
		if h.Key == HeaderTraceparent {
			return true
		}
	}
	return false
}

// FastHTTPHeaders carries trace context in a fasthttp request's headers:
// extract from an incoming request, inject into an outgoing one.
type FastHTTPHeaders struct{ Header *fasthttp.RequestHeader }

var _ propagation.TextMapCarrier = FastHTTPHeaders{}

// Get returns the value of key, or "".
func (c FastHTTPHeaders) Get(key string) string { return string(c.Header.Peek(key)) }

// Set replaces key.
func (c FastHTTPHeaders) Set(key, value string) { c.Header.Set(key, value) }

// Keys lists the header keys.
func (c FastHTTPHeaders) Keys() []string {
	var keys []string
	for k := range c.Header.All() {
		keys = append(keys, string(k))
	}
	return keys
}

// ExtractFastHTTP returns ctx with the remote span context of an incoming
// request's traceparent (a checkout's or 1C's trace), or ctx itself.
func ExtractFastHTTP(ctx context.Context, h *fasthttp.RequestHeader) context.Context {
	if len(h.Peek(HeaderTraceparent)) == 0 {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, FastHTTPHeaders{h})
}
