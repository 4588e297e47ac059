package feeds

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// MaxPushSpanLinks bounds the links of one push batch's span (the
// tracer's own link limit is the same).
const MaxPushSpanLinks = 128

var pushSpanKind = trace.WithSpanKind(trace.SpanKindClient)

// pushTraced is push inside a "<channel> push <method>" client span: a
// root span with a link to each traced change the batch carries (the
// latest per key, at most MaxPushSpanLinks). Without a tracer it is push.
func (st *chanState) pushTraced(ctx context.Context, m Method, items []item) error {
	tracer := st.h.cfg.Tracer
	if tracer == nil {
		return st.push(ctx, m, items)
	}
	links, dropped := pushLinks(items)
	ctx, span := tracer.Start(ctx, st.name+" push "+m.String(), pushSpanKind, trace.WithNewRoot(), trace.WithLinks(links...))
	err := st.push(ctx, m, items)
	if span.IsRecording() {
		result := "ok"
		if err != nil {
			result = "error"
			span.SetStatus(codes.Error, err.Error())
		}
		span.SetAttributes(attribute.String("stockd.channel", st.name), attribute.String("stockd.channel.kind", string(st.ch.Config.Kind)),
			attribute.String("stockd.push.method", m.String()), attribute.Int("stockd.push.items", len(items)),
			attribute.String("stockd.push.result", result))
		if dropped > 0 {
			span.SetAttributes(attribute.Int("stockd.links.dropped", dropped))
		}
	}
	span.End()
	return err
}

// pushLinks are the distinct span contexts of the items' changes, at
// most MaxPushSpanLinks; dropped counts those left out.
func pushLinks(items []item) (links []trace.Link, dropped int) {
	var seen map[trace.SpanID]bool
	for i := range items {
		for _, sc := range items[i].pd.Links {
			if seen[sc.SpanID()] {
				continue
			}
			if seen == nil {
				seen = make(map[trace.SpanID]bool)
			}
			seen[sc.SpanID()] = true
			if len(links) == MaxPushSpanLinks {
				dropped++
				continue
			}
			links = append(links, trace.Link{SpanContext: sc})
		}
	}
	return links, dropped
}
