package appprofile

import (
	"context"
	"errors"
	"fmt"

	"github.com/tenantapps/tenantapps/consent"
)

// A consent callback spends its state's nonce before the consent is saved, and the save can fail
// (the database is down, a concurrent writer won). Without more, the same callback retried would
// then be refused as a replay and the administrator would have to consent again, although
// Microsoft Entra recorded the consent. The store's nonce table and the profile are separate
// writes (an atomic "spend and save" would need every store to offer a transaction over both), so
// instead the profile's consent record keeps the nonce of the callback that wrote it
// (ConsentRecord.CallbackNonce), and a spent nonce is judged by the profile:
//
//   - the profile's consent record carries this nonce: the callback was completed (or recorded
//     as unproven): a replay, ErrStateReplayed;
//   - a consent was recorded after this state was issued (ConsentRecord.At not before the
//     state's issue time, ExpiresAt − WithStateTTL): a newer consent stands, ErrStateReplayed;
//   - otherwise no attempt with this state recorded anything: the callback is retried.
//
// Security. Only a callback whose signed state is still valid (signature, expiry, tenant,
// flow) gets here, so a retry is possible for at most the state's TTL, and only until one attempt
// saves. What a retry can do is exactly what the first attempt could: the Manager never trusts the
// callback, it reads the grants from the tenant and records what the tenant shows; a copied
// callback URL therefore gains an attacker nothing that the administrator's own browser did not
// already cause, and cannot overwrite a later consent (second rule). Concurrent retries of one
// callback all reach the versioned Update; one wins, and each loser re-reads the profile, finds
// its nonce there and reports ErrStateReplayed (consentSaveError). A user-consent callback's
// authorization code is redeemed by the first attempt; if that attempt's save failed, Entra
// refuses the code the second time (invalid_grant: AADSTS54005) and the retry ends with a
// *ConsentDeniedError: that consent must be given again. The in-process fallback (a store
// without store.NonceStore) behaves the same way. The price: until one attempt records the
// consent, each replay of the callback costs the tenant reads of a consent check (within the
// Manager's rate budget, WithRateLimit), where before it cost nothing; a portal that fears this
// can rate-limit its callback route.

// spendNonce consumes st's nonce (consumeNonce) and, when it was already spent, lets the call
// through if the profile shows that no attempt with this state recorded a consent (see above).
func (m *Manager) spendNonce(ctx context.Context, st consent.State) error {
	err := m.consumeNonce(ctx, st)
	if !errors.Is(err, ErrStateReplayed) {
		return err
	}
	p, gerr := m.Get(ctx, st.ProfileID)
	if gerr != nil || m.consentRecordedFor(p, st) {
		return err
	}
	m.o.logger.Warn("consent callback retried: its state was spent by an attempt that recorded nothing; completing it now", "profile", p.ID, "tenant", p.Tenant)
	return nil
}

// consentRecordedFor reports whether p's consent record was written by the callback of st, or
// after st was issued.
func (m *Manager) consentRecordedFor(p Profile, st consent.State) bool {
	if p.Consent == nil {
		return false
	}
	if p.Consent.CallbackNonce == st.Nonce {
		return true
	}
	issued := st.ExpiresAt.Add(-m.o.stateTTL)
	return !p.Consent.At.Before(issued)
}

// consentSaveError is the error of a failed save of np, which records the consent of the callback
// with nonce: when the stored profile now holds a consent recorded by that callback (a concurrent
// retry of the same callback won the versioned Update), the callback was completed and the error
// wraps ErrStateReplayed; otherwise err.
func (m *Manager) consentSaveError(ctx context.Context, np Profile, err error) error {
	if !errors.Is(err, ErrConflict) || np.Consent == nil {
		return err
	}
	p, gerr := m.Get(context.WithoutCancel(ctx), np.ID)
	if gerr == nil && p.Consent != nil && p.Consent.CallbackNonce == np.Consent.CallbackNonce {
		return fmt.Errorf("%w: a concurrent attempt of the same callback recorded the consent: %w", ErrStateReplayed, err)
	}
	return err
}
