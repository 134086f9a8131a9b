package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/steward-dev/steward/internal/audit"
)

// ActionDenied is the audit action of an operator refused on a route that
// changes state.
const ActionDenied = "api.denied"

// rule is who may call a route. Every route names one; guard enforces it
// before the handler runs.
type rule int

const (
	rulePublic    rule = iota // anyone: probes
	ruleWorkload              // an authenticated workload; the handler decides further
	ruleReader                // an admin or an auditor
	ruleAdmin                 // an admin
	ruleOperator              // any operator; the handler shows an owner only its teams' identities
	ruleOwnerRead             // an admin, an auditor, or an owner of the route's identity
	ruleOwner                 // an admin, or an owner of the route's identity
	ruleApprover              // an approver
)

// String names the rule for the route table and the API description.
func (r rule) String() string {
	return [...]string{
		"public", "workload", "admin or auditor", "admin", "any operator",
		"admin, auditor or owner of the identity", "admin or owner of the identity", "approver",
	}[r]
}

// validate checks an operator credential.
func (op Operator) validate() error {
	switch {
	case op.Token == "":
		return errors.New("an operator credential needs a token")
	case op.Role != RoleAdmin && op.Role != RoleOwner && op.Role != RoleApprover && op.Role != RoleAuditor:
		return fmt.Errorf("role %q is not admin, owner, approver or auditor", op.Role)
	case op.Role == RoleOwner && len(op.Teams) == 0:
		return errors.New("an owner needs the teams it acts for")
	case op.Role != RoleOwner && len(op.Teams) > 0:
		return fmt.Errorf("teams are for the owner role, not %s", op.Role)
	}
	return nil
}

// owns reports whether op is an owner of one of identity's teams.
func (a *API) owns(op *Operator, identity string) bool {
	id := a.identities[identity]
	return op.Role == RoleOwner && id != nil && id.Owner != "" && slices.Contains(op.Teams, id.Owner)
}

// subjectResolver finds the identity a request is about from one path
// wildcard. errNoSubject means the wildcard names nothing.
type subjectResolver func(r *http.Request, value string) (string, error)

var errNoSubject = errors.New("no such subject")

// subjectResolvers map a path wildcard to how its identity is found. A
// route scoped to an identity's owner must have one of these wildcards.
func (a *API) subjectResolvers() map[string]subjectResolver {
	return map[string]subjectResolver{
		"name": func(_ *http.Request, v string) (string, error) { return v, nil },
		"review": func(r *http.Request, v string) (string, error) {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || a.cfg.Reviews == nil {
				return "", errNoSubject
			}
			it, err := a.cfg.Reviews.Item(r.Context(), id)
			if err != nil {
				return "", errNoSubject
			}
			return it.Identity, nil
		},
	}
}

// subject is the identity a request on pattern is about, or "".
func (a *API) subject(r *http.Request, pattern string) string {
	for wildcard, resolve := range a.subjects {
		if !strings.Contains(pattern, "{"+wildcard+"}") {
			continue
		}
		if name, err := resolve(r, r.PathValue(wildcard)); err == nil {
			return name
		}
		return ""
	}
	return ""
}

// authorize tells whether op may call rt, and answers 403 when not. A
// refusal on a route that changes state is audited as ActionDenied; the
// refusal stands whether or not the record is written.
func (a *API) authorize(w http.ResponseWriter, r *http.Request, rt route, op *Operator) bool {
	var ok bool
	var need, subject string
	switch rt.rule {
	case ruleReader:
		ok, need = op.Role == RoleAdmin || op.Role == RoleAuditor, "the admin or auditor role"
	case ruleAdmin:
		ok, need = op.Role == RoleAdmin, "the admin role"
	case ruleOperator:
		ok = true
	case ruleApprover:
		ok, need = op.Role == RoleApprover, "the approver role"
	case ruleOwnerRead, ruleOwner:
		ok = op.Role == RoleAdmin || (rt.rule == ruleOwnerRead && op.Role == RoleAuditor)
		need = "the admin role or an owner role for the identity's team"
		if !ok && op.Role == RoleOwner {
			subject = a.subject(r, rt.pattern)
			ok = a.owns(op, subject)
			// An identity outside the owner's teams and one that does not
			// exist look alike: an owner learns nothing of other teams.
			need = "an owner role for the identity's team (" + strings.Join(op.Teams, ", ") + " may not act on it)"
		}
	}
	if ok {
		return true
	}
	msg := "this route needs " + need
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		resource := subject
		if resource == "" {
			resource = rt.pattern
		}
		ev := audit.Event{
			Time: a.cfg.Now(), Actor: audit.Actor{Kind: audit.ActorHuman, ID: op.Name}, Action: ActionDenied,
			Resource: resource, Outcome: audit.OutcomeDenied, RequestID: reqID(r),
			Details: map[string]string{"route": rt.method + " " + rt.pattern, "role": string(op.Role), "reason": msg},
		}
		if err := a.appendAudit(r.Context(), ev); err != nil {
			a.cfg.Logger.Error("refused request not audited", "route", rt.method+" "+rt.pattern, "operator", op.Name)
		}
	}
	writeProblem(w, http.StatusForbidden, msg)
	return false
}
