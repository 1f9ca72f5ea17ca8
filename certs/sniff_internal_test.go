package certs

import (
	"bytes"
	"encoding/pem"
	"testing"
)

// FuzzScanPEM: the linear PEM scanner never panics, never returns more than MaxPEMBlocks
// blocks, and finds every block encoding/pem writes, with its bytes, in any surrounding text.
func FuzzScanPEM(f *testing.F) {
	f.Add([]byte("junk\n-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n"), []byte{1, 2, 3})
	f.Add([]byte("-----BEGIN X-----\r\n-----END Y-----\r\n"), []byte{})
	f.Fuzz(func(t *testing.T, data, payload []byte) {
		blocks, err := scanPEM(data, func(string) bool { return true })
		if err == nil && len(blocks) > MaxPEMBlocks {
			t.Fatalf("%d blocks", len(blocks))
		}
		// A block written by encoding/pem after arbitrary text (ending in a newline) is found.
		var buf bytes.Buffer
		buf.Write(bytes.ReplaceAll(data, []byte("-----"), nil))
		buf.WriteByte('\n')
		if err := pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: payload}); err != nil {
			t.Fatal(err)
		}
		got, err := scanPEM(buf.Bytes(), func(string) bool { return true })
		if err != nil || len(got) == 0 {
			t.Fatalf("scanPEM of an encoded block: %d blocks, %v", len(got), err)
		}
		last := got[len(got)-1]
		if last.Type != "CERTIFICATE" || !bytes.Equal(last.Bytes, payload) {
			t.Fatalf("block = %q %x, want CERTIFICATE %x", last.Type, last.Bytes, payload)
		}
	})
}

// FuzzDERShape: recognising a structure never panics, and the key-size checks never panic on
// anything that looks like a key.
func FuzzDERShape(f *testing.F) {
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = derShape(data)
		_ = checkPKCS8Size(data)
		_ = checkPKCS1Size(data, "key")
	})
}
