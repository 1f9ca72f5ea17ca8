package graph

import (
	"context"
	"net/http"
	"testing"

	"github.com/tenantapps/tenantapps/consent"
)

type headerRecorder struct{ got http.Header }

func (h *headerRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	h.got = r.Header.Clone()
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
}

// TestPriorityHeader: the caller's priority travels as x-ms-throttle-priority; normal sends none
// (Graph's default, throttling.md).
func TestPriorityHeader(t *testing.T) {
	for _, tc := range []struct {
		ctx  context.Context
		want string
	}{
		{context.Background(), ""},
		{consent.WithPriority(context.Background(), consent.PriorityNormal), ""},
		{consent.WithPriority(context.Background(), consent.PriorityLow), "low"},
		{consent.WithPriority(context.Background(), consent.PriorityHigh), "high"},
	} {
		rec := &headerRecorder{}
		req, err := http.NewRequestWithContext(tc.ctx, http.MethodGet, "https://graph.example/v1.0/users", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := (priorityTransport{next: rec}).RoundTrip(req); err != nil {
			t.Fatal(err)
		}
		if got := rec.got.Get("x-ms-throttle-priority"); got != tc.want {
			t.Errorf("priority %q: header %q, want %q", consent.PriorityFrom(tc.ctx), got, tc.want)
		}
		if req.Header.Get("x-ms-throttle-priority") != "" {
			t.Error("the caller's request was modified")
		}
	}
}
