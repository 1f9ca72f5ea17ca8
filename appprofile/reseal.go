package appprofile

import (
	"context"
	"errors"
	"fmt"

	"github.com/tenantapps/tenantapps/store"
)

// ResealOptions tunes ResealAll.
type ResealOptions struct {
	// Cursor resumes an interrupted run: pass the Cursor of its last ResealProgress (or of its
	// result). Empty starts from the first profile.
	Cursor string
	// PageSize is how many profiles are read from the store at a time (100 by default, at most
	// store.MaxLimit).
	PageSize int
	// Progress, when set, is called after each page with the totals so far. It is called from
	// ResealAll's goroutine, never concurrently.
	Progress func(ResealProgress)
}

// ResealProgress is the running total of ResealAll.
type ResealProgress struct {
	// Scanned counts profiles read; Resealed those whose secrets were re-sealed by this run;
	// Secrets the secrets (.pfx, password, delegated token cache) re-sealed; Failed the profiles
	// that could not be re-sealed (see ResealResult.Errors).
	Scanned, Resealed, Secrets, Failed int
	// Cursor resumes after the last page that was completely handled ("" when the run is
	// complete).
	Cursor string
}

// ResealResult is the outcome of ResealAll.
type ResealResult struct {
	ResealProgress
	// Errors holds the first errors of failed profiles (at most 100), each naming its profile.
	Errors []error
}

// keyIDer is implemented by sealers that can say which key they seal with (AESGCMSealer).
type keyIDer interface{ CurrentKeyID() string }

// currentKeyID returns the key ID new secrets are sealed with: the sealer's CurrentKeyID, or the
// KeyID of a probe sealed now for a Sealer without that method.
func (m *Manager) currentKeyID() (string, error) {
	if k, ok := m.o.sealer.(keyIDer); ok {
		return k.CurrentKeyID(), nil
	}
	probe, err := m.o.sealer.Seal(nil, []byte("tenantapps/reseal-probe"))
	if err != nil {
		return "", fmt.Errorf("appprofile: reseal: asking the sealer for its current key: %w", err)
	}
	return probe.KeyID, nil
}

// ResealAll re-seals every stored secret (a custom app's .pfx and password, a delegated token
// cache) that is not sealed under the sealer's current key, walking the whole store page by page.
// It is how a key rotation finishes: configure the sealer with the new key as current and the old
// keys still present (NewAESGCMSealer), run ResealAll until it reports no failures, then drop the
// old keys.
//
// ResealAll is idempotent — a secret already under the current key is left alone, so a second run
// re-seals nothing — and resumable: when ctx ends it returns the totals so far with a Cursor from
// which a later call continues (a page that was interrupted is walked again, harmlessly). It is
// safe to run while other writers run: each profile is re-sealed with optimistic concurrency and,
// when another writer changed it first, re-read and re-sealed again (a secret that writer sealed
// anew is then already current). A profile that cannot be re-sealed (a secret sealed under a key
// the sealer no longer has: ErrUnseal; an unreadable payload; a store error) is counted in Failed,
// listed in Errors, and left as it was; the walk goes on. The error is non-nil only when the walk
// itself stopped (ctx, the store's List); without a sealer it is ErrNoSealer.
func (m *Manager) ResealAll(ctx context.Context, opts ResealOptions) (ResealResult, error) {
	var res ResealResult
	res.Cursor = opts.Cursor
	if m.o.sealer == nil {
		return res, ErrNoSealer
	}
	current, err := m.currentKeyID()
	if err != nil {
		return res, err
	}
	size := opts.PageSize
	if size <= 0 {
		size = 100
	}
	cursor := opts.Cursor
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		recs, next, err := m.store.List(ctx, store.Filter{}, store.Page{Limit: size, Cursor: cursor})
		if err != nil {
			return res, fmt.Errorf("appprofile: reseal: listing profiles: %w", err)
		}
		for _, r := range recs {
			res.Scanned++
			n, err := m.resealProfile(ctx, r, current)
			switch {
			case err != nil && ctx.Err() != nil:
				return res, ctx.Err() // res.Cursor still names this page's start
			case err != nil:
				res.Failed++
				if len(res.Errors) < maxFleetErrors {
					res.Errors = append(res.Errors, fmt.Errorf("profile %s: %w", r.ID, err))
				}
			case n > 0:
				res.Resealed++
				res.Secrets += n
			}
		}
		cursor = next
		res.Cursor = next
		if opts.Progress != nil {
			opts.Progress(res.ResealProgress)
		}
		if next == "" {
			m.o.logger.Info("stored secrets re-sealed", "key", current, "scanned", res.Scanned, "resealed", res.Resealed, "failed", res.Failed)
			return res, nil
		}
	}
}

// resealProfile re-seals the secrets of the profile stored as r that are not under key current
// and saves it, retrying on ErrConflict with the profile that won. It returns how many secrets
// it re-sealed (0: nothing to do).
func (m *Manager) resealProfile(ctx context.Context, r store.Record, current string) (int, error) {
	p, err := fromRecord(r)
	if err != nil {
		return 0, err
	}
	for try := 0; ; try++ {
		np, n, err := m.resealed(p, current)
		if err != nil || n == 0 {
			return 0, err
		}
		_, err = m.save(ctx, np, p.Status)
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, ErrConflict) || try >= conflictRetries {
			return 0, err
		}
		if p, err = m.Get(ctx, p.ID); err != nil {
			if errors.Is(err, ErrNotFound) {
				return 0, nil // deleted meanwhile: nothing left to re-seal
			}
			return 0, err
		}
	}
}

// resealed returns p with every secret not under key current re-sealed, and how many there were.
func (m *Manager) resealed(p Profile, current string) (Profile, int, error) {
	np := p.clone()
	n := 0
	one := func(s *SealedSecret, field string) error {
		if s.IsZero() || s.KeyID == current {
			return nil
		}
		ns, err := Reseal(m.o.sealer, *s, aad(p.ID, field))
		if err != nil {
			return fmt.Errorf("re-sealing the %s (key %q): %w", field, s.KeyID, err)
		}
		*s = ns
		n++
		return nil
	}
	if np.Custom != nil {
		if err := one(&np.Custom.PFX, "pfx"); err != nil {
			return Profile{}, 0, err
		}
		if err := one(&np.Custom.Password, "password"); err != nil {
			return Profile{}, 0, err
		}
	}
	if err := one(&np.DelegatedTokenCache, "token-cache"); err != nil {
		return Profile{}, 0, err
	}
	return np, n, nil
}
