package main

import (
	"errors"
	"net/http"
	"slices"

	"github.com/tenantapps/tenantapps/appprofile"
)

// ---- one profile: details, accepted deviations and history ----

type profileData struct {
	Profile appprofile.Profile
	// History is the profile's history, newest first; NoHistory is set when the store keeps none.
	History   []appprofile.HistoryEntry
	NoHistory bool
}

// profile shows one profile with its reasons, the deviations accepted on it and the history of
// what its checks saw change (the newest 200 entries).
func (p *Portal) profile(w http.ResponseWriter, r *http.Request) {
	prof, err := p.mgr.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		p.consentError(w, r, err)
		return
	}
	d := profileData{Profile: prof}
	q := appprofile.HistoryQuery{ProfileID: prof.ID, Limit: 1000}
	for {
		page, err := p.mgr.History(r.Context(), q)
		if errors.Is(err, appprofile.ErrNoHistory) {
			d.NoHistory = true
			break
		}
		if err != nil {
			p.fail(w, r, http.StatusInternalServerError, err.Error())
			return
		}
		d.History = append(d.History, page...)
		if len(d.History) > 200 {
			d.History = d.History[len(d.History)-200:]
		}
		if len(page) < q.Limit {
			break
		}
		q.AfterSeq = page[len(page)-1].Seq
	}
	slices.Reverse(d.History)
	p.render(w, r, http.StatusOK, "profile.html", prof.Name, d)
}
