// Package ber rewrites BER-encoded ASN.1 (as written by NSS pk12util, some Java keytool versions,
// macOS Keychain and EJBCA) into DER, so that DER-only parsers (encoding/asn1, cryptobyte) can read
// it.
//
// ToDER changes only the encoding, never the values: indefinite lengths become definite, long-form
// lengths become minimal, and constructed (segmented) string types become one primitive string
// whose value is the concatenation of the segments. It does not sort SET OF elements or rewrite
// non-canonical BOOLEAN / INTEGER contents; a PKCS#12 reader does not need that.
//
// Context-specific and application tags are kept as they are (constructed stays constructed),
// because without the schema ToDER cannot tell an IMPLICIT [0] OCTET STRING from an EXPLICIT [0]
// wrapper; the caller resolves those with Flatten.
//
// All functions are safe for concurrent use, never panic on bad input, and bound recursion depth.
package ber

import (
	"bytes"
	"errors"
	"fmt"
)

// MaxDepth is the deepest nesting ToDER accepts. PKCS#12 files nest about 12 levels.
const MaxDepth = 64

// ErrTruncated reports input that ends inside an element (a cut-off download or upload).
var ErrTruncated = errors.New("ber: data is truncated")

// ErrSyntax reports input that is not BER at all.
var ErrSyntax = errors.New("ber: not valid BER/DER")

// Universal tags whose constructed form is a sequence of segments of the same type (X.690 8.21).
var stringTags = map[int]bool{
	3: true, 4: true, 12: true, 18: true, 19: true, 20: true, 21: true, 22: true, 25: true,
	26: true, 27: true, 28: true, 30: true,
}

// Info describes what ToDER had to change.
type Info struct {
	// Changed is true when the output differs from the input (the input was BER, not DER).
	Changed bool
	// Indefinite is true when the input used indefinite-length encoding somewhere.
	Indefinite bool
}

// ToDER returns the DER form of the single ASN.1 element in b. Trailing bytes after the element
// are an error. The result shares no memory with b.
func ToDER(b []byte) ([]byte, Info, error) {
	var info Info
	out, rest, err := element(b, 0, &info)
	if err != nil {
		return nil, info, err
	}
	if len(rest) != 0 {
		return nil, info, fmt.Errorf("%w: %d bytes of trailing data after the element", ErrSyntax, len(rest))
	}
	return out, info, nil
}

type header struct {
	class       byte // 0 universal, 1 application, 2 context, 3 private
	constructed bool
	tag         int
	idBytes     []byte // the identifier octets as written
	length      int    // -1 for indefinite
}

func readHeader(b []byte) (header, []byte, error) {
	var h header
	if len(b) < 1 {
		return h, nil, ErrTruncated
	}
	id := b[0]
	h.class = id >> 6
	h.constructed = id&0x20 != 0
	i := 1
	if id&0x1f != 0x1f {
		h.tag = int(id & 0x1f)
	} else {
		// High tag number form: base-128, at most 4 bytes so the value fits an int comfortably.
		for n := 0; ; n++ {
			if i >= len(b) {
				return h, nil, ErrTruncated
			}
			if n == 4 {
				return h, nil, fmt.Errorf("%w: tag number too large", ErrSyntax)
			}
			c := b[i]
			i++
			h.tag = h.tag<<7 | int(c&0x7f)
			if c&0x80 == 0 {
				break
			}
		}
	}
	h.idBytes = b[:i]
	if i >= len(b) {
		return h, nil, ErrTruncated
	}
	l := b[i]
	i++
	switch {
	case l < 0x80:
		h.length = int(l)
	case l == 0x80:
		if !h.constructed {
			return h, nil, fmt.Errorf("%w: indefinite length on a primitive element", ErrSyntax)
		}
		h.length = -1
	case l == 0xff:
		return h, nil, fmt.Errorf("%w: reserved length octet", ErrSyntax)
	default:
		n := int(l & 0x7f)
		if n > 8 {
			return h, nil, fmt.Errorf("%w: length of %d octets", ErrSyntax, n)
		}
		if i+n > len(b) {
			return h, nil, ErrTruncated
		}
		var v uint64
		for _, c := range b[i : i+n] {
			v = v<<8 | uint64(c)
		}
		i += n
		if v > uint64(len(b)-i) {
			return h, nil, fmt.Errorf("%w: an element declares %d bytes but only %d remain", ErrTruncated, v, len(b)-i)
		}
		h.length = int(v)
	}
	if h.length > len(b)-i {
		return h, nil, fmt.Errorf("%w: an element declares %d bytes but only %d remain", ErrTruncated, h.length, len(b)-i)
	}
	return h, b[i:], nil
}

