package pfx

import (
	"context"
	"fmt"
)

// Work is what one file may make Decode spend on key derivations, in work units. One unit is
// about one hash compression: one iteration of the PKCS#12 KDF with SHA-1 or SHA-256 (the
// SHA-NI block function, ≈ 80 ns on the reference machine) costs 1; one PBKDF2 iteration costs 2
// (HMAC runs the compression twice); the SHA-384/512 family costs 3 per compression and MD5 2,
// which is what they measure relative to SHA-256 there. Every output block of a derivation is
// charged: a 3DES key from the SHA-1 PKCS#12 KDF is two blocks, its IV one more.
//
// DefaultMaxWork (8,000,000 units, well under a CPU-second on a 2-core cloud VM) opens every
// real-tool file of the corpus with room to spare. Measured right-password needs: OpenSSL 3
// default 10,240; Java keytool 150,000 (legacy 1,050,000); NSS pk12util 3,000,000–3,600,000;
// GnuTLS certtool 3,000,000 plus 1,200,000 per certificate of the chain (5,400,000 for three);
// OpenSSL with -iter 1000000 5,000,000. A wrong password needs only the MAC before it is
// reported.
const DefaultMaxWork int64 = 8_000_000

// meter charges work against a file's budget before each derivation and notices a cancelled
// context between derivations.
type meter struct {
	ctx   context.Context
	limit int64
	spent int64
}

func newMeter(ctx context.Context, limit int64) *meter {
	if limit <= 0 {
		limit = DefaultMaxWork
	}
	return &meter{ctx: ctx, limit: limit}
}

// charge reserves units for the derivation described by what, or says why it may not run.
func (m *meter) charge(units int64, what string) error {
	if err := m.alive(); err != nil {
		return err
	}
	if units > m.limit-m.spent {
		return &Error{Kind: KindWorkLimit, Feature: "key-derivation work",
			Message: fmt.Sprintf("opening the file needs more key-derivation work than allowed (%s would bring it to %d units, the limit is %d): it holds too many encrypted parts or too high iteration counts; re-export it with one key, its certificates and a standard iteration count (openssl pkcs12 -export -iter 2048, or Windows Export-PfxCertificate)", what, m.spent+units, m.limit)}
	}
	m.spent += units
	return nil
}

// fits refuses at once when units more work, which the file certainly needs, would exceed the
// budget; it charges nothing.
func (m *meter) fits(units int64, what string) error {
	if units > m.limit-m.spent {
		return &Error{Kind: KindWorkLimit, Feature: "key-derivation work",
			Message: fmt.Sprintf("opening the file needs more key-derivation work than allowed (%s alone needs %d units, %d are left of the limit of %d): it holds too many encrypted parts or too high iteration counts; re-export it with one key, its certificates and a standard iteration count (openssl pkcs12 -export -iter 2048, or Windows Export-PfxCertificate)", what, units, m.limit-m.spent, m.limit)}
	}
	return nil
}

// Fits reports a KindWorkLimit error when a file's visible work, as Scan priced it, exceeds
// the budget of lim: the MAC, every encrypted item and every key in the clear part, each once.
func (p *Plan) Fits(lim Limits) error {
	return newMeter(nil, lim.MaxWork).fits(p.MACCost+p.ItemsCost+p.KeysCost, "what the file shows before decryption")
}

// alive returns a KindCanceled error once the context is done.
func (m *meter) alive() error {
	if m.ctx == nil {
		return nil
	}
	if err := m.ctx.Err(); err != nil {
		return &Error{Kind: KindCanceled, Message: "reading the file was stopped: " + err.Error(), cause: err}
	}
	return nil
}

// compressionWeight is the cost in units of one compression of d's hash, relative to SHA-256.
func compressionWeight(d digest) int64 {
	h := d.new()
	switch {
	case h.BlockSize() >= 128:
		return 3
	case h.Size() == 16: // MD5 has no hardware support
		return 2
	}
	return 1
}

// pkcs12KDFCost is the cost of one PKCS#12 KDF derivation of n bytes.
func pkcs12KDFCost(d digest, iterations, n int) int64 {
	u := d.new().Size()
	blocks := (n + u - 1) / u
	return int64(iterations) * int64(blocks) * compressionWeight(d)
}

// pbkdf2Cost is the cost of one PBKDF2 derivation of n bytes with HMAC-d.
func pbkdf2Cost(d digest, iterations, n int) int64 {
	u := d.new().Size()
	blocks := (n + u - 1) / u
	return int64(iterations) * int64(blocks) * 2 * compressionWeight(d)
}
