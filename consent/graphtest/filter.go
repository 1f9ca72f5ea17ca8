package graphtest

import (
	"fmt"
	"strings"
	"unicode"
)

// filterClause is one "property op literal" comparison of an OData $filter.
type filterClause struct {
	Prop  string
	Op    string // eq, ne, ge, gt, le, lt, in
	Value string
	// Values holds the list of an `in` clause.
	Values []string
}

// parseFilter parses the subset of OData $filter the emulator supports: comparisons
// `prop eq 'string'` (a doubled quote stands for one quote) or `prop eq literal` (GUIDs, true,
// false, numbers), and `prop in ('a', 'b', ...)` with string literals, joined by `and`. An empty
// filter yields no clauses. Anything else is an error, which Graph reports as 400
// Request_UnsupportedQuery. It never panics.
func parseFilter(f string) ([]filterClause, error) {
	var out []filterClause
	rest := strings.TrimSpace(f)
	for rest != "" {
		prop, after, ok := cutSpace(rest)
		if !ok || !validProp(prop) {
			return nil, fmt.Errorf("expected a property name at %q", trunc(rest))
		}
		op, after, ok := cutSpace(after)
		op = strings.ToLower(op)
		switch op {
		case "eq", "ne", "ge", "gt", "le", "lt", "in":
		default:
			return nil, fmt.Errorf("only eq, ne, ge, gt, le, lt and in comparisons are supported, got %q", trunc(op))
		}
		if !ok {
			return nil, fmt.Errorf("expected a comparison after %q", trunc(prop))
		}
		after = strings.TrimLeftFunc(after, unicode.IsSpace)
		clause := filterClause{Prop: prop, Op: op}
		switch {
		case op == "in":
			vals, r, err := parseInList(after)
			if err != nil {
				return nil, err
			}
			clause.Values, rest = vals, r
		case strings.HasPrefix(after, "'"):
			v, r, err := parseStringLiteral(after)
			if err != nil {
				return nil, err
			}
			clause.Value, rest = v, r
		default:
			lit, r, _ := cutSpace(after)
			if lit == "" || strings.ContainsAny(lit, "'()") {
				return nil, fmt.Errorf("expected a literal after %s %s", prop, op)
			}
			clause.Value, rest = lit, r
		}
		out = append(out, clause)
		rest = strings.TrimSpace(rest)
		if rest == "" {
			break
		}
		conj, r, ok := cutSpace(rest)
		if !ok || !strings.EqualFold(conj, "and") {
			return nil, fmt.Errorf("only 'and' joins clauses, got %q", trunc(conj))
		}
		rest = strings.TrimSpace(r)
		if rest == "" {
			return nil, fmt.Errorf("dangling 'and'")
		}
	}
	return out, nil
}

// parseStringLiteral parses the OData string literal at the start of s (single-quoted, a doubled
// quote standing for one quote) and returns its value and the rest of s.
func parseStringLiteral(s string) (val, rest string, err error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '\'' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		return b.String(), s[i+1:], nil
	}
	return "", "", fmt.Errorf("unterminated string literal")
}

// parseInList parses `('a', 'b')` at the start of s and returns the strings and the rest.
func parseInList(s string) (vals []string, rest string, err error) {
	if !strings.HasPrefix(s, "(") {
		return nil, "", fmt.Errorf("expected '(' after in")
	}
	s = s[1:]
	for {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
		if !strings.HasPrefix(s, "'") {
			return nil, "", fmt.Errorf("expected a string literal in the in list at %q", trunc(s))
		}
		v, r, err := parseStringLiteral(s)
		if err != nil {
			return nil, "", err
		}
		vals = append(vals, v)
		s = strings.TrimLeftFunc(r, unicode.IsSpace)
		switch {
		case strings.HasPrefix(s, ","):
			s = s[1:]
		case strings.HasPrefix(s, ")"):
			return vals, s[1:], nil
		default:
			return nil, "", fmt.Errorf("expected ',' or ')' in the in list at %q", trunc(s))
		}
	}
}

func cutSpace(s string) (head, tail string, ok bool) {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, "", s != ""
	}
	return s[:i], s[i:], true
}

func validProp(p string) bool {
	if p == "" {
		return false
	}
	for _, r := range p {
		if !(r == '/' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// matchFilter reports whether the JSON object satisfies every clause. eq and ne compare
// case-insensitively (GUIDs and UPNs are case-insensitive in Entra); booleans and numbers by
// their JSON text. ge/gt/le/lt compare the text, which orders the emulator's fixed-format UTC
// timestamps (createdDateTime ge 2024-01-01T00:00:00Z). A nested property uses a slash
// (status/errorCode).
func matchFilter(obj map[string]any, clauses []filterClause) bool {
	for _, c := range clauses {
		var v any = obj
		for _, part := range strings.Split(c.Prop, "/") {
			m, ok := v.(map[string]any)
			if !ok {
				return false
			}
			v = m[part]
		}
		got := fmt.Sprint(v)
		var ok bool
		switch c.Op {
		case "", "eq":
			ok = strings.EqualFold(got, c.Value)
		case "ne":
			ok = !strings.EqualFold(got, c.Value)
		case "ge":
			ok = got >= c.Value
		case "gt":
			ok = got > c.Value
		case "le":
			ok = got <= c.Value
		case "lt":
			ok = got < c.Value
		case "in":
			for _, want := range c.Values {
				if strings.EqualFold(got, want) {
					ok = true
					break
				}
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
