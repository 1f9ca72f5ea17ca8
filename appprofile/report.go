package appprofile

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/tenantapps/tenantapps/store"
)

// ReportSchema names the schema of EvidenceReport's JSON. It changes only when the meaning of an
// existing field changes or a field is removed; fields may be added within a version. The schema
// is documented on EvidenceReport and its field types, and pinned by
// appprofile/testdata/evidence_v1.golden.json.
const ReportSchema = "tenantapps.evidence/v1"

// EvidenceReport is what was true for one tenant's app profiles over a time range, for auditors:
// every profile (as it is now) with its status, reasons and accepted deviations, and the history
// of changes in the range — including the history of profiles deleted since. Secrets are never
// in it (certificates are named by thumbprint only).
//
// JSON (WriteJSON): an object with "schema" (ReportSchema), "tenant", "from" and "to" (RFC 3339,
// UTC; the range is [from, to)), "generatedAt", and "profiles": an array ordered by profile ID
// of ReportProfile objects.
type EvidenceReport struct {
	Schema      string          `json:"schema"`
	Tenant      string          `json:"tenant"`
	From        time.Time       `json:"from"`
	To          time.Time       `json:"to"`
	GeneratedAt time.Time       `json:"generatedAt"`
	Profiles    []ReportProfile `json:"profiles"`
}

// ReportProfile is one profile in an EvidenceReport. Deleted is true for a profile that is no
// longer in the store but has history in the range; its other current fields are then empty, and
// its last history entry (Deleted set) says when it was deleted, if that was in the range.
type ReportProfile struct {
	ID       string   `json:"id"`
	Deleted  bool     `json:"deleted,omitempty"`
	Name     string   `json:"name,omitempty"`
	Customer string   `json:"customer,omitempty"`
	AppType  string   `json:"appType"`
	AppID    string   `json:"appId,omitempty"`
	Mode     Mode     `json:"mode,omitempty"`
	Services []string `json:"services,omitempty"`
	// Status and Reasons are the current ones; a reason an acceptance covers carries "accepted".
	Status  Status   `json:"status,omitempty"`
	Reasons []Reason `json:"reasons,omitempty"`
	// Accepted are the acceptances in force.
	Accepted []AcceptedDeviation `json:"accepted,omitempty"`
	// Consent is who consented, how and when (nil before consent).
	Consent *ConsentEvent `json:"consent,omitempty"`
	// Certificate is the custom app certificate's thumbprint and expiry (custom profiles).
	Certificate *ReportCertificate `json:"certificate,omitempty"`
	LastCheck   *Check             `json:"lastCheck,omitempty"`
	// History holds the profile's history entries in the range, oldest first.
	History []HistoryEntry `json:"history"`
}

// ReportCertificate names a custom profile's certificate.
type ReportCertificate struct {
	Thumbprint string    `json:"thumbprint"`
	NotAfter   time.Time `json:"notAfter"`
}

// Report builds the EvidenceReport of tenant over [from, to) (a zero from or to leaves that end
// open). It fails with ErrNoHistory when the store keeps no history and with a *RequestError
// without a tenant or with to before from.
func (m *Manager) Report(ctx context.Context, tenant string, from, to time.Time) (EvidenceReport, error) {
	if m.outbox == nil {
		return EvidenceReport{}, ErrNoHistory
	}
	return buildReport(ctx, m.store, m.outbox, tenant, from, to, m.now())
}

// BuildReport is Manager.Report for read-only tools that have a store but no Manager; now is the
// report's GeneratedAt. It fails with ErrNoHistory when st does not implement
// store.OutboxStore.
func BuildReport(ctx context.Context, st store.Store, tenant string, from, to, now time.Time) (EvidenceReport, error) {
	os, ok := st.(store.OutboxStore)
	if !ok {
		return EvidenceReport{}, ErrNoHistory
	}
	return buildReport(ctx, st, os, tenant, from, to, now)
}

func buildReport(ctx context.Context, st store.Store, os store.OutboxStore, tenant string, from, to, now time.Time) (EvidenceReport, error) {
	if tenant == "" {
		return EvidenceReport{}, &RequestError{Op: "report", Problems: []string{"name the tenant"}}
	}
	tenant, err := NormalizeTenantID(tenant)
	if err != nil {
		return EvidenceReport{}, err
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return EvidenceReport{}, &RequestError{Op: "report", Problems: []string{"the range ends before it starts"}}
	}
	rep := EvidenceReport{Schema: ReportSchema, Tenant: tenant, From: store.Timestamp(from), To: store.Timestamp(to), GeneratedAt: store.Timestamp(now)}
	byID := map[string]*ReportProfile{}
	var ids []string
	f := store.Filter{Tenant: tenant}
	page := store.Page{Limit: store.MaxLimit}
	for {
		recs, next, err := st.List(ctx, f, page)
		if err != nil {
			return EvidenceReport{}, fmt.Errorf("appprofile: report: %w", err)
		}
		for _, r := range recs {
			p, err := fromRecord(r)
			if err != nil {
				return EvidenceReport{}, fmt.Errorf("appprofile: report: %w", err)
			}
			rp := reportProfile(p)
			byID[p.ID] = &rp
			ids = append(ids, p.ID)
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	hs, err := allHistory(ctx, os, HistoryQuery{Tenant: tenant, From: from, To: to})
	if err != nil {
		return EvidenceReport{}, err
	}
	for _, h := range hs {
		rp, ok := byID[h.ProfileID]
		if !ok {
			rp = &ReportProfile{ID: h.ProfileID, Deleted: true, AppType: h.AppType}
			byID[h.ProfileID] = rp
			ids = append(ids, h.ProfileID)
		}
		rp.History = append(rp.History, h)
	}
	slices.Sort(ids)
	rep.Profiles = make([]ReportProfile, 0, len(ids))
	for _, id := range ids {
		rp := byID[id]
		if rp.History == nil {
			rp.History = []HistoryEntry{}
		}
		rep.Profiles = append(rep.Profiles, *rp)
	}
	return rep, nil
}

func reportProfile(p Profile) ReportProfile {
	p = p.clone()
	rp := ReportProfile{ID: p.ID, Name: p.Name, Customer: p.Customer, AppType: p.AppType, AppID: p.AppID, Mode: p.Mode,
		Services: p.Services, Status: p.Status, Reasons: p.Reasons, Accepted: p.Accepted, LastCheck: p.LastCheck}
	if c := p.Consent; c != nil {
		rp.Consent = &ConsentEvent{Method: c.Method, UserID: c.UserID, UserPrincipalName: c.UserPrincipalName, At: c.At, OriginalIP: c.OriginalIP, Unproven: c.Unproven}
	}
	if c := p.Custom; c != nil {
		rp.Certificate = &ReportCertificate{Thumbprint: c.Thumbprint, NotAfter: c.NotAfter}
	}
	return rp
}

// WriteJSON writes the report as indented JSON (the ReportSchema format) followed by a newline.
func (r EvidenceReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
