package permissions

import (
	"encoding/json"
	"testing"
)

// BenchmarkLoadDefault measures parsing and validating the embedded catalog (Default pays it
// once per process).
func BenchmarkLoadDefault(b *testing.B) {
	data := DefaultJSON()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppTypeLookup measures the hot path of the manager: one lookup by alias, with the
// deep copy it returns.
func BenchmarkAppTypeLookup(b *testing.B) {
	c := Default()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.AppType("Custom app with delegated permissions"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppTypeLookupBaseline(b *testing.B) {
	c := Default()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.AppType("APElements Baseline Management"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDiffDefault(b *testing.B) {
	old := Default()
	sa, _ := old.AppType("APElements Security and Analysis")
	next, err := old.With("next", AddPermission("APElements Baseline Management", sa.Permissions[0]))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if len(Diff(old, next)) != 2 {
			b.Fatal("want 2 changes")
		}
	}
}

func BenchmarkExportJSON(b *testing.B) {
	c := Default()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(c); err != nil {
			b.Fatal(err)
		}
	}
}
