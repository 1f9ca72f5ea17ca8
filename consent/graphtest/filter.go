package graphtest

import (
	"fmt"
	"strings"
	"unicode"
)

// filterClause is one "property op literal" comparison of an OData $filter.
type filterClause struct {
	Prop  string
	Op    string // eq, ne, ge, gt, le, lt
	Value string
}

// parseFilter parses the subset of OData $filter the emulator supports: comparisons
// `prop eq 'string'` (with ” escaping a quote) or `prop eq literal` (GUIDs, true, false, numbers)
// joined by `and`. An empty filter yields no clauses. Anything else is an error, which Graph
// reports as 400 Request_UnsupportedQuery. It never panics.
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
		case "eq", "ne", "ge", "gt", "le", "lt":
		default:
			return nil, fmt.Errorf("only eq, ne, ge, gt, le and lt comparisons are supported, got %q", trunc(op))
		}
		if !ok {
			return nil, fmt.Errorf("expected a comparison after %q", trunc(prop))
		}
		after = strings.TrimLeftFunc(after, unicode.IsSpace)
		var val string
		if strings.HasPrefix(after, "'") {
			var b strings.Builder
			i, closed := 1, false
			for i < len(after) {
				if after[i] == '\'' {
					if i+1 < len(after) && after[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					closed = true
					i++
					break
				}
				b.WriteByte(after[i])
				i++
			}
			if !closed {
				return nil, fmt.Errorf("unterminated string literal")
			}
			val, rest = b.String(), after[i:]
		} else {
			lit, r, _ := cutSpace(after)
			if lit == "" || strings.ContainsAny(lit, "'()") {
				return nil, fmt.Errorf("expected a literal after %s %s", prop, op)
			}
			val, rest = lit, r
		}
		out = append(out, filterClause{Prop: prop, Op: op, Value: val})
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
		}
		if !ok {
			return false
		}
	}
	return true
}
