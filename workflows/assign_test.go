package workflows

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/bestai/inbox/domain"
)

func TestAssignAssignableRoles(t *testing.T) {
	for _, role := range []domain.Role{domain.Owner, domain.Admin, domain.Support} {
		t.Run(string(role), func(t *testing.T) {
			h := newHarness(t)
			c := Candidate{UserID: uuid.New(), Name: "Member " + string(role), Role: role, Member: true}
			o := h.assign(minutes(1), "assign-"+string(role), &c)
			final := h.queryAt(minutes(2))
			h.run(newInput(), time.Hour)
			h.requireCanceled()

			requireAccepted(t, o)
			requireActor(t, &c, o.Status.Assignee)
			require.Equal(t, domain.Open, o.Status.State, "assigning does not move the conversation")
			requireActor(t, &c, final.Assignee)
			changes := h.acts.recordedChanges()
			require.Len(t, changes, 1)
			ch := changes[0]
			require.Equal(t, o.ID, ch.RequestID)
			require.True(t, ch.AssigneeChanged)
			require.Nil(t, ch.FromAssignee)
			requireActor(t, &c, ch.ToAssignee)
			require.Equal(t, alice, ch.Actor)
			require.Empty(t, ch.ToState, "an assignment is not a state change")
			require.Zero(t, ch.SummaryGeneration)
			require.Empty(t, h.acts.summaryGenerations())
		})
	}
}

func TestAssignRejectsViewerAndNonMember(t *testing.T) {
	cases := map[string]Candidate{
		"viewer":            {UserID: uuid.New(), Name: "Vera", Role: domain.Viewer, Member: true},
		"non_member":        {UserID: uuid.New(), Name: "Olga", Role: domain.Owner, Member: false},
		"non_member_viewer": {UserID: uuid.New(), Name: "Nina", Role: domain.Viewer, Member: false},
		"unknown_role":      {UserID: uuid.New(), Name: "Ursula", Role: "superuser", Member: true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			first := h.assign(minutes(1), "assign-bob", &bob)
			o := h.assign(minutes(2), "assign-"+name, &c)
			after := h.countAt(minutes(3))
			final := h.queryAt(minutes(3))
			h.run(newInput(), time.Hour)
			h.requireCanceled()

			requireAccepted(t, first)
			requireRejected(t, o, ErrNotAssignable)
			require.Equal(t, 1, o.ChangesBefore)
			require.Equal(t, 1, *after, "a rejected Update must record nothing")
			requireActor(t, &bob, final.Assignee, "the assignee stays")
		})
	}
}

func TestAssignNilClears(t *testing.T) {
	h := newHarness(t)
	set := h.assign(minutes(1), "set", &bob)
	clr := h.assign(minutes(2), "clear", nil)
	final := h.queryAt(minutes(3))
	h.run(newInput(), time.Hour)
	h.requireCanceled()

	requireAccepted(t, set)
	requireAccepted(t, clr)
	require.Nil(t, clr.Status.Assignee)
	require.Nil(t, final.Assignee)
	changes := h.acts.recordedChanges()
	require.Len(t, changes, 2)
	require.True(t, changes[1].AssigneeChanged)
	requireActor(t, &bob, changes[1].FromAssignee)
	require.Nil(t, changes[1].ToAssignee)
	require.Equal(t, "clear", changes[1].RequestID)
}

// Assigning whoever is already assigned (or clearing when nobody is) is accepted and
// records nothing.
func TestAssignSamePersonRecordsOnce(t *testing.T) {
	h := newHarness(t)
	clearEmpty := h.assign(30*time.Second, "clear-empty", nil)
	first := h.assign(minutes(1), "first", &bob)
	again := bob
	again.Name = "Bob (renamed)"
	second := h.assign(minutes(2), "second", &again)
	switchTo := h.assign(minutes(3), "switch", &carol)
	h.run(newInput(), time.Hour)
	h.requireCanceled()

	for _, o := range []*outcome{clearEmpty, first, second, switchTo} {
		requireAccepted(t, o)
	}
	require.Nil(t, clearEmpty.Status.Assignee)
	requireActor(t, &bob, first.Status.Assignee)
	requireActor(t, &bob, second.Status.Assignee, "same user: nothing changes, the name included")
	requireActor(t, &carol, switchTo.Status.Assignee)

	changes := h.acts.recordedChanges()
	require.Len(t, changes, 2)
	require.Equal(t, "first", changes[0].RequestID)
	require.Equal(t, "switch", changes[1].RequestID)
	requireActor(t, &bob, changes[1].FromAssignee)
	requireActor(t, &carol, changes[1].ToAssignee)
	requireChained(t, newInput(), changes)
}

// Assigning works in every state, and a change of assignee keeps state and closed_at.
func TestAssignInEveryState(t *testing.T) {
	for _, state := range domain.States {
		t.Run(string(state), func(t *testing.T) {
			h := newHarness(t)
			for i, s := range pathTo[state] {
				h.transition(minutes(i+1), "setup-"+string(s), s)
			}
			before := h.queryAt(minutes(9))
			o := h.assign(minutes(10), "assign", &carol)
			h.run(newInput(), time.Hour)
			h.requireCanceled()

			requireAccepted(t, o)
			require.Equal(t, state, o.Status.State)
			requireTime(t, before.ClosedAt, o.Status.ClosedAt)
			require.Equal(t, before.SummaryGeneration, o.Status.SummaryGeneration)
			requireActor(t, &carol, o.Status.Assignee)
		})
	}
}
