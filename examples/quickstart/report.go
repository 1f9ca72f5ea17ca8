package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/tenantapps/tenantapps/appprofile"
)

// Report is what the quickstart prints with -json. Its shape is stable.
type Report struct {
	// Emulator is the URL of the local Entra ID + Graph emulator the run used.
	Emulator string `json:"emulator"`
	// Driver names the consent.Driver implementation that read the tenant.
	Driver string `json:"driver"`
	// Store is the SQLite file (removed at exit unless -db was given).
	Store string `json:"store"`
	// Tenant is the demo customer tenant.
	Customer string `json:"customer"`
	TenantID string `json:"tenantId"`
	Steps    []Step `json:"steps"`
}

// Step is one stage of the walk-through.
type Step struct {
	Number int    `json:"number"`
	Title  string `json:"title"`
	// Notes say what happened, one sentence each (tenant changes, catalog versions).
	Notes      []string               `json:"notes,omitempty"`
	Profiles   []ProfileRow           `json:"profiles,omitempty"`
	Checklists []appprofile.Checklist `json:"checklists,omitempty"`
}

// ProfileRow is one profile as a step left it.
type ProfileRow struct {
	ID       string   `json:"id"`
	AppType  string   `json:"appType"`
	Services []string `json:"services"`
	Mode     string   `json:"mode"`
	Status   string   `json:"status"`
	// ConsentMethod and ConsentedBy are empty until consent completed.
	ConsentMethod string `json:"consentMethod,omitempty"`
	ConsentedBy   string `json:"consentedBy,omitempty"`
	// Reasons explain the status (warnings included), each with what to do.
	Reasons []appprofile.Reason `json:"reasons,omitempty"`
}

func rowOf(p appprofile.Profile) ProfileRow {
	r := ProfileRow{ID: p.ID, AppType: p.AppType, Services: p.Services, Mode: string(p.Mode), Status: string(p.Status), Reasons: p.Reasons}
	if p.Consent != nil {
		r.ConsentMethod, r.ConsentedBy = string(p.Consent.Method), p.Consent.UserPrincipalName
	}
	return r
}

// writeTable prints the step for people: a table of profiles, then each reason with what to do,
// then the role checklists.
func (s Step) writeTable(w io.Writer) {
	fmt.Fprintf(w, "\n== Step %d: %s ==\n", s.Number, s.Title)
	for _, n := range s.Notes {
		fmt.Fprintf(w, "  * %s\n", n)
	}
	if len(s.Profiles) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  APP TYPE\tMODE\tSERVICES\tCONSENT\tSTATUS\tREASONS")
		for _, p := range s.Profiles {
			consent := "-"
			if p.ConsentMethod != "" {
				consent = p.ConsentMethod + " by " + p.ConsentedBy
			}
			var codes []string
			for _, r := range p.Reasons {
				codes = append(codes, string(r.Code))
			}
			reasons := strings.Join(codes, ", ")
			if reasons == "" {
				reasons = "-"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", p.AppType, p.Mode, strings.Join(p.Services, ", "), consent, strings.ToUpper(p.Status), reasons)
		}
		tw.Flush()
		first := true
		for _, p := range s.Profiles {
			for _, r := range p.Reasons {
				if r.Code == appprofile.ReasonNotConsented {
					continue
				}
				if first {
					fmt.Fprintln(w, "\n  Why, and what to do:")
					first = false
				}
				fix := ""
				if r.FixedByReauthorization {
					fix = " [re-authorize]"
				}
				fmt.Fprintf(w, "  - %s: %s (%s): %s\n      -> %s%s\n", p.AppType, r.Effect, r.Code, r.Message, r.Remediation, fix)
			}
		}
	}
	for _, c := range s.Checklists {
		app := c.ProfileID
		for _, p := range s.Profiles {
			if p.ID == c.ProfileID {
				app = p.AppType
			}
		}
		fmt.Fprintf(w, "\n  Roles for %s (verified against the tenant: %v)\n", app, c.Verified)
		if len(c.Directory)+len(c.Azure) == 0 {
			fmt.Fprintln(w, "    (no directory or Azure roles needed)")
		}
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		for _, r := range c.Directory {
			state := "missing"
			switch {
			case r.Assigned:
				state = "assigned"
			case r.Overdue:
				state = "OVERDUE"
			}
			fmt.Fprintf(tw, "    [%s]\t%s\t%s\t%s\n", mark(r.Assigned), r.Name, state, r.Instruction)
		}
		for _, a := range c.Azure {
			fmt.Fprintf(tw, "    [ ]\t%v\tAzure RBAC\t%s\n", a.Requirement, a.Instruction)
		}
		tw.Flush()
	}
}

func mark(ok bool) string {
	if ok {
		return "x"
	}
	return " "
}
