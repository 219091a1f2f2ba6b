package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

// settingsData is the Data of the Settings page.
type settingsData struct {
	Workspace string
	Key       app.OpenAIKeySetting
	CanKey    bool // the BYOK section is for owners only
	// MinKey is the shortest key the application accepts, for the form's minlength.
	MinKey int
	// AutoArchiveDays is the auto-archive setting (nil: off); ArchiveError a refusal of it.
	AutoArchiveDays *int
	ArchiveError    string
	Error           string
	Notice          string
	// ConfirmRemove is the confirm step before removing the key.
	ConfirmRemove bool
	// Labels are the workspace's labels (owners and admins manage them); LabelError a
	// refusal of a label form; ConfirmDelete the label whose delete awaits its confirm step.
	CanLabels     bool
	Labels        []app.Label
	LabelError    string
	ConfirmDelete string
	// Hours is the Business hours section (owners and admins), as stored or as refused.
	CanHours bool
	Hours    *hoursForm
	// SLA is the SLA section (owners and admins), as stored or as refused.
	SLA *slaForm
}

// Colors is the label palette the colour selects offer.
func (settingsData) Colors() []domain.LabelColor { return domain.LabelColors }

// LabelsPath is where the label forms post.
func (d settingsData) LabelsPath() string {
	return WorkspacePath(d.Workspace, SectionSettings) + "/labels"
}

// KeyPath is where the key form posts.
func (d settingsData) KeyPath() string {
	return WorkspacePath(d.Workspace, SectionSettings) + "/openai-key"
}

// MinArchiveDays and MaxArchiveDays bound the auto-archive field: domain's range, so the
// form offers what the operation accepts.
func (settingsData) MinArchiveDays() int { return domain.MinAutoArchiveDays }
func (settingsData) MaxArchiveDays() int { return domain.MaxAutoArchiveDays }

// ArchivePath is where the auto-archive form posts.
func (d settingsData) ArchivePath() string {
	return WorkspacePath(d.Workspace, SectionSettings) + "/auto-archive"
}

var settingsNotices = map[string]string{
	"label":   "Labels saved.",
	"hours":   "Business hours saved. SLA clocks count time inside them.",
	"sla":     "SLA saved. Open conversations follow the new policy.",
	"archive": "Auto-archive saved. Closed conversations follow the new setting.",
	"saved":   "Key saved. New summaries use it from now on.",
	"removed": "Key removed. Summaries use the platform key again.",
}

// settingsForbidden explains the refusal of the page to anyone but an owner.
func (s *Site) settingsForbidden(c *gin.Context) {
	s.web.Render.errorPage(c, http.StatusForbidden, "Settings are for owners and admins",
		"Only an owner or an admin of this workspace can see and change its settings (auto-archive; the OpenAI key is for owners). Ask one of them if something here needs changing.")
}

// settingsPage renders the page, or the refusal; status is the answer's status.
func (s *Site) settingsPage(c *gin.Context, status int, d settingsData) {
	caller := callerOf(c)
	SetTitle(c, "Settings")
	SetSection(c, SectionSettings)
	d.Workspace, d.MinKey = caller.WorkspaceID.String(), app.MinOpenAIKeyLen
	days, err := s.App.AutoArchiveSetting(c.Request.Context(), caller)
	if err != nil {
		if errors.Is(err, app.ErrForbidden) {
			s.settingsForbidden(c)
			return
		}
		s.fail(c, err)
		return
	}
	d.AutoArchiveDays = days
	if d.CanKey = s.App.Can(caller, domain.ManageSettings); d.CanKey {
		key, err := s.App.Settings(c.Request.Context(), caller)
		if err != nil {
			s.fail(c, err)
			return
		}
		d.Key = key
	}
	if d.CanLabels = s.App.Can(caller, domain.ManageLabels); d.CanLabels {
		if d.Labels, err = s.App.AllLabels(c.Request.Context(), caller); err != nil {
			s.fail(c, err)
			return
		}
	}
	if err := s.loadHours(c, &d); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.loadSLA(c, &d); err != nil {
		s.fail(c, err)
		return
	}
	d.ConfirmRemove = d.ConfirmRemove && d.Key.Configured
	s.web.Render.Page(c, status, "settings", d)
}

// settings is the Settings page: the workspace's own OpenAI key (BYOK).
func (s *Site) settings(c *gin.Context) {
	s.settingsPage(c, http.StatusOK, settingsData{
		Notice: settingsNotices[c.Query("done")], ConfirmRemove: c.Query("confirm") == "remove",
	})
}

// settingsError answers a refused write: the refusal page for a non-owner, the page with
// the refusal in words next to the form for a bad key, a whole page for anything else.
func (s *Site) settingsError(c *gin.Context, err error) {
	s.refuseOnSettings(c, err, func(d *settingsData, status int, text string) {
		if status == http.StatusBadRequest {
			text = "That does not look like an OpenAI API key. Paste the whole key: it starts with sk- and has no spaces."
		}
		d.Error = text
	})
}

// refuseOnSettings answers a refused write of a Settings section: the refusal page for a
// role that may not see Settings, the page with the refusal in words that show puts next to
// its section, or a whole error page for anything else (a 404, an outage).
func (s *Site) refuseOnSettings(c *gin.Context, err error, show func(d *settingsData, status int, text string)) {
	if errors.Is(err, app.ErrForbidden) {
		s.settingsForbidden(c)
		return
	}
	status, text, ok := refusal(err)
	if !ok {
		s.fail(c, err)
		return
	}
	var d settingsData
	show(&d, status, text)
	s.settingsPage(c, status, d)
}

// setOpenAIKey sets or replaces the key.
func (s *Site) setOpenAIKey(c *gin.Context) {
	if _, err := s.App.SetOpenAIKey(c.Request.Context(), callerOf(c), c.PostForm("api_key")); err != nil {
		s.settingsError(c, err)
		return
	}
	SeeOther(c, WorkspacePath(callerOf(c).WorkspaceID.String(), SectionSettings)+"?done=saved")
}

// deleteOpenAIKey removes the key, after the confirm step.
func (s *Site) deleteOpenAIKey(c *gin.Context) {
	if err := s.App.DeleteOpenAIKey(c.Request.Context(), callerOf(c)); err != nil {
		s.settingsError(c, err)
		return
	}
	SeeOther(c, WorkspacePath(callerOf(c).WorkspaceID.String(), SectionSettings)+"?done=removed")
}

// setAutoArchive sets or turns off auto-archive: an empty number of days is off.
func (s *Site) setAutoArchive(c *gin.Context) {
	var days *int
	if v := strings.TrimSpace(c.PostForm("auto_archive_days")); v != "" && c.PostForm("enabled") != "off" {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.settingsPage(c, http.StatusBadRequest, settingsData{ArchiveError: fmt.Sprintf(
				"Type a whole number of days from %d to %d, or leave it empty to turn auto-archive off.",
				domain.MinAutoArchiveDays, domain.MaxAutoArchiveDays)})
			return
		}
		days = &n
	}
	if _, err := s.App.SetAutoArchive(c.Request.Context(), callerOf(c), days); err != nil {
		s.refuseOnSettings(c, err, func(d *settingsData, _ int, text string) { d.ArchiveError = text })
		return
	}
	SeeOther(c, WorkspacePath(callerOf(c).WorkspaceID.String(), SectionSettings)+"?done=archive")
}
