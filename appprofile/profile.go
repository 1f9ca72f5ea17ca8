package appprofile

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tenantapps/tenantapps/consent"
	"github.com/tenantapps/tenantapps/permissions"
)

// Mode is how a profile connects to the tenant: the catalog's vocabulary (permissions.Mode), so a
// profile's mode and its app type's modes compare directly.
type Mode = permissions.Mode

const (
	// Modern: the vendor's default multi-tenant app, consented per service.
	Modern = permissions.ModeModern
	// Classic: the older all-permissions app (re-authorized in AOS only).
	Classic = permissions.ModeClassic
	// Custom: the customer's own app, identified by application ID, with a .pfx certificate.
	Custom = permissions.ModeCustom
	// Delegated: an app acting as a consent user.
	Delegated = permissions.ModeDelegated
)

// Status is the verdict on a profile.
type Status string

const (
	// Pending: created, consent not yet completed.
	Pending Status = "pending"
	// Valid: the tenant matches everything the app type needs.
	Valid Status = "valid"
	// Expired: time ran out (certificate NotAfter, refresh token lifetime); nothing else is broken.
	Expired Status = "expired"
	// Invalid: something broke; see the reasons.
	Invalid Status = "invalid"
)

// Valid reports whether s is one of the defined statuses.
func (s Status) Valid() bool {
	switch s {
	case Pending, Valid, Expired, Invalid:
		return true
	}
	return false
}

// Shape says which kinds of permissions an app type uses; seed 003 marks hybrid and purebred apps.
// It is the catalog's vocabulary (permissions.Shape); Shape.HasDelegated tells whether a profile
// depends on its consent user.
type Shape = permissions.Shape

const (
	ShapeUnknown         = permissions.ShapeUnknown
	ShapeApplicationOnly = permissions.ApplicationOnly
	ShapeHybrid          = permissions.Hybrid
	ShapePurebred        = permissions.Purebred
)

// ConsentMethod is how consent was (or is to be) given: the consent package's vocabulary.
type ConsentMethod = consent.Method

const (
	AdminConsent = consent.AdminConsent
	UserConsent  = consent.UserConsent
)

// ConsentRecord says who consented, how, when and from which callback. CompleteConsent records it
// once the Driver proved the grants in the tenant, or, when the tenant could not be read right
// then, with Unproven set: the callback was genuine and its single-use state is spent, so the
// consent is kept for a later check to prove.
type ConsentRecord struct {
	Method ConsentMethod `json:"method"`
	// UserID and UserPrincipalName identify the consent account in the tenant.
	UserID            string    `json:"userId,omitempty"`
	UserPrincipalName string    `json:"userPrincipalName,omitempty"`
	At                time.Time `json:"at"`
	// CallbackNonce is the nonce of the signed state the callback carried.
	CallbackNonce string `json:"callbackNonce,omitempty"`
	// OriginalIP is the address the consent came from; Conditional Access policies must allow it
	// for delegated apps (seed 003).
	OriginalIP string `json:"originalIp,omitempty"`
	// CatalogVersion is the catalog version whose permissions were consented.
	CatalogVersion string `json:"catalogVersion,omitempty"`
	// UserHadLicenses and UserHadMFA record the consent user's state at consent, so that later
	// changes can be told apart from how things always were.
	UserHadLicenses bool `json:"userHadLicenses,omitempty"`
	UserHadMFA      bool `json:"userHadMfa,omitempty"`
	// Unproven: the tenant could not be read when consent completed, so the grants are not
	// proven and UserHadLicenses, UserHadMFA and the custom app's AppThumbprints were not read.
	// The next Verify or VerifyAll that reads the tenant records them as they are then, clears
	// Unproven and settles the status (Invalid, with reasons, when the grants are not there).
	Unproven bool `json:"unproven,omitempty"`
}

// SealedSecret is ciphertext produced by a Sealer. It is safe to store and to log (it is opaque).
type SealedSecret struct {
	KeyID      string `json:"kid"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ct"`
}

// IsZero reports whether nothing is sealed.
func (s SealedSecret) IsZero() bool { return s.KeyID == "" && len(s.Ciphertext) == 0 }

