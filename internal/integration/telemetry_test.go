package integration_test

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent/graph"
	"github.com/tenantapps/tenantapps/consent/graphtest"
	"github.com/tenantapps/tenantapps/store"
)

// TestTelemetry runs a fleet verification with the OpenTelemetry SDK's in-memory exporters and
// checks the span tree (sweep → tenant → Graph batch with its RU → token) and the metrics, and
// that tenant IDs appear on spans only, never as metric attributes.
func TestTelemetry(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	w := newWorld(t, graphtest.Options{}, func(c *graph.Config) { c.TracerProvider, c.MeterProvider = tp, mp })
	w.srv.EnableThrottling(graphtest.Throttling{})
	w.addTenants(t, 3, nil)
	tenants := []string{tenantN(0), tenantN(1), tenantN(2)}
	m := w.manager(t, appprofile.WithTracerProvider(tp), appprofile.WithMeterProvider(mp))
	ctx := context.Background()
	res, err := m.VerifyAll(ctx, store.Filter{}, appprofile.VerifyAllOptions{})
	if err != nil || res.Checked != 3 {
		t.Fatalf("VerifyAll = %+v, %v", res.Progress, err)
	}

	byID := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range spans.Ended() {
		byID[s.SpanContext().SpanID().String()] = s
	}
	parentName := func(s sdktrace.ReadOnlySpan) string {
		if p, ok := byID[s.Parent().SpanID().String()]; ok {
			return p.Name()
		}
		return ""
	}
	attr := func(s sdktrace.ReadOnlySpan, key string) (attribute.Value, bool) {
		for _, kv := range s.Attributes() {
			if string(kv.Key) == key {
				return kv.Value, true
			}
		}
		return attribute.Value{}, false
	}
	count := map[string]int{}
	seenTenants := map[string]bool{}
	ru := int64(0)
	for _, s := range spans.Ended() {
		count[s.Name()]++
		switch s.Name() {
		case "tenantapps.verify_tenant":
			if parentName(s) != "tenantapps.sweep" {
				t.Errorf("verify_tenant's parent is %q, want the sweep", parentName(s))
			}
			if v, ok := attr(s, "tenantapps.tenant.id"); ok {
				seenTenants[v.AsString()] = true
			}
		case "graph.batch":
			if p := parentName(s); p != "tenantapps.verify_tenant" {
				t.Errorf("graph.batch's parent is %q, want a tenant's span", p)
			}
			if v, ok := attr(s, "graph.resource_units"); ok {
				ru += v.AsInt64()
			}
		case "entra.token":
			if p := parentName(s); p != "graph.batch" && p != "tenantapps.verify_tenant" {
				t.Errorf("entra.token's parent is %q", p)
			}
		}
	}
	if count["tenantapps.sweep"] != 1 || count["tenantapps.verify_tenant"] != 3 || count["graph.batch"] < 3 || count["entra.token"] < 3 {
		t.Errorf("spans by name = %v", count)
	}
	for _, tid := range tenants {
		if !seenTenants[strings.ToLower(tid)] && !seenTenants[tid] {
			t.Errorf("no verify_tenant span names tenant %s (seen %v)", tid, seenTenants)
		}
	}
	if want := int64(w.srv.ThrottleStats().TotalResourceUnits()); ru != want || ru == 0 {
		t.Errorf("graph.batch spans report %d RU, Graph charged %d", ru, want)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	sums := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, mt := range sm.Metrics {
			check := func(set attribute.Set) {
				for _, kv := range set.ToSlice() {
					for _, tid := range tenants {
						if strings.EqualFold(kv.Value.Emit(), tid) {
							t.Errorf("metric %s carries tenant ID %s as attribute %s", mt.Name, tid, kv.Key)
						}
					}
				}
			}
			switch d := mt.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					check(p.Attributes)
					key := mt.Name
					if r, ok := p.Attributes.Value("result"); ok {
						key += "{" + r.AsString() + "}"
					}
					sums[key] += p.Value
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					check(p.Attributes)
					sums[mt.Name] += p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					check(p.Attributes)
					sums[mt.Name] += int64(p.Count)
				}
			}
		}
	}
	want := map[string]int64{
		"tenantapps.verifications":          3,
		"tenantapps.profiles":               3,
		"tenantapps.token.requests{issued}": 3,
		"tenantapps.graph.resource_units":   int64(w.srv.ThrottleStats().TotalResourceUnits()),
	}
	for k, v := range want {
		if sums[k] != v {
			t.Errorf("metric %s = %d, want %d (all: %v)", k, sums[k], v, sums)
		}
	}
	if sums["tenantapps.budget.wait"] == 0 {
		t.Errorf("no budget wait recorded (all: %v)", sums)
	}
}
