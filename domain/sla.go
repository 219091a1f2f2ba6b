package domain

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The bounds of an SLA duration: from one minute to thirty days of business time.
const (
	MinSLADuration = time.Minute
	MaxSLADuration = 30 * 24 * time.Hour
)

// The SLA's two clocks, as breaches and audit entries name them.
const (
	SLAFirstResponse = "first_response"
	SLAResolution    = "resolution"
)

// SLAPolicy is a workspace's SLA: each clock's duration in business time, nil when off.
type SLAPolicy struct {
	FirstResponse *time.Duration `json:"first_response,omitempty"`
	Resolution    *time.Duration `json:"resolution,omitempty"`
}

// On reports whether either clock runs.
func (p SLAPolicy) On() bool { return p.FirstResponse != nil || p.Resolution != nil }

// ParseSLADuration reads an ISO 8601 duration of days, hours and minutes: "PT1H", "PT30M",
// "PT1H30M", "P1D", "P1DT4H". A day is 24 hours of business time (not a calendar day);
// seconds, weeks, months and years are refused, and so is anything outside 1 minute to
// 30 days.
func ParseSLADuration(s string) (time.Duration, error) {
	const want = `want an ISO 8601 duration of days, hours and minutes from PT1M to P30D (e.g. "PT1H", "PT30M", "P1DT4H")`
	rest, ok := strings.CutPrefix(strings.ToUpper(strings.TrimSpace(s)), "P")
	if !ok || rest == "" || len(s) > 32 {
		return 0, fmt.Errorf("%s", want)
	}
	var total time.Duration
	inTime, units := false, 0
	last := map[bool]string{false: "", true: ""}
	order := map[byte]int{'D': 1, 'H': 2, 'M': 3}
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return 0, fmt.Errorf("%s", want)
			}
			inTime, rest = true, rest[1:]
			if rest == "" {
				return 0, fmt.Errorf("%s", want)
			}
			continue
		}
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) || i > 6 {
			return 0, fmt.Errorf("%s", want)
		}
		n, _ := strconv.Atoi(rest[:i])
		unit := rest[i]
		rest = rest[i+1:]
		switch {
		case unit == 'D' && !inTime:
			total += time.Duration(n) * 24 * time.Hour
		case unit == 'H' && inTime:
			total += time.Duration(n) * time.Hour
		case unit == 'M' && inTime:
			total += time.Duration(n) * time.Minute
		default:
			return 0, fmt.Errorf("%s", want)
		}
		if prev := last[inTime]; prev != "" && order[prev[0]] >= order[unit] {
			return 0, fmt.Errorf("%s", want)
		}
		last[inTime] = string(unit)
		units++
	}
	if units == 0 || total < MinSLADuration || total > MaxSLADuration {
		return 0, fmt.Errorf("%s", want)
	}
	return total, nil
}

// FormatSLADuration writes d as ParseSLADuration reads it, in its shortest form.
func FormatSLADuration(d time.Duration) string {
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h := d / time.Hour
	m := (d % time.Hour) / time.Minute
	var b strings.Builder
	b.WriteString("P")
	if days > 0 {
		fmt.Fprintf(&b, "%dD", days)
	}
	if h > 0 || m > 0 {
		b.WriteString("T")
		if h > 0 {
			fmt.Fprintf(&b, "%dH", h)
		}
		if m > 0 {
			fmt.Fprintf(&b, "%dM", m)
		}
	}
	if b.Len() == 1 {
		return "PT0M"
	}
	return b.String()
}

// SLADueSoonWindow is how close a running clock's due time must be for the conversation to
// be "due soon": within the next hour.
const SLADueSoonWindow = time.Hour

// SLA filters of the conversation list.
const (
	SLAFilterDueSoon  = "due_soon"
	SLAFilterBreached = "breached"
)

// AuditSLAChanged records a change of the workspace's SLA policy; AuditSLABreached a
// conversation's clock passing its due time (the system acts).
const (
	AuditSLAChanged  AuditAction = "sla_changed"
	AuditSLABreached AuditAction = "sla_breached"
)

// SLABreach is one clock of a conversation passing its due time, as the workflow decided.
type SLABreach struct {
	Clock string    `json:"clock"`
	Due   time.Time `json:"due"`
}

// SLAWrite is what a conversation's workflow writes of its clocks to the read model, whole
// each time: due times (nil while a clock is off, paused or stopped), when each was met or
// breached, whether the resolution clock is paused. Breach, when set, is a breach to record
// (audit entry and webhook event) unless the read model already holds it.
type SLAWrite struct {
	WorkspaceID             uuid.UUID  `json:"workspace_id"`
	ConversationID          uuid.UUID  `json:"conversation_id"`
	FirstResponseDue        *time.Time `json:"first_response_due,omitempty"`
	FirstResponseMetAt      *time.Time `json:"first_response_met_at,omitempty"`
	FirstResponseBreachedAt *time.Time `json:"first_response_breached_at,omitempty"`
	ResolutionDue           *time.Time `json:"resolution_due,omitempty"`
	ResolutionMetAt         *time.Time `json:"resolution_met_at,omitempty"`
	ResolutionBreachedAt    *time.Time `json:"resolution_breached_at,omitempty"`
	ResolutionPaused        bool       `json:"resolution_paused,omitempty"`
	Breach                  *SLABreach `json:"breach,omitempty"`
}

// SLAStatus is a conversation's SLA as lists and pages show it; nil when no clock applies.
type SLAStatus struct {
	FirstResponseDue *time.Time
	ResolutionDue    *time.Time
	Breached         []string
	Paused           bool
}