// CustomApp is the customer's own app of a custom profile.
type CustomApp struct {
	// ApplicationID is the app's client ID. Entra never reuses one, so "the tenant changed its
	// custom app" shows as this registration gone (ReasonCustomAppChanged) and is fixed by
	// re-authorizing with the new app's ID.
	ApplicationID string `json:"applicationId"`
	// Thumbprint is the SHA-1 thumbprint (hex, upper case) of the profile's certificate, as Entra
	// shows it in keyCredentials' customKeyIdentifier; ThumbprintSHA256 the x5t#S256 one.
	Thumbprint       string    `json:"thumbprint"`
	ThumbprintSHA256 string    `json:"thumbprintSha256,omitempty"`
	NotAfter         time.Time `json:"notAfter"`
	// AppThumbprints are the thumbprints of every certificate on the app at consent.
	AppThumbprints []string `json:"appThumbprints,omitempty"`
	// PFX and Password are the sealed .pfx bytes and password. Never plaintext.
	PFX      SealedSecret `json:"pfx"`
	Password SealedSecret `json:"password"`
}

// Profile is one customer app profile: one app type consented in one tenant for some services.
// A Profile is a value; the Manager returns copies, and changing one has no effect until it is
// passed back to the Manager.
type Profile struct {
	// ID is a UUID the Manager assigns at Create: version 8 (RFC 9562's custom layout) whose
	// first 32 bits are a hash of the tenant ID and whose other 90 bits are random, so that a
	// tenant's profiles sort next to each other and a fleet scan (VerifyAll), which pages by
	// ID, reads them together and checks them with one driver call.
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Customer string   `json:"customer"`
	Tenant   string   `json:"tenant"`
	Services []string `json:"services"`
	AppType  string   `json:"appType"`
	// AppID is the application (client) ID the profile consents to: the vendor app's for modern,
	// classic and delegated profiles, the customer's own for custom profiles.
	AppID  string `json:"appId"`
	Mode   Mode   `json:"mode"`
	Shape  Shape  `json:"shape,omitempty"`
	Status Status `json:"status"`
	// Reasons explain Status; warnings (reasons that do not change the status) are included.
	Reasons []Reason `json:"reasons,omitempty"`
	// LastCheck is the outcome of the last verification attempt.
	LastCheck *Check         `json:"lastCheck,omitempty"`
	Consent   *ConsentRecord `json:"consent,omitempty"`
	Custom    *CustomApp     `json:"custom,omitempty"`
	// DelegatedTokenCache is the sealed token cache (with the consent user's refresh token) kept
	// from a user consent; the Manager refreshes it to prove the delegated consent still works.
	DelegatedTokenCache SealedSecret `json:"delegatedTokenCache,omitzero"`
	// BackupFunctions are the Cloud Backup for Microsoft 365 functions that use a Delegated App
	// profile (seed 003), e.g. "Protect Power BI".
	BackupFunctions []string `json:"backupFunctions,omitempty"`
	// Uses says how the profile is used where the catalog's requirements depend on it, e.g.
	// roles.ManagesExchange.
	Uses []string `json:"uses,omitempty"`
	// ReauthorizationRequested is set when someone asked to change the consent account (or another
	// re-authorization); it clears at the next completed consent.
	ReauthorizationRequested string `json:"reauthorizationRequested,omitempty"`
	// Accepted are the deviations an operator accepted (Manager.AcceptDeviation) that still
	// hold; a reason they match carries Reason.Accepted. An acceptance ends when it expires or
	// the accepted fact changes, and the reason drives the status again.
	Accepted []AcceptedDeviation `json:"accepted,omitempty"`
	// Observed is what the last check saw in the tenant (grants and roles), kept to tell later
	// checks' changes apart in the history.
	Observed  *ObservedState `json:"observed,omitempty"`
	CreatedAt time.Time      `json:"createdAt"`
	UpdatedAt time.Time      `json:"updatedAt"`
	// Version is the store version, for optimistic concurrency.
	Version int64 `json:"-"`
	// UniqueKey is the store's uniqueness key of the record ("tenant|app type"; empty for
	// profiles created WithDuplicates(true)). The Manager sets it at creation and keeps it.
	UniqueKey string `json:"-"`
}

// Check is the outcome of one verification attempt.
type Check struct {
	At      time.Time `json:"at"`
	Outcome Outcome   `json:"outcome"`
	// Error says why the check could not be made (Outcome CouldNotCheck). It never contains secrets.
	Error string `json:"error,omitempty"`
}

