package appprofile

import (
	"context"
	"errors"
)

// conflictRetries is how often a Manager method whose write is idempotent applies its change
// again to the current profile after losing a race for the versioned Update (ErrConflict). Each
// lost race means another writer's change was stored in between, so with fewer than
// conflictRetries writers changing one profile at the same moment, every such write succeeds.
const conflictRetries = 16

// sameSubject reports whether an observation made for profile was still a correct description
// of cur, the profile a concurrent writer stored meanwhile: same app, tenant, mode, custom app,
// consent (the same callback's record) and consent user. When the check rotated the delegated
// token cache, cur must also still hold the cache the check started from.
func sameSubject(was, cur Profile, rotatedCache bool) bool {
	if was.AppID != cur.AppID || was.Tenant != cur.Tenant || was.Mode != cur.Mode || was.AppType != cur.AppType {
		return false
	}
	if (was.Custom == nil) != (cur.Custom == nil) || (was.Custom != nil && was.Custom.ApplicationID != cur.Custom.ApplicationID) {
		return false
	}
	if (was.Consent == nil) != (cur.Consent == nil) || (was.Consent != nil && (was.Consent.CallbackNonce != cur.Consent.CallbackNonce || was.Consent.UserID != cur.Consent.UserID)) {
		return false
	}
	if rotatedCache && !sealedEqual(was.DelegatedTokenCache, cur.DelegatedTokenCache) {
		return false
	}
	return true
}

func sealedEqual(a, b SealedSecret) bool {
	return a.KeyID == b.KeyID && string(a.Nonce) == string(b.Nonce) && string(a.Ciphertext) == string(b.Ciphertext)
}

// updateProfile reads profile id, applies change to it and saves the result, applying change
// again to the current profile when a concurrent writer won (ErrConflict), at most
// conflictRetries times. change must be idempotent and depend only on the profile it is given
// and on values fixed before the call.
func (m *Manager) updateProfile(ctx context.Context, id string, change func(Profile) (Profile, error)) (Profile, error) {
	for try := 0; ; try++ {
		p, err := m.Get(ctx, id)
		if err != nil {
			return Profile{}, err
		}
		np, err := change(p)
		if err != nil {
			return Profile{}, err
		}
		saved, err := m.save(ctx, np, p.Status)
		if errors.Is(err, ErrConflict) && try < conflictRetries {
			continue
		}
		return saved, err
	}
}
