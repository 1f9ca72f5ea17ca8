package graph

// OpenTelemetry through its API only: a span per $batch round trip (graph.batch: items, RU
// charged, throttle scope) and per token acquisition (entra.token: from MSAL's cache or from
// Entra), and the counter tenantapps.token.requests {result: cache | issued | throttled | failed}.
// Tenant IDs go on spans only, never on metric attributes.

import (
	"context"
	"errors"
	"strconv"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/tenantapps/tenantapps/consent"
)

const instrumentationName = "github.com/tenantapps/tenantapps/consent/graph"

type telemetry struct {
	tracer trace.Tracer
	tokens metric.Int64Counter
}

func newTelemetry(tp trace.TracerProvider, mp metric.MeterProvider) telemetry {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	t := telemetry{tracer: tp.Tracer(instrumentationName)}
	t.tokens, _ = mp.Meter(instrumentationName).Int64Counter("tenantapps.token.requests",
		metric.WithDescription("Token acquisitions of the reading app, by result: cache (no request), issued, throttled, failed."))
	return t
}

// batchSpan starts the span of one $batch round trip.
func (d *Driver) batchSpan(ctx context.Context, op, tenant string, items int) (context.Context, trace.Span) {
	return d.tel.tracer.Start(ctx, "graph.batch", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("tenantapps.op", op), attribute.String("tenantapps.tenant.id", tenant), attribute.Int("graph.batch.items", items)))
}

// endBatchSpan records what one $batch round trip cost (RU) and, when an item or the batch was
// throttled, the throttle's scope; err is the batch's own failure.
func endBatchSpan(span trace.Span, ru int, err error) {
	span.SetAttributes(attribute.Int("graph.resource_units", ru))
	if th, ok := consent.ThrottleOf(err); ok && th.Scope != "" {
		span.SetAttributes(attribute.String("graph.throttle.scope", string(th.Scope)))
	}
	if err != nil && !errors.Is(err, consent.ErrThrottled) {
		span.SetStatus(codes.Error, "batch failed")
	}
	span.End()
}

// firstThrottle returns the first throttled step's error (nil when none was throttled), for
// endBatchSpan.
func firstThrottle(steps []*step) error {
	for _, s := range steps {
		if s.status == 429 {
			return s.err
		}
	}
	return nil
}

// itemRU reads an item's x-ms-resource-unit (0 when absent).
func itemRU(headers map[string]string) int {
	n, _ := strconv.Atoi(mapGetter(headers)(consent.HeaderResourceUnit))
	return max(n, 0)
}

// recordToken ends a token span and counts the acquisition.
func (d *Driver) recordToken(ctx context.Context, span trace.Span, fromCache bool, err error) {
	result := "issued"
	switch {
	case err != nil && errors.Is(err, consent.ErrThrottled):
		result = "throttled"
	case err != nil:
		result = "failed"
	case fromCache:
		result = "cache"
	}
	span.SetAttributes(attribute.String("entra.token.result", result))
	if err != nil {
		span.SetStatus(codes.Error, result)
	}
	span.End()
	d.tel.tokens.Add(ctx, 1, metric.WithAttributes(attribute.String("result", result)))
}
