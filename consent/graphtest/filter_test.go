package graphtest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseFilter(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []filterClause
		wantErr bool
	}{
		{in: "appId eq 'A'", want: []filterClause{{Prop: "appId", Op: "eq", Value: "A"}}},
		{in: "appId in ('a', 'b''c')", want: []filterClause{{Prop: "appId", Op: "in", Values: []string{"a", "b'c"}}}},
		{in: "appId in ('a') and accountEnabled eq true", want: []filterClause{{Prop: "appId", Op: "in", Values: []string{"a"}}, {Prop: "accountEnabled", Op: "eq", Value: "true"}}},
		{in: "appId in ('a'", wantErr: true},
		{in: "appId in 'a'", wantErr: true},
		{in: "appId in ('a' 'b')", wantErr: true},
		{in: "appId in (a)", wantErr: true},
		{in: "appId in ('a') or x eq 'y'", wantErr: true},
		{in: "appId in ('a') and", wantErr: true},
	} {
		got, err := parseFilter(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("parseFilter(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("parseFilter(%q) mismatch (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestMatchFilterIn(t *testing.T) {
	clauses, err := parseFilter("appId in ('X', 'y')")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		appID string
		want  bool
	}{{"x", true}, {"Y", true}, {"z", false}} {
		if got := matchFilter(map[string]any{"appId": tc.appID}, clauses); got != tc.want {
			t.Errorf("appId %q: match = %v, want %v", tc.appID, got, tc.want)
		}
	}
}
