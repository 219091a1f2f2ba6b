package web

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

// hoursForm is the Business hours section's form: the zone, each day's ranges as one line
// ("09:00-12:00, 13:00-17:00") and the holidays one a line; what was sent is shown again
// with a refusal.
type hoursForm struct {
	Configured bool
	TimeZone   string
	Days       []hoursDay
	Holidays   string
	Error      string
}

type hoursDay struct {
	Key, Ranges string
}

// HoursPath is where the business-hours form posts.
func (d settingsData) HoursPath() string {
	return WorkspacePath(d.Workspace, SectionSettings) + "/business-hours"
}

// hoursFormOf fills the form from a stored calendar.
func hoursFormOf(b app.BusinessHours) hoursForm {
	f := hoursForm{Configured: b.Configured, TimeZone: b.TimeZone, Holidays: strings.Join(b.Holidays, "\n")}
	for _, day := range domain.Weekdays {
		f.Days = append(f.Days, hoursDay{Key: day, Ranges: strings.Join(b.Weekly[day], ", ")})
	}
	return f
}

// hoursFromForm reads the posted form into a calendar for the application to check, and the
// form as sent, to show again if it is refused.
func hoursFromForm(c *gin.Context) (domain.BusinessHoursSpec, hoursForm) {
	spec := domain.BusinessHoursSpec{TimeZone: strings.TrimSpace(c.PostForm("time_zone")), Weekly: map[string][]string{}}
	f := hoursForm{TimeZone: spec.TimeZone, Holidays: c.PostForm("holidays")}
	for _, day := range domain.Weekdays {
		line := c.PostForm("day_" + day)
		f.Days = append(f.Days, hoursDay{Key: day, Ranges: line})
		for _, r := range strings.Split(line, ",") {
			if r = strings.TrimSpace(r); r != "" {
				spec.Weekly[day] = append(spec.Weekly[day], r)
			}
		}
	}
	spec.Holidays = strings.FieldsFunc(f.Holidays, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ' ' })
	return spec, f
}

// setBusinessHours saves the Business hours section; a refusal is shown in words beside it.
func (s *Site) setBusinessHours(c *gin.Context) {
	spec, form := hoursFromForm(c)
	if _, err := s.App.SetBusinessHours(c.Request.Context(), callerOf(c), spec); err != nil {
		s.refuseOnSettings(c, err, func(d *settingsData, _ int, text string) {
			form.Error = text
			d.Hours = &form
		})
		return
	}
	SeeOther(c, WorkspacePath(callerOf(c).WorkspaceID.String(), SectionSettings)+"?done=hours")
}

// loadHours fills d's Business hours section for owners and admins, unless a refused form
// is being shown again.
func (s *Site) loadHours(c *gin.Context, d *settingsData) error {
	caller := callerOf(c)
	if d.CanHours = s.App.Can(caller, domain.ManageBusinessHours); !d.CanHours || d.Hours != nil {
		return nil
	}
	b, err := s.App.BusinessHours(c.Request.Context(), caller)
	if err != nil {
		return err
	}
	form := hoursFormOf(b)
	d.Hours = &form
	return nil
}
