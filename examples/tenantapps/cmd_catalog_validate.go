package main

import (
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/tenantapps/tenantapps/permissions"
)

type catalogValidateJSON struct {
	Valid    bool                  `json:"valid"`
	Version  string                `json:"version,omitempty"`
	AppTypes int                   `json:"appTypes,omitempty"`
	Added    []string              `json:"added"`
	Replaced []string              `json:"replaced"`
	Problems []permissions.Problem `json:"problems"`
}

// runCatalogValidate checks embedder catalog files laid over the default catalog.
func runCatalogValidate(env *cliEnv, args []string) int {
	fs := newFlagSet(env, "catalog validate", "usage: tenantapps catalog validate [--format table|json] FILE...\n\nChecks catalog files laid over the default catalog and reports every problem of every file. Exit 0 valid, 1 invalid.")
	format := formatFlag(fs)
	if code, ok := parseCommon(env, fs, args, format, commonOpts{}); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return usageError(env, fs, "name at least one catalog FILE")
	}
	files, err := readCatalogFiles(fs.Args())
	if err != nil {
		return usageError(env, fs, "%v", err)
	}
	out := catalogValidateJSON{Added: []string{}, Replaced: []string{}, Problems: []permissions.Problem{}}
	c, err := permissions.Overlay(permissions.Default(), files...)
	var ve *permissions.ValidationError
	switch {
	case errors.As(err, &ve):
		out.Problems = ve.Problems
	case err != nil:
		fmt.Fprintf(env.stderr, "tenantapps catalog validate: %v\n", err)
		return exitNegative
	default:
		out.Valid, out.Version, out.AppTypes = true, c.Version(), len(c.AppTypes())
		def := permissions.Default()
		for _, ch := range permissions.Diff(def, c) {
			if ch.Kind == permissions.AppTypeAdded {
				out.Added = append(out.Added, ch.AppType)
			}
		}
		for _, a := range c.AppTypes() {
			if d, err := def.AppType(a.Name); err == nil && !sameAppType(d, a) {
				out.Replaced = append(out.Replaced, a.Name)
			}
		}
	}
	if !writeResult(env, fs, *format, out, func(w io.Writer) error { return writeCatalogValidateTable(w, out) }) {
		return exitNegative
	}
	if !out.Valid {
		return exitNegative
	}
	return exitOK
}

// sameAppType reports whether an overlay left a default app type as it was (every field).
func sameAppType(a, b permissions.AppType) bool { return reflect.DeepEqual(a, b) }

func writeCatalogValidateTable(w io.Writer, out catalogValidateJSON) error {
	if !out.Valid {
		fmt.Fprintf(w, "Invalid: %d problem(s); fix them and validate again:\n", len(out.Problems))
		for _, p := range out.Problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
		return nil
	}
	fmt.Fprintf(w, "Valid: catalog %s, %d app types\n", out.Version, out.AppTypes)
	for _, a := range out.Added {
		fmt.Fprintf(w, "  added:    %s\n", a)
	}
	for _, a := range out.Replaced {
		fmt.Fprintf(w, "  replaced: %s\n", a)
	}
	return nil
}
