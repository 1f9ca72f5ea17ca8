package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/tenantapps/tenantapps/permissions"
)

// catalogHelp is the help text of --catalog, which every command that reads the catalog accepts.
const catalogHelp = "an embedder's catalog `file` laid over the default catalog (its own app types, services and consent rules; see package permissions, Overlay); repeatable"

// catalogFlag registers the repeatable --catalog flag.
func catalogFlag(fs *flag.FlagSet) *listFlag {
	var l listFlag
	fs.Var(&l, "catalog", catalogHelp)
	return &l
}

// loadCatalog returns the default catalog with files laid over it, in order (permissions.Overlay).
// A file that cannot be read, or any problem of any file, is an error that lists them all.
func loadCatalog(files []string) (*permissions.Catalog, error) {
	if len(files) == 0 {
		return permissions.Default(), nil
	}
	overlays, err := readCatalogFiles(files)
	if err != nil {
		return nil, err
	}
	return permissions.Overlay(permissions.Default(), overlays...)
}

func readCatalogFiles(files []string) ([]permissions.OverlayFile, error) {
	var overlays []permissions.OverlayFile
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("reading a catalog file: %w", err)
		}
		overlays = append(overlays, permissions.OverlayFile{Name: name, Data: data})
	}
	return overlays, nil
}
