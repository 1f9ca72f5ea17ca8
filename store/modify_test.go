package store_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/tenantapps/tenantapps/store"
	"github.com/tenantapps/tenantapps/store/memstore"
)

func TestModifyConcurrent(t *testing.T) {
	ctx := t.Context()
	st := memstore.New()
	if _, err := st.Create(ctx, store.Record{ID: "c", Payload: []byte("0")}); err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				_, err := store.Modify(ctx, st, "c", func(r *store.Record) error {
					n, err := strconv.Atoi(string(r.Payload))
					r.Payload = []byte(strconv.Itoa(n + 1))
					return err
				})
				if err != nil && !errors.Is(err, store.ErrConflict) {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := st.Get(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	// Every successful Modify is one increment and one version: no update was lost.
	n, _ := strconv.Atoi(string(got.Payload))
	if int64(n)+1 != got.Version {
		t.Errorf("counter %d at version %d: an update was lost", n, got.Version)
	}
	if n < workers*each/2 {
		t.Errorf("only %d of %d modifications applied; retries are not working", n, workers*each)
	}
}

// conflictingStore makes every Update conflict, as if another writer always got there first.
type conflictingStore struct {
	store.Store
	updates int
}

func (c *conflictingStore) Update(ctx context.Context, r store.Record) (store.Record, error) {
	c.updates++
	return store.Record{}, &store.ConflictError{ID: r.ID, Expected: r.Version, Actual: r.Version + 1}
}

func TestModifyErrors(t *testing.T) {
	ctx := t.Context()
	mem := memstore.New()
	if _, err := mem.Create(ctx, store.Record{ID: "p", Status: "Valid"}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Modify(ctx, mem, "missing", func(*store.Record) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Modify(missing): %v, want ErrNotFound", err)
	}
	boom := errors.New("boom")
	if _, err := store.Modify(ctx, mem, "p", func(r *store.Record) error { r.Status = "X"; return boom }); err != boom {
		t.Errorf("Modify with failing change: %v, want the change's error unchanged", err)
	}
	if _, err := store.Modify(ctx, mem, "p", func(r *store.Record) error { r.ID = "q"; return nil }); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Modify renaming the record: %v, want ErrInvalid", err)
	}
	if got, _ := mem.Get(ctx, "p"); got.Version != 1 || got.Status != "Valid" {
		t.Errorf("failed Modify calls changed the record: %+v", got)
	}
	// Changing Version inside change is ignored.
	got, err := store.Modify(ctx, mem, "p", func(r *store.Record) error { r.Version = 99; r.Status = "Expired"; return nil })
	if err != nil || got.Version != 2 || got.Status != "Expired" {
		t.Errorf("Modify = %+v, %v; want version 2, Expired", got, err)
	}
	cs := &conflictingStore{Store: mem}
	_, err = store.Modify(ctx, cs, "p", func(*store.Record) error { return nil })
	if !errors.Is(err, store.ErrConflict) || cs.updates != store.MaxModifyAttempts {
		t.Errorf("Modify under permanent conflict: %v after %d updates, want ErrConflict after %d", err, cs.updates, store.MaxModifyAttempts)
	}
}
