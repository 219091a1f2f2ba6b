package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

// businessHoursAnswer is the workspace's calendar; time_zone is null until it is set.
type businessHoursAnswer struct {
	Configured bool                `json:"configured"`
	TimeZone   *string             `json:"time_zone"`
	Weekly     map[string][]string `json:"weekly"`
	Holidays   []string            `json:"holidays"`
}

func toBusinessHours(b app.BusinessHours) businessHoursAnswer {
	out := businessHoursAnswer{Configured: b.Configured, Weekly: b.Weekly, Holidays: b.Holidays}
	if b.Configured {
		out.TimeZone = &b.TimeZone
	}
	return out
}

func (s *server) getBusinessHours(c *gin.Context) {
	b, err := s.App.BusinessHours(c.Request.Context(), caller(c))
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, toBusinessHours(b))
}

func (s *server) putBusinessHours(c *gin.Context) {
	var body domain.BusinessHoursSpec
	if err := decodeBody(c, &body); err != nil {
		respond(c, err)
		return
	}
	b, err := s.App.SetBusinessHours(c.Request.Context(), caller(c), body)
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, toBusinessHours(b))
}
