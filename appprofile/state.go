package appprofile

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"

	"github.com/tenantapps/tenantapps/consent"
)

// ErrBadState is wrapped when a consent callback's state is missing, malformed, forged or expired.
// The error also wraps the consent package's typed error (consent.ErrStateMalformed,
// consent.ErrStateTampered, consent.ErrStateExpired, ...), so callers can tell them apart.
var ErrBadState = errors.New("appprofile: consent state is not valid")

// ErrStateReplayed is wrapped when a consent state was already used: each is honoured once.
var ErrStateReplayed = errors.New("appprofile: consent state was already used")

// stateKeyID names the WithStateKey key inside each state (consent.StateKey.ID).
const stateKeyID = "appprofile"

// newStateCodec builds the consent.StateCodec of the Manager's state keys (the first signs, all
// verify), clock, randomness and TTL. mu guards o.rand, which the Manager also reads for IDs.
func newStateCodec(o options, mu *sync.Mutex) (*consent.StateCodec, error) {
	keys := o.allStateKeys()
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no key", consent.ErrInvalidStateKey)
	}
	return consent.NewStateCodec(keys[0], consent.WithVerificationKeys(keys[1:]...),
		consent.WithStateClock(o.now), consent.WithStateRand(&lockedReader{mu: mu, r: o.rand}), consent.WithStateTTL(o.stateTTL))
}

// lockedReader serialises reads of a randomness source shared with the Manager.
type lockedReader struct {
	mu *sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

// openState verifies a state's signature and expiry. Every error wraps ErrBadState and the
// consent package's error.
func openState(codec *consent.StateCodec, s string) (consent.State, error) {
	if s == "" {
		return consent.State{}, fmt.Errorf("%w: the callback carries no state; start again with BeginConsent: %w", ErrBadState, consent.ErrStateMalformed)
	}
	st, err := codec.Open(s)
	if err != nil {
		return consent.State{}, fmt.Errorf("%w: %w", ErrBadState, err)
	}
	return st, nil
}

func parseQuery(raw string) (url.Values, error) {
	if len(raw) > 16<<10 {
		return nil, fmt.Errorf("query is %d bytes long", len(raw))
	}
	return url.ParseQuery(strings.TrimPrefix(raw, "?"))
}
