package consent

import "strings"

// Summary is the policy's requirements as one sentence for people, e.g. "the consenting account
// needs the Global Administrator role". It is generated from Requirements, the same values
// Evaluate checks, so a page or a command that shows who may consent cannot disagree with the
// decision; requirements with a Condition say when they apply.
func (p Policy) Summary() string {
	parts := make([]string, 0, len(p.Requirements))
	for _, r := range p.Requirements {
		parts = append(parts, r.String())
	}
	if len(parts) == 0 {
		return "anyone the tenant lets consent may consent"
	}
	return strings.Join(parts, "; ")
}

// WhoMayConsent returns who may consent to the target with method, as Policy.Summary words it.
// Errors are PolicyFor's.
func WhoMayConsent(t Target, method Method) (string, error) {
	p, err := PolicyFor(t, method)
	if err != nil {
		return "", err
	}
	return p.Summary(), nil
}
