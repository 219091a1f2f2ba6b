package web

import (
	"database/sql"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

// slaForm is the SLA section's form: each clock's ISO 8601 duration, empty when off; what
// was sent is shown again with a refusal. HoursSet says whether business hours are set
// (without them, all the time counts).
type slaForm struct {
	FirstResponse, Resolution string
	HoursSet                  bool
	Error                     string
}

// SLAPath is where the SLA form posts.
func (d settingsData) SLAPath() string {
	return WorkspacePath(d.Workspace, SectionSettings) + "/sla"
}

func slaFormOf(p domain.SLAPolicy) slaForm {
	var f slaForm
	if p.FirstResponse != nil {
		f.FirstResponse = domain.FormatSLADuration(*p.FirstResponse)
	}
	if p.Resolution != nil {
		f.Resolution = domain.FormatSLADuration(*p.Resolution)
	}
	return f
}

// setSLA saves the SLA section; a refusal is shown in words beside it.
func (s *Site) setSLA(c *gin.Context) {
	form := slaForm{FirstResponse: strings.TrimSpace(c.PostForm("first_response")), Resolution: strings.TrimSpace(c.PostForm("resolution"))}
	if _, err := s.App.SetSLA(c.Request.Context(), callerOf(c), &form.FirstResponse, &form.Resolution); err != nil {
		s.refuseOnSettings(c, err, func(d *settingsData, _ int, text string) {
			form.Error = text
			d.SLA = &form
		})
		return
	}
	SeeOther(c, WorkspacePath(callerOf(c).WorkspaceID.String(), SectionSettings)+"?done=sla")
}

// loadSLA fills d's SLA section for owners and admins, unless a refused form is being shown
// again; it tells whether business hours are set.
func (s *Site) loadSLA(c *gin.Context, d *settingsData) error {
	caller := callerOf(c)
	if !s.App.Can(caller, domain.ManageSLA) {
		return nil
	}
	if d.SLA == nil {
		p, err := s.App.SLA(c.Request.Context(), caller)
		if err != nil {
			return err
		}
		form := slaFormOf(p)
		d.SLA = &form
	}
	d.SLA.HoursSet = d.Hours != nil && d.Hours.Configured
	return nil
}

// slaBadge renders a conversation's SLA in words, for the list row and the conversation's
// side panel: "SLA breached 2 h ago" (the latest breach), else "SLA due in 25 min" (the
// earliest running clock; "due soon" within domain.SLADueSoonWindow), else "SLA paused";
// nothing without a clock. The <time> carries the instant: app.js rewrites the words with
// the viewer's clock and puts the exact time, in the viewer's zone, in its title.
func slaBadge(arg any) template.HTML {
	var v *app.ConversationView
	switch c := arg.(type) {
	case *app.ConversationView:
		v = c
	case app.ConversationView:
		v = &c
	default:
		return ""
	}
	st := app.SLAOf(v)
	if st == nil {
		return ""
	}
	now := time.Now()
	tag := func(class, kind string, at time.Time, text string) template.HTML {
		at = at.UTC()
		return template.HTML(`<span class="badge sla-badge ` + class + `" data-sla="` + kind + `">SLA <time datetime="` +
			at.Format(time.RFC3339) + `" data-local="sla-` + kind + `" title="` + at.Format(timeLayout) + `">` +
			template.HTMLEscapeString(text) + `</time></span>`)
	}
	var breached time.Time
	for _, t := range []sql.NullTime{v.SLAFirstResponseBreachedAt, v.SLAResolutionBreachedAt} {
		if t.Valid && t.Time.After(breached) {
			breached = t.Time
		}
	}
	if !breached.IsZero() {
		return tag("badge-sla-breached", "breached", breached, "breached "+shortSince(now.Sub(breached))+" ago")
	}
	var due *time.Time
	for _, t := range []*time.Time{st.FirstResponseDue, st.ResolutionDue} {
		if t != nil && (due == nil || t.Before(*due)) {
			due = t
		}
	}
	if due != nil {
		class := "badge-sla-due"
		if due.Sub(now) <= domain.SLADueSoonWindow {
			class += " badge-sla-soon"
		}
		left := due.Sub(now)
		if left <= 0 {
			return tag(class, "due", *due, "due now")
		}
		return tag(class, "due", *due, "due in "+shortSince(left))
	}
	if st.Paused {
		return template.HTML(`<span class="badge sla-badge badge-sla-paused" data-sla="paused">SLA paused</span>`)
	}
	return ""
}

// shortSince is a duration in the badge's short words: "25 min", "2 h", "3 d".
func shortSince(d time.Duration) string {
	m := max(int(d.Round(time.Minute)/time.Minute), 1)
	switch {
	case m < 60:
		return fmt.Sprintf("%d min", m)
	case m < 48*60:
		return fmt.Sprintf("%d h", m/60)
	}
	return fmt.Sprintf("%d d", m/(24*60))
}
