package appprofile_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tenantapps/tenantapps/appprofile"
)

// TestInspectPFXContext: the default inspection stops when the caller's context ends (a portal
// request abandoned mid-upload) and returns that as an error, not as a problem of the file; a
// file that would cost too much is a problem like any other.
func TestInspectPFXContext(t *testing.T) {
	now := time.Now()
	_, pfx := selfSigned(t, "contoso-ctx", now.Add(-time.Hour), 24*time.Hour, "s3cret-pw")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, problems, err := appprofile.InspectPFXContext(ctx, pfx, "s3cret-pw", now); !errors.Is(err, context.Canceled) || problems != nil {
		t.Errorf("canceled: problems %v, err %v; want context.Canceled and no problems", problems, err)
	}
	info, problems, err := appprofile.InspectPFXContext(context.Background(), pfx, "s3cret-pw", now)
	if err != nil || len(problems) != 0 || info.Thumbprint == "" {
		t.Errorf("live context: %+v %v %v", info, problems, err)
	}
	// A .pfx whose encrypted item demands 10,000,000 PBKDF2 iterations.
	_, problems, err = appprofile.InspectPFXContext(context.Background(), hostilePFX, "s3cret-pw", now)
	if err != nil || len(problems) != 1 || !strings.HasPrefix(problems[0], "work_limit") {
		t.Errorf("hostile file: problems %v, err %v; want one work_limit problem", problems, err)
	}
}

// hostilePFX is PFX{3, data(AuthenticatedSafe{EncryptedData(PBES2 PBKDF2-HMAC-SHA256 10,000,000
// iterations, AES-256-CBC)})} without a MAC, written out byte by byte.
var hostilePFX = func() []byte {
	kdf := derSeq(derOID(1, 2, 840, 113549, 1, 5, 12), derSeq(derTLV(0x04, make([]byte, 8)), derTLV(0x02, []byte{0x00, 0x98, 0x96, 0x80}), derSeq(derOID(1, 2, 840, 113549, 2, 9))))
	alg := derSeq(derOID(1, 2, 840, 113549, 1, 5, 13), derSeq(kdf, derSeq(derOID(2, 16, 840, 1, 101, 3, 4, 1, 42), derTLV(0x04, make([]byte, 16)))))
	encrypted := derSeq(derOID(1, 2, 840, 113549, 1, 7, 6), derTLV(0xa0, derSeq(derTLV(0x02, []byte{0}), derSeq(derOID(1, 2, 840, 113549, 1, 7, 1), alg, derTLV(0x80, make([]byte, 32))))))
	return derSeq(derTLV(0x02, []byte{3}), derSeq(derOID(1, 2, 840, 113549, 1, 7, 1), derTLV(0xa0, derTLV(0x04, derSeq(encrypted)))))
}()

func derTLV(tag byte, content []byte) []byte {
	n := len(content)
	var l []byte
	switch {
	case n < 0x80:
		l = []byte{byte(n)}
	case n < 0x100:
		l = []byte{0x81, byte(n)}
	default:
		l = []byte{0x82, byte(n >> 8), byte(n)}
	}
	return append(append([]byte{tag}, l...), content...)
}

func derSeq(parts ...[]byte) []byte {
	var c []byte
	for _, p := range parts {
		c = append(c, p...)
	}
	return derTLV(0x30, c)
}

func derOID(arcs ...int) []byte {
	c := []byte{byte(arcs[0]*40 + arcs[1])}
	for _, a := range arcs[2:] {
		var b []byte
		for b = []byte{byte(a & 0x7f)}; a > 0x7f; {
			a >>= 7
			b = append([]byte{byte(a&0x7f) | 0x80}, b...)
		}
		c = append(c, b...)
	}
	return derTLV(0x06, c)
}
