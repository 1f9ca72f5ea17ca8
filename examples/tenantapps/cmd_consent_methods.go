package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/tenantapps/tenantapps/consent"
)

// consentMethodsCommand answers "can I consent to this app, and with which account?".
//
//	tenantapps consent-methods --app-type NAME [--service NAME] [--catalog FILE]... [--format table|json]
//
// --format json prints
//
//	{"appType": "...", "service": "...", "methods": ["admin", "user"],
//	 "admin": {"anyOf": ["Global Administrator", "Privileged Role Administrator + Teams Administrator"],
//	           "extra": ["..."], "notes": ["..."]},
//	 "user": {"preconditions": ["..."]}}
//
// anyOf lists the alternatives for the consenting account's directory roles ("A + B" = both roles);
// extra lists what is needed besides a role; notes is advice that cannot be checked. "user" is
// absent when the app type supports administrator consent only. --service may be left out when
// the app type serves a single service; an unknown app type or service is a usage error (exit 2).
func consentMethodsCommand() command {
	return command{summary: "who may consent to an app type: methods, roles, preconditions", run: runConsentMethods}
}

type consentMethodsJSON struct {
	AppType string           `json:"appType"`
	Service string           `json:"service"`
	Methods []consent.Method `json:"methods"`
	Admin   adminPolicyJSON  `json:"admin"`
	User    *userPolicyJSON  `json:"user,omitempty"`
}

type adminPolicyJSON struct {
	AnyOf []string `json:"anyOf"`
	Extra []string `json:"extra"`
	Notes []string `json:"notes,omitempty"`
}

type userPolicyJSON struct {
	Preconditions []string `json:"preconditions"`
}

func runConsentMethods(env *cliEnv, args []string) int {
	fs := newFlagSet(env, "consent-methods", "usage: tenantapps consent-methods --app-type NAME [--service NAME] [--format table|json]\n\nPrints the consent methods of an app type and who may use them, from the consent rules.")
	format := formatFlag(fs)
	appType := fs.String("app-type", "", "the app type `name` (required), e.g. \"Cloud Backup Express\"")
	service := fs.String("service", "", "the service `name`; required when the app type serves several services")
	catalogs := catalogFlag(fs)
	if code, ok := parseCommon(env, fs, args, format, commonOpts{noArgs: true}); !ok {
		return code
	}
	usageErr := func(msg string, a ...any) int { return usageError(env, fs, msg, a...) }
	if strings.TrimSpace(*appType) == "" {
		fs.Usage()
		return usageErr("--app-type is required")
	}
	cat, err := loadCatalog(*catalogs)
	if err != nil {
		return usageErr("%v", err)
	}
	out, err := describeConsentMethods(consent.NewRulebook(cat), consent.Target{AppType: *appType, Service: *service})
	if err != nil {
		return usageErr("%v", err)
	}
	if !writeResult(env, fs, *format, out, func(w io.Writer) error { return writeConsentMethodsTable(w, out) }) {
		return exitNegative
	}
	return exitOK
}

func describeConsentMethods(rules *consent.Rulebook, t consent.Target) (consentMethodsJSON, error) {
	methods, err := rules.MethodsFor(t)
	if err != nil {
		return consentMethodsJSON{}, err
	}
	admin, err := rules.PolicyFor(t, consent.AdminConsent)
	if err != nil {
		return consentMethodsJSON{}, err
	}
	out := consentMethodsJSON{AppType: admin.Target.AppType, Service: admin.Target.Service, Methods: methods,
		Admin: adminPolicyJSON{AnyOf: []string{}, Extra: []string{}}}
	rolesDone := false
	for _, r := range admin.Requirements {
		if !rolesDone && r.Kind == consent.KindDirectoryRole && r.Condition == "" {
			for _, set := range r.AnyOf {
				out.Admin.AnyOf = append(out.Admin.AnyOf, set.String())
			}
			rolesDone = true
			continue
		}
		out.Admin.Extra = append(out.Admin.Extra, r.String())
	}
	for _, n := range admin.Notes {
		out.Admin.Notes = append(out.Admin.Notes, n.Text)
	}
	if len(methods) > 1 {
		user, err := rules.PolicyFor(t, consent.UserConsent)
		if err != nil {
			return consentMethodsJSON{}, err
		}
		out.User = &userPolicyJSON{Preconditions: []string{}}
		for _, r := range user.Requirements {
			out.User.Preconditions = append(out.User.Preconditions, r.String())
		}
	}
	return out, nil
}

func writeConsentMethodsTable(w io.Writer, m consentMethodsJSON) error {
	names := make([]string, len(m.Methods))
	for i, x := range m.Methods {
		names[i] = x.Describe()
	}
	fmt.Fprintf(w, "App type:  %s\nService:   %s\nMethods:   %s\n\n", m.AppType, m.Service, strings.Join(names, ", "))
	fmt.Fprintln(w, "Administrator consent — the consenting account needs one of:")
	for _, a := range m.Admin.AnyOf {
		fmt.Fprintf(w, "  - %s\n", a)
	}
	if len(m.Admin.Extra) > 0 {
		fmt.Fprintln(w, "  and:")
		for _, e := range m.Admin.Extra {
			fmt.Fprintf(w, "  - %s\n", e)
		}
	}
	for _, n := range m.Admin.Notes {
		fmt.Fprintf(w, "  Note: %s\n", n)
	}
	if m.User == nil {
		_, err := fmt.Fprintln(w, "\nUser consent is not supported for this app type; use administrator consent.")
		return err
	}
	fmt.Fprintln(w, "\nUser consent (a non-administrator account) — preconditions:")
	for _, p := range m.User.Preconditions {
		fmt.Fprintf(w, "  - %s\n", p)
	}
	return nil
}
