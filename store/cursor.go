package store

import (
	"encoding/base64"
	"encoding/binary"
	"hash/fnv"
	"strings"
	"time"
)

// cursorPrefix versions the cursor format so it can change without misreading old cursors.
const cursorPrefix = "c1."

// EncodeCursor returns the opaque cursor of the page that follows the record with ID lastID in a
// List with filter f. Store implementations return it as List's next cursor.
//
// The cursor binds the filter (by a hash) so that resuming with another filter is detected; it
// contains the last ID, which is not secret by contract, and nothing else.
func EncodeCursor(f Filter, lastID string) string {
	buf := make([]byte, 8, 8+len(lastID))
	binary.BigEndian.PutUint64(buf, filterHash(f))
	buf = append(buf, lastID...)
	return cursorPrefix + base64.RawURLEncoding.EncodeToString(buf)
}

// DecodeCursor returns the ID after which the page of cursor starts. It fails with a
// [*ValidationError] (ErrInvalid) when the cursor is malformed or was issued for another filter.
func DecodeCursor(f Filter, cursor string) (afterID string, err error) {
	bad := func(problem string) error {
		return &ValidationError{Field: "Page.Cursor", Problem: problem}
	}
	rest, ok := strings.CutPrefix(cursor, cursorPrefix)
	if !ok {
		return "", bad("not a cursor returned by List; start again with an empty cursor")
	}
	if len(rest) > base64.RawURLEncoding.EncodedLen(8+MaxIDLen) {
		return "", bad("too long to be a cursor returned by List")
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(raw) <= 8 {
		return "", bad("corrupt; pass the cursor exactly as List returned it")
	}
	if binary.BigEndian.Uint64(raw[:8]) != filterHash(f) {
		return "", bad("issued for a different filter; resume with the filter the scan started with")
	}
	id := string(raw[8:])
	if ValidateID(id) != nil {
		return "", bad("corrupt; pass the cursor exactly as List returned it")
	}
	return id, nil
}

// filterHash is a stable (cross-process, cross-version of Go) fingerprint of a filter.
func filterHash(f Filter) uint64 {
	h := fnv.New64a()
	var n [8]byte
	for _, s := range []string{f.Customer, f.Tenant, f.Service, f.AppType, f.Mode, f.Status} {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	for _, t := range []int64{micros(f.UpdatedBefore), micros(f.UpdatedAfter)} {
		binary.BigEndian.PutUint64(n[:], uint64(t))
		h.Write(n[:])
	}
	return h.Sum64()
}

// micros returns t's Unix time in microseconds, or 0 for the zero time.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}