// Outcome is the result of a verification attempt.
type Outcome string

const (
	// Checked: the tenant answered and the status reflects it.
	Checked Outcome = "checked"
	// CouldNotCheck: the tenant could not be read (throttled, transient, forbidden, malformed); the
	// status was left as it was.
	CouldNotCheck Outcome = "could-not-check"
)

// payloadVersion is the newest version of the JSON encoding of a Profile in a store record that
// this package reads. Version 2 added accepted deviations (Profile.Accepted): a payload that has
// any is written as version 2, so that a binary from before them refuses the profile instead of
// rewriting it without them; other payloads are still written as version 1.
const payloadVersion = 2

type payload struct {
	V int `json:"v"`
	Profile
}

// ErrPayload is returned (wrapped) when a stored payload cannot be decoded.
var ErrPayload = errors.New("appprofile: stored profile payload is unreadable")

// MarshalPayload encodes p as the versioned JSON payload kept in a store record. Sealed secrets
// stay sealed.
func MarshalPayload(p Profile) ([]byte, error) {
	v := 1
	if len(p.Accepted) > 0 {
		v = 2
	}
	return json.Marshal(payload{V: v, Profile: p})
}

// UnmarshalPayload decodes a payload written by MarshalPayload. Payloads of a newer version than this
// package knows are refused with ErrPayload, so an old binary never rewrites data it does not
// understand. Version (the store version) is not part of the payload; the caller sets it.
func UnmarshalPayload(b []byte) (Profile, error) {
	var pl payload
	if err := json.Unmarshal(b, &pl); err != nil {
		return Profile{}, fmt.Errorf("%w: %v", ErrPayload, err)
	}
	switch {
	case pl.V == 0:
		return Profile{}, fmt.Errorf("%w: no version field", ErrPayload)
	case pl.V > payloadVersion:
		return Profile{}, fmt.Errorf("%w: version %d is newer than this library understands (%d); upgrade tenantapps", ErrPayload, pl.V, payloadVersion)
	case pl.V < 0:
		return Profile{}, fmt.Errorf("%w: version %d", ErrPayload, pl.V)
	}
	p := pl.Profile
	if p.Status != "" && !p.Status.Valid() {
		return Profile{}, fmt.Errorf("%w: unknown status %q", ErrPayload, p.Status)
	}
	if p.Mode != "" && !p.Mode.Valid() {
		return Profile{}, fmt.Errorf("%w: unknown mode %q", ErrPayload, p.Mode)
	}
	return p, nil
}

// clone returns a deep copy of p, so that callers never share slices with the Manager.
func (p Profile) clone() Profile {
	p.Services = slices.Clone(p.Services)
	p.BackupFunctions = slices.Clone(p.BackupFunctions)
	p.Uses = slices.Clone(p.Uses)
	if p.Reasons != nil {
		rs := make([]Reason, len(p.Reasons))
		for i, r := range p.Reasons {
			rs[i] = r.clone()
		}
		p.Reasons = rs
	}
	if p.LastCheck != nil {
		c := *p.LastCheck
		p.LastCheck = &c
	}
	if p.Accepted != nil {
		as := make([]AcceptedDeviation, len(p.Accepted))
		for i, a := range p.Accepted {
			as[i] = a.clone()
		}
		p.Accepted = as
	}
	if p.Observed != nil {
		o := p.Observed.clone()
		p.Observed = &o
	}
	if p.Consent != nil {
		c := *p.Consent
		p.Consent = &c
	}
	p.DelegatedTokenCache.Nonce = slices.Clone(p.DelegatedTokenCache.Nonce)
	p.DelegatedTokenCache.Ciphertext = slices.Clone(p.DelegatedTokenCache.Ciphertext)
	if p.Custom != nil {
		c := *p.Custom
		c.AppThumbprints = slices.Clone(c.AppThumbprints)
		c.PFX.Nonce, c.PFX.Ciphertext = slices.Clone(c.PFX.Nonce), slices.Clone(c.PFX.Ciphertext)
		c.Password.Nonce, c.Password.Ciphertext = slices.Clone(c.Password.Nonce), slices.Clone(c.Password.Ciphertext)
		p.Custom = &c
	}
	return p
}
