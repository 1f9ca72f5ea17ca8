package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantapps/tenantapps/store"
)

func TestCursorRoundTrip(t *testing.T) {
	filters := []store.Filter{
		{},
		{Tenant: "t-1", Status: "Valid"},
		{Service: "mail", UpdatedAfter: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)},
		{Customer: "Müller", UpdatedBefore: time.Unix(0, 0)},
	}
	for _, f := range filters {
		for _, id := range []string{"a", "профиль-🚀", strings.Repeat("x", store.MaxIDLen)} {
			c := store.EncodeCursor(f, id)
			got, err := store.DecodeCursor(f, c)
			if err != nil {
				t.Errorf("DecodeCursor(%+v, EncodeCursor(%q)): %v", f, id, err)
				continue
			}
			if got != id {
				t.Errorf("cursor round trip: got %q, want %q", got, id)
			}
		}
	}
}

func TestCursorBoundToFilter(t *testing.T) {
	base := store.Filter{Tenant: "t-1"}
	c := store.EncodeCursor(base, "rec-1")
	others := []store.Filter{
		{},
		{Tenant: "t-2"},
		{Tenant: "t-1", Status: "Valid"},
		{Customer: "t-1"}, // same text in another field
		{Tenant: "t-1", UpdatedAfter: time.Unix(1, 0)},
	}
	for _, f := range others {
		if _, err := store.DecodeCursor(f, c); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("DecodeCursor with filter %+v: err = %v, want ErrInvalid", f, err)
		}
	}
	// Time zone and sub-microsecond differences do not change the filter.
	at := time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC)
	c = store.EncodeCursor(store.Filter{UpdatedAfter: at}, "x")
	if _, err := store.DecodeCursor(store.Filter{UpdatedAfter: at.In(time.FixedZone("CET", 3600)).Truncate(time.Microsecond)}, c); err != nil {
		t.Errorf("equivalent filter refused: %v", err)
	}
}

func TestDecodeCursorRejects(t *testing.T) {
	f := store.Filter{}
	valid := store.EncodeCursor(f, "abc")
	for _, c := range []string{
		"", "abc", "c1", "c1.", "c2." + valid[3:], "c1.%%%", "c1.AAAAAAAAAAA", // 8 bytes, no ID
		valid + "====", "c1." + strings.Repeat("A", 1000),
		store.EncodeCursor(f, "a\nb"), // not a valid ID
	} {
		if _, err := store.DecodeCursor(f, c); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("DecodeCursor(%q): err = %v, want ErrInvalid", c, err)
		}
	}
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(store.EncodeCursor(store.Filter{}, "rec-1"), "")
	f.Add(store.EncodeCursor(store.Filter{Tenant: "t"}, "ü"), "t")
	f.Add("c1.AAAA", "")
	f.Add("", "x")
	f.Fuzz(func(t *testing.T, cursor, tenant string) {
		flt := store.Filter{Tenant: tenant}
		id, err := store.DecodeCursor(flt, cursor)
		if err != nil {
			if !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if store.ValidateID(id) != nil {
			t.Fatalf("decoded invalid ID %q", id)
		}
		if again, err := store.DecodeCursor(flt, store.EncodeCursor(flt, id)); err != nil || again != id {
			t.Fatalf("re-encoding %q: %q, %v", id, again, err)
		}
	})
}

func TestRecordValidate(t *testing.T) {
	tests := []struct {
		name      string
		rec       store.Record
		wantField string // "" = valid
	}{
		{"minimal", store.Record{ID: "x"}, ""},
		{"full", store.Record{ID: "x", Customer: "c", Tenant: "t", Services: []string{"a", "b"}, AppType: "v", Mode: "m", Status: "s", UniqueKey: "u", Payload: []byte{0, 0xff}}, ""},
		{"unicode id", store.Record{ID: "профиль 🚀"}, ""},
		{"max id", store.Record{ID: strings.Repeat("é", store.MaxIDLen/2)}, ""},
		{"empty id", store.Record{}, "ID"},
		{"id too long", store.Record{ID: strings.Repeat("x", store.MaxIDLen+1)}, "ID"},
		{"id tab", store.Record{ID: "a\tb"}, "ID"},
		{"id DEL", store.Record{ID: "a\x7f"}, "ID"},
		{"id bad utf8", store.Record{ID: "\xed\xa0\x80"}, "ID"},
		{"tenant NUL", store.Record{ID: "x", Tenant: "\x00"}, "Tenant"},
		{"mode too long", store.Record{ID: "x", Mode: strings.Repeat("m", store.MaxFieldLen+1)}, "Mode"},
		{"unique key bad utf8", store.Record{ID: "x", UniqueKey: "\xff"}, "UniqueKey"},
		{"empty service", store.Record{ID: "x", Services: []string{""}}, "Services[0]"},
		{"dup service", store.Record{ID: "x", Services: []string{"a", "b", "b"}}, "Services[2]"},
		{"service bad utf8", store.Record{ID: "x", Services: []string{"a", "\xff"}}, "Services[1]"},
		{"payload too big", store.Record{ID: "x", Payload: make([]byte, store.MaxPayloadSize+1)}, "Payload"},
	}
	for _, tc := range tests {
		err := tc.rec.Validate()
		var got string
		var ve *store.ValidationError
		if errors.As(err, &ve) {
			got = ve.Field
		} else if err != nil {
			t.Errorf("%s: err = %#v, want *ValidationError", tc.name, err)
		}
		if got != tc.wantField {
			t.Errorf("%s: invalid field = %q (%v), want %q", tc.name, got, err, tc.wantField)
		}
		if err != nil && !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: %v does not wrap ErrInvalid", tc.name, err)
		}
	}
}

