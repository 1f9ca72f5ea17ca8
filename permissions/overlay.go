package permissions

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// OverlayFile is one embedder's catalog file laid over a base catalog (see Overlay). Name labels
// the file in problems, e.g. its path.
type OverlayFile struct {
	Name string
	Data []byte
}

// Overlay returns base (permissions.Default() when nil) with the embedder's files laid over it,
// in order, validated together like Load, every problem of every file reported at once in a
// *ValidationError (errors.Is(err, ErrInvalidCatalog)) with the file's name in each path.
//
// A file has the catalog format (see the package documentation), with every section optional
// except "version": "services", "consentRules", "appTypes" and "sources" entries whose name
// (resourceAppId for sources, id for rules) matches one already present replace it; others are
// added after the base's. So an embedder's app type may be new — with its own family, services,
// modes, vendor appId, permissions, roles and consent rules, or rules of the base referenced by ID
// — or replace a default one of the same name. The result's version is the base's version and
// each file's version joined by "+", e.g. "2026.12.04+acme.3", so profiles record exactly which
// catalog they were consented at.
//
// Overlay is pure; it reads no files (the caller does).
func Overlay(base *Catalog, files ...OverlayFile) (*Catalog, error) {
	if base == nil {
		base = Default()
	}
	merged := base.file()
	for i := range merged.AppTypes {
		// Derived fields are recomputed; app types sharing another's list follow their source.
		merged.AppTypes[i].Shape = ""
		if merged.AppTypes[i].PermissionsFrom != "" {
			merged.AppTypes[i].Permissions = nil
		}
	}
	o := &origins{}
	o.fill("default catalog "+base.Version(), merged)
	var problems []Problem
	for fi, f := range files {
		name := f.Name
		if name == "" {
			name = fmt.Sprintf("overlay[%d]", fi)
		}
		var of catalogFile
		dec := json.NewDecoder(bytes.NewReader(f.Data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&of); err != nil {
			problems = append(problems, Problem{Path: name, Message: "not a catalog JSON document: " + err.Error()})
			continue
		}
		if dec.More() {
			problems = append(problems, Problem{Path: name, Message: "trailing data after the catalog JSON object"})
			continue
		}
		if strings.TrimSpace(of.Version) == "" {
			problems = append(problems, Problem{Path: name + ": version", Message: "missing: give your catalog file a version so changes can be diffed and reported"})
		} else {
			merged.Version += "+" + of.Version
		}
		for i, s := range of.Sources {
			at := replaceOrAppend(&merged.Sources, s, func(x Source) bool { return x.ResourceAppID == s.ResourceAppID })
			o.set("sources", at, name, i)
		}
		for i, s := range of.Services {
			at := replaceOrAppend(&merged.Services, s, func(x Service) bool { return normalize(x.Name) == normalize(s.Name) })
			o.set("services", at, name, i)
		}
		for i, r := range of.ConsentRules {
			at := replaceOrAppend(&merged.ConsentRules, r, func(x ConsentRule) bool { return x.ID == r.ID })
			o.set("consentRules", at, name, i)
		}
		for i, a := range of.AppTypes {
			at := replaceOrAppend(&merged.AppTypes, a, func(x appTypeJSON) bool { return normalize(x.Name) == normalize(a.Name) })
			o.set("appTypes", at, name, i)
		}
	}
	c, err := build(merged)
	if err != nil {
		if ve, ok := err.(*ValidationError); ok {
			for _, p := range ve.Problems {
				problems = append(problems, Problem{Path: o.rewrite(p.Path), Message: p.Message})
			}
		} else {
			problems = append(problems, Problem{Path: "$", Message: err.Error()})
		}
	}
	if len(problems) > 0 {
		return nil, &ValidationError{Problems: problems}
	}
	return c, nil
}

func replaceOrAppend[T any](list *[]T, v T, same func(T) bool) int {
	for i, x := range *list {
		if same(x) {
			(*list)[i] = v
			return i
		}
	}
	*list = append(*list, v)
	return len(*list) - 1
}

// origins remembers, per section and merged index, which file and index an entry came from, so
// a problem found in the merged catalog names the file the embedder must fix.
type origins struct {
	m map[string]map[int]origin
}

type origin struct {
	file  string
	index int
}

func (o *origins) set(section string, at int, file string, index int) {
	if o.m == nil {
		o.m = map[string]map[int]origin{}
	}
	if o.m[section] == nil {
		o.m[section] = map[int]origin{}
	}
	o.m[section][at] = origin{file, index}
}

func (o *origins) fill(file string, f *catalogFile) {
	for i := range f.Sources {
		o.set("sources", i, file, i)
	}
	for i := range f.Services {
		o.set("services", i, file, i)
	}
	for i := range f.ConsentRules {
		o.set("consentRules", i, file, i)
	}
	for i := range f.AppTypes {
		o.set("appTypes", i, file, i)
	}
}

var sectionIndex = regexp.MustCompile(`^(sources|services|consentRules|appTypes)\[(\d+)\]`)

// rewrite turns "appTypes[33] (Acme).x" into "acme.json: appTypes[0] (Acme).x".
func (o *origins) rewrite(path string) string {
	m := sectionIndex.FindStringSubmatch(path)
	if m == nil {
		return "merged catalog: " + path
	}
	i, _ := strconv.Atoi(m[2])
	org, ok := o.m[m[1]][i]
	if !ok {
		return "merged catalog: " + path
	}
	return fmt.Sprintf("%s: %s[%d]%s", org.file, m[1], org.index, path[len(m[0]):])
}
