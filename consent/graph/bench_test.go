package graph_test

import (
	"context"
	"testing"

	"github.com/tenantapps/tenantapps/consent/graphtest"
)

// BenchmarkAppState measures one application-permission profile check (SP + grants + roles)
// against the local emulator with a warm token cache; graph-rtt/op is the number of Graph
// round trips per check (target: 1 once the tenant's resources are known, ≤ 2 on first sight).
func BenchmarkAppState(b *testing.B) {
	e := newEnv(b, graphtest.Options{}, nil)
	e.withCustomer(b)
	ctx := context.Background()
	if _, err := e.drv.AppState(ctx, tenantA, appX); err != nil {
		b.Fatal(err)
	}
	e.srv.ResetStats()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.drv.AppState(ctx, tenantA, appX); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	st := e.srv.Stats()
	b.ReportMetric(float64(st.GraphRoundTrips(tenantA))/float64(b.N), "graph-rtt/op")
	b.ReportMetric(float64(st.Total(graphtest.RouteToken, tenantA))/float64(b.N), "token-req/op")
}
