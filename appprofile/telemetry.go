package appprofile

// OpenTelemetry, through its API only (the embedder installs an SDK): spans for fleet sweeps and
// each tenant's verification (the Graph driver adds $batch and token spans below them), and
// metrics. Tenant IDs go on spans only, never on metric attributes (unbounded cardinality).
//
// Metrics (instrumentation scope github.com/tenantapps/tenantapps/appprofile):
//
//	tenantapps.verifications          counter   {outcome, status}  profiles verified
//	tenantapps.profiles               gauge     {status}           profiles by status at the end of a VerifyAll
//	tenantapps.verification.age       histogram s                  age of the previous check when a profile is verified again
//	tenantapps.graph.throttles        counter   {scope}            429s seen (Application, Tenant, Tenant_Application, unknown)
//	tenantapps.graph.resource_units   counter                      RU Graph charged (x-ms-resource-unit)
//	tenantapps.budget.wait            histogram s                  time calls waited for the rate budget
//
// Token requests by result are counted by consent/graph (tenantapps.token.requests).

import (
	"context"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

const instrumentationName = "github.com/tenantapps/tenantapps/appprofile"

// WithTracerProvider sets the OpenTelemetry tracer provider (otel.GetTracerProvider() by
// default).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tracerProvider = tp }
}

// WithMeterProvider sets the OpenTelemetry meter provider (otel.GetMeterProvider() by default).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(o *options) { o.meterProvider = mp }
}

type telemetry struct {
	tracer        trace.Tracer
	verifications metric.Int64Counter
	profiles      metric.Int64Gauge
	age           metric.Float64Histogram
	throttles     metric.Int64Counter
	ru            metric.Int64Counter
	budgetWait    metric.Float64Histogram
}

func newTelemetry(o options) *telemetry {
	tp, mp := o.tracerProvider, o.meterProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter(instrumentationName)
	t := &telemetry{tracer: tp.Tracer(instrumentationName)}
	// Instrument creation fails only on invalid names (ours are valid); a failed instrument is a
	// no-op one, never nil.
	t.verifications, _ = m.Int64Counter("tenantapps.verifications", metric.WithDescription("Profiles verified, by outcome and resulting status."))
	t.profiles, _ = m.Int64Gauge("tenantapps.profiles", metric.WithDescription("Profiles by status at the end of a fleet verification."))
	t.age, _ = m.Float64Histogram("tenantapps.verification.age", metric.WithUnit("s"), metric.WithDescription("Age of a profile's previous check when it is verified again."))
	t.throttles, _ = m.Int64Counter("tenantapps.graph.throttles", metric.WithDescription("Throttled Graph answers (429), by x-ms-throttle-scope."))
	t.ru, _ = m.Int64Counter("tenantapps.graph.resource_units", metric.WithUnit("{RU}"), metric.WithDescription("Resource units Graph charged (x-ms-resource-unit)."))
	t.budgetWait, _ = m.Float64Histogram("tenantapps.budget.wait", metric.WithUnit("s"), metric.WithDescription("Time a Graph call waited for the rate budget."))
	return t
}

// recordVerification counts a verified profile; prev is its previous check (nil if none).
func (m *Manager) recordVerification(ctx context.Context, vr VerifyResult, err error, prev *Check) {
	if err != nil {
		return
	}
	m.tel.verifications.Add(ctx, 1, metric.WithAttributes(attribute.String("outcome", string(vr.Outcome)), attribute.String("status", string(vr.Profile.Status))))
	if prev != nil && !prev.At.IsZero() {
		m.tel.age.Record(ctx, m.now().Sub(prev.At).Seconds())
	}
}

func (m *Manager) recordThrottle(ctx context.Context, scope string) {
	if scope == "" {
		scope = "unknown"
	}
	m.tel.throttles.Add(ctx, 1, metric.WithAttributes(attribute.String("scope", scope)))
}

func (m *Manager) recordBudgetWait(ctx context.Context, d time.Duration) {
	m.tel.budgetWait.Record(ctx, d.Seconds())
}

// tenantSpan starts the span of one tenant's verification.
func (m *Manager) tenantSpan(ctx context.Context, tenant string, profiles int) (context.Context, trace.Span) {
	return m.tel.tracer.Start(ctx, "tenantapps.verify_tenant", trace.WithAttributes(
		attribute.String("tenantapps.tenant.id", tenant), attribute.Int("tenantapps.profiles", profiles)))
}