// element parses one element from b, returning its DER encoding and the bytes after it.
func element(b []byte, depth int, info *Info) (out, rest []byte, err error) {
	if depth > MaxDepth {
		return nil, nil, fmt.Errorf("%w: nesting deeper than %d", ErrSyntax, MaxDepth)
	}
	h, body, err := readHeader(b)
	if err != nil {
		return nil, nil, err
	}
	if h.class == 0 && h.tag == 0 {
		return nil, nil, fmt.Errorf("%w: unexpected end-of-contents marker", ErrSyntax)
	}
	if !h.constructed {
		content := body[:h.length]
		out = appendElement(nil, h.idBytes, content)
		rest = body[h.length:]
		if !bytes.Equal(out, b[:len(b)-len(rest)]) {
			info.Changed = true // non-minimal length
		}
		return out, rest, nil
	}
	if h.length < 0 {
		info.Indefinite = true
		info.Changed = true
	}
	// Collect the DER encodings of the children.
	var children [][]byte
	var inner []byte
	if h.length >= 0 {
		inner, rest = body[:h.length], body[h.length:]
	} else {
		inner = body
	}
	for {
		if h.length >= 0 && len(inner) == 0 {
			break
		}
		if h.length < 0 {
			if len(inner) < 2 {
				return nil, nil, ErrTruncated
			}
			if inner[0] == 0 && inner[1] == 0 {
				rest = inner[2:]
				break
			}
		}
		var child []byte
		child, inner, err = element(inner, depth+1, info)
		if err != nil {
			return nil, nil, err
		}
		children = append(children, child)
	}
	if h.class == 0 && stringTags[h.tag] {
		// Constructed string: concatenate the segments into one primitive string.
		info.Changed = true
		content, err := joinSegments(h.tag, children)
		if err != nil {
			return nil, nil, err
		}
		id := append([]byte(nil), h.idBytes...)
		id[0] &^= 0x20
		return appendElement(nil, id, content), rest, nil
	}
	var content []byte
	for _, c := range children {
		content = append(content, c...)
	}
	out = appendElement(nil, h.idBytes, content)
	if !bytes.Equal(out, b[:len(b)-len(rest)]) {
		info.Changed = true
	}
	return out, rest, nil
}

// joinSegments concatenates the values of DER-encoded primitive segments of a constructed string.
func joinSegments(tag int, segments [][]byte) ([]byte, error) {
	var content []byte
	for i, s := range segments {
		h, v, err := readHeader(s)
		if err != nil {
			return nil, err
		}
		if h.class != 0 || h.tag != tag || h.constructed {
			return nil, fmt.Errorf("%w: segment of a constructed string has a different type", ErrSyntax)
		}
		v = v[:h.length]
		if tag == 3 { // BIT STRING: each segment starts with its unused-bits count
			if len(v) == 0 {
				return nil, fmt.Errorf("%w: empty BIT STRING segment", ErrSyntax)
			}
			if i == 0 {
				content = append(content, 0)
			}
			if v[0] != 0 && i != len(segments)-1 {
				return nil, fmt.Errorf("%w: unused bits in a middle BIT STRING segment", ErrSyntax)
			}
			content[0] = v[0]
			content = append(content, v[1:]...)
			continue
		}
		content = append(content, v...)
	}
	if tag == 3 && len(content) == 0 {
		content = []byte{0}
	}
	return content, nil
}

func appendElement(dst, id, content []byte) []byte {
	dst = append(dst, id...)
	n := len(content)
	switch {
	case n < 0x80:
		dst = append(dst, byte(n))
	default:
		var lb []byte
		for v := n; v > 0; v >>= 8 {
			lb = append([]byte{byte(v)}, lb...)
		}
		dst = append(dst, 0x80|byte(len(lb)))
		dst = append(dst, lb...)
	}
	return append(dst, content...)
}

// Flatten returns the value of an element that is either primitive or a constructed wrapper of
// primitive OCTET STRING segments (how NSS writes an IMPLICIT [0] OCTET STRING). der must be the
// DER output of ToDER for one element, including its identifier and length.
func Flatten(der []byte) ([]byte, error) {
	h, body, err := readHeader(der)
	if err != nil {
		return nil, err
	}
	body = body[:h.length]
	if !h.constructed {
		return body, nil
	}
	var out []byte
	for len(body) > 0 {
		sh, sv, err := readHeader(body)
		if err != nil {
			return nil, err
		}
		if sh.constructed || sh.class != 0 || sh.tag != 4 {
			return nil, fmt.Errorf("%w: constructed string holds a non-OCTET STRING segment", ErrSyntax)
		}
		out = append(out, sv[:sh.length]...)
		body = sv[sh.length:]
	}
	return out, nil
}