func TestValidationErrorOmitsPayload(t *testing.T) {
	r := store.Record{ID: "x", Payload: []byte("SECRET-" + strings.Repeat("p", store.MaxPayloadSize))}
	err := r.Validate()
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("Validate() = %v; want an error that does not quote the payload", err)
	}
	if err := store.ValidateNonce(strings.Repeat("n", store.MaxNonceLen+1)); err == nil || strings.Contains(err.Error(), "nnnn") {
		t.Errorf("ValidateNonce error quotes the nonce: %v", err)
	}
}

func TestPageNormalize(t *testing.T) {
	tests := []struct {
		page      store.Page
		wantLimit int
		wantAfter string
		wantErr   bool
	}{
		{store.Page{}, store.DefaultLimit, "", false},
		{store.Page{Limit: 1}, 1, "", false},
		{store.Page{Limit: store.MaxLimit + 1}, store.MaxLimit, "", false},
		{store.Page{Limit: -1}, 0, "", true},
		{store.Page{Limit: 5, Cursor: store.EncodeCursor(store.Filter{}, "k")}, 5, "k", false},
		{store.Page{Cursor: "nope"}, 0, "", true},
	}
	for _, tc := range tests {
		limit, after, err := tc.page.Normalize(store.Filter{})
		if (err != nil) != tc.wantErr || limit != tc.wantLimit || after != tc.wantAfter {
			t.Errorf("%+v.Normalize() = (%d, %q, %v), want (%d, %q, err %v)", tc.page, limit, after, err, tc.wantLimit, tc.wantAfter, tc.wantErr)
		}
	}
}

func TestFilterMatch(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	r := store.Record{ID: "x", Customer: "c", Tenant: "t", Services: []string{"mail", "backup"}, AppType: "vendor", Mode: "admin", Status: "Valid", UpdatedAt: t0}
	tests := []struct {
		name string
		f    store.Filter
		want bool
	}{
		{"empty", store.Filter{}, true},
		{"all", store.Filter{Customer: "c", Tenant: "t", Service: "backup", AppType: "vendor", Mode: "admin", Status: "Valid"}, true},
		{"customer", store.Filter{Customer: "d"}, false},
		{"tenant", store.Filter{Tenant: "T"}, false},
		{"service missing", store.Filter{Service: "teams"}, false},
		{"service prefix", store.Filter{Service: "mai"}, false},
		{"app type", store.Filter{AppType: "customer"}, false},
		{"mode", store.Filter{Mode: "user"}, false},
		{"status", store.Filter{Status: "Expired"}, false},
		{"before later", store.Filter{UpdatedBefore: t0.Add(time.Microsecond)}, true},
		{"before same", store.Filter{UpdatedBefore: t0}, false},
		{"before same plus ns", store.Filter{UpdatedBefore: t0.Add(999 * time.Nanosecond)}, false},
		{"after earlier", store.Filter{UpdatedAfter: t0.Add(-time.Microsecond)}, true},
		{"after same", store.Filter{UpdatedAfter: t0}, false},
		{"after other zone", store.Filter{UpdatedAfter: t0.Add(-time.Hour).In(time.FixedZone("X", -7200))}, true},
	}
	for _, tc := range tests {
		if got := tc.f.Match(r); got != tc.want {
			t.Errorf("%s: Match = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestErrorsIsAndMessages(t *testing.T) {
	tests := []struct {
		err      error
		sentinel error
		want     string
	}{
		{&store.ConflictError{ID: "p", Expected: 1, Actual: 3}, store.ErrConflict,
			`store: record "p" is at version 3, not 1: another writer changed it; read it again and retry`},
		{&store.DuplicateError{Field: "id", Value: "p"}, store.ErrDuplicate,
			`store: a record with id "p" already exists: choose another ID or update the existing record`},
		{&store.DuplicateError{Field: "unique_key", Value: "t/v"}, store.ErrDuplicate,
			`store: another record already holds unique key "t/v": update or delete that record instead`},
		{&store.ValidationError{Field: "ID", Problem: "empty"}, store.ErrInvalid, `store: invalid ID: empty`},
		{&store.SchemaVersionError{Database: "/tmp/x.db", Found: 9, Known: 1}, store.ErrSchemaTooNew,
			`store: /tmp/x.db has schema version 9 but this code knows only up to 1: upgrade github.com/tenantapps/tenantapps or open another database`},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, tc.err.Error()); diff != "" {
			t.Errorf("message mismatch (-want +got):\n%s", diff)
		}
		if !errors.Is(tc.err, tc.sentinel) {
			t.Errorf("%T does not match %v", tc.err, tc.sentinel)
		}
		if errors.Is(tc.err, store.ErrNotFound) {
			t.Errorf("%T matches ErrNotFound", tc.err)
		}
	}
}

func TestTimestamp(t *testing.T) {
	in := time.Date(2026, 1, 1, 12, 0, 0, 123456789, time.FixedZone("X", 3600))
	want := time.Date(2026, 1, 1, 11, 0, 0, 123456000, time.UTC)
	if got := store.Timestamp(in); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("Timestamp(%v) = %v, want %v", in, got, want)
	}
	if !store.Timestamp(time.Time{}).IsZero() {
		t.Error("Timestamp(zero) is not zero")
	}
}
