package store

import (
	"context"
	"errors"
	"fmt"
)

// MaxModifyAttempts is how many times [Modify] reads and writes a record before giving up on a
// record that other writers keep changing.
const MaxModifyAttempts = 10

// Modify is the read-modify-write loop every optimistic-concurrency caller needs: it reads the
// record with the given ID, calls change on it and writes it back with Update; when another writer
// got there first (ErrConflict) it starts over from a fresh read, at most [MaxModifyAttempts]
// times. It returns the stored record.
//
// change may be called several times, each time with a fresh copy of the current record, so it
// must not have side effects beyond modifying that copy. It must not change the ID (Modify fails
// with ErrInvalid); the Version it sees is the one read, and changes to it are ignored. If change
// returns an error, Modify returns that error unchanged and writes nothing. Errors of Get and
// Update (ErrNotFound, ErrDuplicate, context errors, ...) are returned as they are; after the last
// attempt the final ErrConflict is returned wrapped.
func Modify(ctx context.Context, st Store, id string, change func(*Record) error) (Record, error) {
	var lastConflict error
	for range MaxModifyAttempts {
		cur, err := st.Get(ctx, id)
		if err != nil {
			return Record{}, err
		}
		next := cur.Clone()
		if err := change(&next); err != nil {
			return Record{}, err
		}
		if next.ID != cur.ID {
			return Record{}, &ValidationError{Field: "ID", Problem: fmt.Sprintf("Modify's change function renamed %q to %q; IDs never change, create a new record instead", cur.ID, next.ID)}
		}
		next.Version = cur.Version
		updated, err := st.Update(ctx, next)
		if errors.Is(err, ErrConflict) {
			lastConflict = err
			continue
		}
		if err != nil {
			return Record{}, err
		}
		return updated, nil
	}
	return Record{}, fmt.Errorf("store: modify %q: gave up after %d attempts because other writers keep changing the record: %w", id, MaxModifyAttempts, lastConflict)
}
