package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/tenantapps/tenantapps/consent/graph"
)

// readerPermissionsCommand lists the Microsoft Graph application permissions the MSP's reading
// app (profiles verify, $TENANTAPPS_READER_APP_ID) needs, and which Graph request needs each —
// the driver's typed contract, graph.ReaderReads.
//
//	tenantapps reader-permissions [--format table|json]
//
// --format json prints
//
//	{"permissions": ["AuditLog.Read.All", ...],
//	 "reads": [{"operation", "request", "permissions": [...], "doc", "optional"}]}
//
// permissions is what to grant (and admin-consent) to the reading app in every customer tenant;
// doc is the microsoft-graph-docs-contrib page that documents the permission for the request.
func readerPermissionsCommand() command {
	return command{summary: "the Graph permissions the reading app needs, and the read that needs each", run: runReaderPermissions}
}

type readerPermissionsJSON struct {
	Permissions []string         `json:"permissions"`
	Reads       []readerReadJSON `json:"reads"`
}

type readerReadJSON struct {
	Operation   string   `json:"operation"`
	Request     string   `json:"request"`
	Permissions []string `json:"permissions"`
	Doc         string   `json:"doc"`
	Optional    bool     `json:"optional,omitempty"`
}

func runReaderPermissions(env *cliEnv, args []string) int {
	fs := newFlagSet(env, "reader-permissions", "usage: tenantapps reader-permissions [--format table|json]\n\nPrints the Microsoft Graph application permissions the MSP's reading app needs in every customer tenant, and the Graph request that needs each.")
	format := formatFlag(fs)
	if code, ok := parseCommon(env, fs, args, format, commonOpts{noArgs: true}); !ok {
		return code
	}
	out := describeReaderPermissions()
	if !writeResult(env, fs, *format, out, func(w io.Writer) error { return writeReaderPermissionsTable(w, out) }) {
		return exitNegative
	}
	return exitOK
}

func describeReaderPermissions() readerPermissionsJSON {
	out := readerPermissionsJSON{Permissions: graph.ReaderPermissions(true)}
	for _, r := range graph.ReaderReads() {
		out.Reads = append(out.Reads, readerReadJSON{Operation: r.Operation, Request: r.Request, Permissions: r.Permissions, Doc: r.Doc, Optional: r.Optional})
	}
	return out
}

func writeReaderPermissionsTable(w io.Writer, out readerPermissionsJSON) error {
	fmt.Fprintf(w, "Grant the reading app these Microsoft Graph application permissions (admin consent in every customer tenant):\n")
	for _, p := range out.Permissions {
		fmt.Fprintf(w, "  %s\n", p)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OPERATION\tREQUEST\tPERMISSION\tMICROSOFT DOC")
	for _, r := range out.Reads {
		perm := strings.Join(r.Permissions, " and ")
		if r.Optional {
			perm += " (optional)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Operation, r.Request, perm, r.Doc)
	}
	return tw.Flush()
}
