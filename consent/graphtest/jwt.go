package graphtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// jwtParts is a compact JWS split into its decoded parts. Parsing never verifies; callers check
// the signature with verify.
type jwtParts struct {
	Header       map[string]any
	Claims       map[string]any
	SigningInput string // base64url(header) + "." + base64url(claims)
	Signature    []byte
}

var errMalformedJWT = errors.New("malformed JWT")

// parseJWT splits a compact JWS. It accepts only three base64url parts whose first two are JSON
// objects; anything else yields errMalformedJWT. It never panics on any input.
func parseJWT(token string) (*jwtParts, error) {
	if len(token) > 64<<10 {
		return nil, fmt.Errorf("%w: longer than 64 KiB", errMalformedJWT)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: want 3 dot-separated parts, got %d", errMalformedJWT, len(parts))
	}
	var p jwtParts
	for i, dst := range []*map[string]any{&p.Header, &p.Claims} {
		raw, err := decodeB64Any(parts[i])
		if err != nil {
			return nil, fmt.Errorf("%w: part %d is not base64url", errMalformedJWT, i+1)
		}
		if err := json.Unmarshal(raw, dst); err != nil || *dst == nil {
			return nil, fmt.Errorf("%w: part %d is not a JSON object", errMalformedJWT, i+1)
		}
	}
	sig, err := decodeB64Any(parts[2])
	if err != nil {
		return nil, fmt.Errorf("%w: signature is not base64url", errMalformedJWT)
	}
	p.SigningInput = parts[0] + "." + parts[1]
	p.Signature = sig
	return &p, nil
}

// decodeB64Any decodes base64 in either alphabet, padded or not. MSAL Go sends x5t#S256 in the
// standard alphabet while the JOSE specs (and Microsoft's docs) say base64url: accept both.
func decodeB64Any(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
	return base64.RawURLEncoding.DecodeString(s)
}

func (p *jwtParts) str(claim string) string {
	v, _ := p.Claims[claim].(string)
	return v
}

func (p *jwtParts) hdr(name string) string {
	v, _ := p.Header[name].(string)
	return v
}

// num returns a numeric claim (JSON numbers decode as float64) and whether it was present.
func (p *jwtParts) num(claim string) (int64, bool) {
	switch v := p.Claims[claim].(type) {
	case float64:
		return int64(v), true
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	}
	return 0, false
}

// verify checks the signature with pub for RS256 or PS256.
func (p *jwtParts) verify(pub *rsa.PublicKey) error {
	h := sha256.Sum256([]byte(p.SigningInput))
	switch alg := p.hdr("alg"); alg {
	case "RS256":
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], p.Signature)
	case "PS256":
		return rsa.VerifyPSS(pub, crypto.SHA256, h[:], p.Signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	default:
		return fmt.Errorf("unsupported alg %q (want PS256 or RS256)", alg)
	}
}

// signRS256 builds a compact JWS over claims with key, naming kid in the header.
func signRS256(key *rsa.PrivateKey, kid string, claims map[string]any) (string, error) {
	hdr, err := json.Marshal(map[string]any{"alg": "RS256", "typ": "JWT", "kid": kid})
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(body)
	h := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
	if err != nil {
		return "", err
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
