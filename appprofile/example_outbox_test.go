package appprofile_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tenantapps/tenantapps/appprofile"
	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/consent/consenttest"
	"github.com/tenantapps/tenantapps/permissions"
	"github.com/tenantapps/tenantapps/roles"
	"github.com/tenantapps/tenantapps/store/memstore"
)

// ExampleDispatcher delivers a profile's status changes from the store's outbox — written in the
// same transaction as each change — to a handler, in order, each with its idempotency key; then
// the profile's history shows what the checks saw.
func ExampleDispatcher() {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	const tenant, nitro = "6f1e2d3c-1111-4a5b-9c8d-000000000001", "a1b2c3d4-0000-4000-8000-0000000017a0"
	dir := consenttest.NewFake(consenttest.WithClock(clock))
	dir.AddTenant(consenttest.Tenant{ID: tenant})
	dir.RegisterApp(consenttest.App{AppID: nitro})
	st := memstore.New(memstore.WithClock(clock)) // any store.OutboxStore: sqlite, postgres
	m, err := appprofile.New(st, dir, appprofile.WithClock(clock), appprofile.WithLogger(slog.New(slog.DiscardHandler)),
		appprofile.WithStateKey(bytes.Repeat([]byte{1}, 32)), appprofile.WithRedirectURI("https://portal.example/consent/callback"),
		appprofile.WithVendorAppIDs(map[string]string{"APElements Automation": nitro}))
	if err != nil {
		panic(err)
	}
	ps, _ := m.Create(ctx, appprofile.CreateRequest{Customer: "contoso", Tenant: tenant, Services: []string{"Nitro"}})
	admin := appprofile.Consenter{UserID: "admin", Consenter: consent.Consenter{Roles: []roles.TemplateID{roles.GlobalAdministrator}}}
	start, _ := m.BeginConsent(ctx, ps[0].ID, appprofile.BeginConsentRequest{Consenter: admin})
	app, _ := permissions.Default().AppType("APElements Automation")
	dir.CreateServicePrincipal(tenant, nitro)
	for _, p := range app.Permissions {
		dir.GrantAppRole(tenant, nitro, p.ResourceAppID, p.ID)
	}
	p, _ := m.CompleteConsent(ctx, appprofile.Callback{State: start.State, Tenant: tenant, AdminConsent: "True"})
	now = now.Add(time.Hour)
	dir.DeleteServicePrincipal(tenant, nitro)
	m.Verify(ctx, p.ID)

	d, err := appprofile.NewDispatcher(st, func(ctx context.Context, dl appprofile.Delivery) error {
		// A real handler records dl.IdempotencyKey with its effect, and skips keys it has seen.
		fmt.Println(dl.Event.Kind, dl.Event.Old, "->", dl.Event.New, strings.HasPrefix(dl.IdempotencyKey, p.ID+"@"))
		return nil // acknowledged: never delivered again
	}, appprofile.DispatcherOptions{})
	if err != nil {
		panic(err)
	}
	for {
		res, err := d.DispatchOnce(ctx) // Run(ctx) loops until ctx ends
		if err != nil || res.Delivered == 0 {
			break
		}
	}
	hs, _ := m.History(ctx, appprofile.HistoryQuery{ProfileID: p.ID})
	for _, h := range hs {
		fmt.Println(h.At.Format(time.TimeOnly), h.OldStatus, "->", h.NewStatus, len(h.GrantsAdded), "grants added,", len(h.ReasonsAdded), "reasons added")
	}
	// Output:
	// status-changed pending -> valid true
	// status-changed valid -> invalid true
	// 08:00:00 pending -> valid 16 grants added, 0 reasons added
	// 09:00:00 valid -> invalid 0 grants added, 1 reasons added
}
