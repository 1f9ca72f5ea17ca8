package pfx

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDecodeWorkBudget: every derivation is charged before it runs. A right password on a file
// that needs more than MaxWork is refused with KindWorkLimit; a wrong password is still reported
// as one once the MAC has failed, however little budget the diagnosis has left.
func TestDecodeWorkBudget(t *testing.T) {
	tests := []struct {
		file, password string
		maxWork        int64
		want           Kind // 0: opens
	}{
		{"iter-100000.pfx", "Pa55-word", 501_000, 0},               // MAC 100,000 + two PBKDF2-SHA256 bags 200,000 each + input sizes
		{"iter-100000.pfx", "Pa55-word", 499_999, KindWorkLimit},   // one unit short
		{"iter-100000.pfx", "wrong", 100_200, KindWrongPassword},   // the MAC alone decides
		{"iter-100000.pfx", "wrong", 99_999, KindWorkLimit},        // not even the MAC fits
		{"nomac-encrypted.pfx", "Pa55-word", 4_095, KindWorkLimit}, // no MAC: every item must decrypt
		{"password-bmp-legacy.pfx", "pä€w-Ünïcødé", 13_500, 0},     // the MAC fixes the encoding: no retry of items
	}
	for _, tt := range tests {
		data, err := os.ReadFile("../../testdata/corpus/" + tt.file)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Decode(context.Background(), data, tt.password, Limits{MaxWork: tt.maxWork})
		var got Kind
		var e *Error
		if errors.As(err, &e) {
			got = e.Kind
		} else if err != nil {
			t.Fatalf("%s: %T %v", tt.file, err, err)
		}
		if got != tt.want {
			t.Errorf("%s (%q, MaxWork %d): kind %d (%v), want %d", tt.file, tt.password, tt.maxWork, got, err, tt.want)
		}
		if err == nil && res.Info.Work > tt.maxWork {
			t.Errorf("%s: spent %d, more than MaxWork %d", tt.file, res.Info.Work, tt.maxWork)
		}
	}
}

// TestScanPlan: Scan prices what it sees without deriving, and says whether the first key bag
// comes before any encrypted item (Java keytool) or not (OpenSSL).
func TestScanPlan(t *testing.T) {
	type plan struct {
		Items, Encrypted             int
		MACCost, ItemsCost, KeysCost int64
		KeyFirst                     bool
	}
	tests := []struct {
		file string
		want plan
	}{
		{"iter-2048.pfx", plan{Items: 2, Encrypted: 1, MACCost: 2048, ItemsCost: 4096, KeysCost: 4096}},
		{"keytool-default.pfx", plan{Items: 2, Encrypted: 1, MACCost: 10000, ItemsCost: 20000, KeysCost: 20000, KeyFirst: true}},
		{"keyvault-nopassword.pfx", plan{Items: 2, MACCost: 2048, KeyFirst: true}},
	}
	for _, tt := range tests {
		data, err := os.ReadFile("../../testdata/corpus/" + tt.file)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Scan(data, Limits{})
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		got := plan{p.Items, p.Encrypted, p.MACCost, p.ItemsCost, p.KeysCost, p.KeyFirst}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: plan (-want +got):\n%s", tt.file, diff)
		}
	}
}

// TestDecodeMACTried: when go-pkcs12 already found the MAC wrong, Decode does not derive it
// again, and still tells a wrong password (nothing decrypts) from a damaged MAC (the password
// decrypts the contents).
func TestDecodeMACTried(t *testing.T) {
	data, err := os.ReadFile("../../testdata/corpus/keytool-default.pfx")
	if err != nil {
		t.Fatal(err)
	}
	// MAC 10,000 units; with it tried already, a wrong password costs only the diagnosis.
	_, err = Decode(context.Background(), data, "wrong", Limits{MACTried: true, MaxWork: 9_999})
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindWrongPassword {
		t.Errorf("wrong password, MAC tried: %v, want KindWrongPassword", err)
	}
	damaged := append([]byte{}, data...)
	damaged[len(damaged)-30] ^= 0x80 // inside the MAC digest
	_, err = Decode(context.Background(), damaged, "Pa55-word", Limits{MACTried: true})
	if !errors.As(err, &e) || e.Kind != KindCorrupt {
		t.Errorf("damaged MAC, MAC tried: %v, want KindCorrupt", err)
	}
}
