package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

// slaAnswer is the workspace's SLA policy: each clock's ISO 8601 duration, null when off.
type slaAnswer struct {
	FirstResponse *string `json:"first_response"`
	Resolution    *string `json:"resolution"`
}

func toSLA(p domain.SLAPolicy) slaAnswer {
	var out slaAnswer
	if p.FirstResponse != nil {
		v := domain.FormatSLADuration(*p.FirstResponse)
		out.FirstResponse = &v
	}
	if p.Resolution != nil {
		v := domain.FormatSLADuration(*p.Resolution)
		out.Resolution = &v
	}
	return out
}

func (s *server) getSLA(c *gin.Context) {
	p, err := s.App.SLA(c.Request.Context(), caller(c))
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, toSLA(p))
}

func (s *server) putSLA(c *gin.Context) {
	var body struct {
		FirstResponse json.RawMessage `json:"first_response"`
		Resolution    json.RawMessage `json:"resolution"`
	}
	if err := decodeBody(c, &body); err != nil {
		respond(c, err)
		return
	}
	fields := []struct {
		name string
		raw  json.RawMessage
		out  *string
	}{{domain.SLAFirstResponse, body.FirstResponse, new(string)}, {domain.SLAResolution, body.Resolution, new(string)}}
	for _, f := range fields {
		var v *string
		if len(f.raw) > 0 {
			if err := json.Unmarshal(f.raw, &v); err != nil {
				respond(c, badRequest(`%s: want an ISO 8601 duration such as "PT1H", or null`, f.name))
				return
			}
		}
		if v != nil {
			*f.out = *v
			if *v == "" {
				respond(c, app.Invalid(`%s: want an ISO 8601 duration such as "PT1H", or null to turn it off`, f.name))
				return
			}
		}
	}
	p, err := s.App.SetSLA(c.Request.Context(), caller(c), fields[0].out, fields[1].out)
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, toSLA(p))
}

// slaJSON is a conversation's SLA in items and the detail; null when no clock applies.
type slaJSON struct {
	FirstResponseDue *time.Time `json:"first_response_due"`
	ResolutionDue    *time.Time `json:"resolution_due"`
	Breached         []string   `json:"breached"`
	Paused           bool       `json:"paused"`
}

func toSLAJSON(v *app.ConversationView) *slaJSON {
	st := app.SLAOf(v)
	if st == nil {
		return nil
	}
	return &slaJSON{FirstResponseDue: st.FirstResponseDue, ResolutionDue: st.ResolutionDue, Breached: st.Breached, Paused: st.Paused}
}
