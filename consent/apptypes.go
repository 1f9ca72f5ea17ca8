package consent

import (
	"slices"
	"strings"
	"sync"

	"github.com/tenantapps/tenantapps/permissions"
)

// Rulebook is the consent rules of one permission catalog: which app types exist, the services
// each serves, and which of the catalog's consent rules apply to each (AppType.Consent and
// Catalog.ConsentRules in package permissions). The rules are data: an embedder's catalog (see
// permissions.Overlay) brings its own app types and rules, and a Rulebook built from it applies
// them exactly like AvePoint's.
//
// A Rulebook is immutable and safe for concurrent use. The package-level functions (PolicyFor,
// Evaluate, Methods, ...) use DefaultRulebook, the rules of permissions.Default().
type Rulebook struct {
	catalog *permissions.Catalog
	apps    []appTypeInfo
	index   map[string]int // normalized name or alias → apps index
	rules   map[string]permissions.ConsentRule
	infos   []RuleInfo
}

// appTypeInfo is what the consent rules need to know about an app type.
type appTypeInfo struct {
	name         string
	entraAppName string
	aliases      []string
	family       string
	services     []string
	consent      permissions.AppConsent
}

// NewRulebook returns the consent rules of cat (permissions.Default() when nil). Load has
// validated every reference and requirement, so building cannot fail.
func NewRulebook(cat *permissions.Catalog) *Rulebook {
	if cat == nil {
		cat = permissions.Default()
	}
	b := &Rulebook{catalog: cat, index: map[string]int{}, rules: map[string]permissions.ConsentRule{}}
	for _, r := range cat.ConsentRules() {
		b.rules[r.ID] = r
		info := RuleInfo{ID: RuleID(r.ID), Summary: r.Summary, Seed: r.Source}
		for _, m := range r.Methods {
			info.Methods = append(info.Methods, Method(m))
		}
		b.infos = append(b.infos, info)
	}
	for i, a := range cat.AppTypes() {
		b.apps = append(b.apps, appTypeInfo{name: a.Name, entraAppName: a.EntraAppName, aliases: a.Aliases,
			family: string(a.Family), services: a.Services, consent: a.Consent})
		b.index[normalizeName(a.Name)] = i
		for _, alias := range a.Aliases {
			b.index[normalizeName(alias)] = i
		}
	}
	return b
}

var defaultRulebook = sync.OnceValue(func() *Rulebook { return NewRulebook(permissions.Default()) })

// DefaultRulebook returns the rules of the default catalog (permissions.Default()): seed 003's
// rules for AvePoint's app types. It is built once and immutable.
func DefaultRulebook() *Rulebook { return defaultRulebook() }

// Catalog returns the catalog the rules were taken from.
func (b *Rulebook) Catalog() *permissions.Catalog { return b.catalog }

// normalizeName folds case and collapses white space, so "viva  engage" finds "Viva Engage".
func normalizeName(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

func (b *Rulebook) lookupAppType(name string) (appTypeInfo, bool) {
	i, ok := b.index[normalizeName(name)]
	if !ok {
		return appTypeInfo{}, false
	}
	return b.apps[i], true
}

// serves returns the canonical spelling of service when the app type serves it.
func (a appTypeInfo) serves(service string) (string, bool) {
	key := normalizeName(service)
	for _, s := range a.services {
		if normalizeName(s) == key {
			return s, true
		}
	}
	return "", false
}

// AppTypes returns the canonical names of every app type of the rulebook's catalog, in catalog
// order. The slice is a fresh copy.
func (b *Rulebook) AppTypes() []string {
	out := make([]string, len(b.apps))
	for i, a := range b.apps {
		out[i] = a.name
	}
	return out
}

// ServicesOf returns the services an app type serves, by canonical name, or an error wrapping
// ErrUnknownAppType that lists the valid names. The slice is a fresh copy.
func (b *Rulebook) ServicesOf(appType string) ([]string, error) {
	a, ok := b.lookupAppType(appType)
	if !ok {
		return nil, b.unknownAppType(appType)
	}
	return slices.Clone(a.services), nil
}

func (b *Rulebook) unknownAppType(name string) error {
	return &TargetError{AppType: name, Valid: b.AppTypes(), Err: ErrUnknownAppType}
}

// AppTypes returns the app types of the default catalog (DefaultRulebook().AppTypes()).
func AppTypes() []string { return DefaultRulebook().AppTypes() }

// ServicesOf is DefaultRulebook().ServicesOf.
func ServicesOf(appType string) ([]string, error) { return DefaultRulebook().ServicesOf(appType) }
