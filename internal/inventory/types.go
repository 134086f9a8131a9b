package inventory

// APIVersion is the manifest API version this package reads.
const APIVersion = "steward.dev/v1alpha1"

// APIGroup is the prefix every Steward manifest's apiVersion starts with.
const APIGroup = "steward.dev/"

// Kinds of manifests.
const (
	KindIdentity  = "Identity"
	KindTeam      = "Team"
	KindException = "Exception"
)

// Location is where a manifest document was read from.
type Location struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// Metadata is the metadata block every manifest carries.
type Metadata struct {
	Name        string            `json:"name" yaml:"name" jsonschema:"required,pattern=^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$,maxLength=253,description=Unique name within the kind: lower-case letters\\, digits\\, - and ."`
	Labels      map[string]string `json:"labels,omitempty" yaml:"labels,omitempty" jsonschema:"description=Free-form string labels"`
	Annotations map[string]string `json:"annotations,omitempty" yaml:"annotations,omitempty" jsonschema:"description=Free-form string annotations"`
}

// Identity is one client-credentials integration: a named workload identity.
type Identity struct {
	Metadata Metadata     `json:"metadata"`
	Spec     IdentitySpec `json:"spec"`
	Location Location     `json:"-"`
}

// IdentitySpec is the body of an Identity manifest.
type IdentitySpec struct {
	Service     string            `json:"service,omitempty" yaml:"service,omitempty" jsonschema:"description=The business service the identity exists for"`
	Owner       string            `json:"owner,omitempty" yaml:"owner,omitempty" jsonschema:"description=Name of the owning Team (never a person)"`
	Environment string            `json:"environment,omitempty" yaml:"environment,omitempty" jsonschema:"enum=production,enum=staging,enum=sandbox,enum=development,description=The environment of the org the identity acts in"`
	Criticality string            `json:"criticality,omitempty" yaml:"criticality,omitempty" jsonschema:"enum=critical,enum=high,enum=medium,enum=low,description=Drives review and rotation periods"`
	Lifecycle   string            `json:"lifecycle,omitempty" yaml:"lifecycle,omitempty" jsonschema:"enum=active,enum=retired,description=A retired identity must have nothing live"`
	Agent       bool              `json:"agent,omitempty" yaml:"agent,omitempty" jsonschema:"description=True when an AI agent acts through this identity"`
	Purpose     string            `json:"purpose,omitempty" yaml:"purpose,omitempty" jsonschema:"description=What the integration does and why"`
	Vendor      *string           `json:"vendor,omitempty" yaml:"vendor,omitempty" jsonschema:"nullable,description=The third party that operates the workload; null when operated in-house"`
	Salesforce  SalesforceBinding `json:"salesforce" yaml:"salesforce"`
	Access      Access            `json:"access,omitempty" yaml:"access,omitempty"`
	Credential  Credential        `json:"credential,omitempty" yaml:"credential,omitempty"`
	Consumers   []Consumer        `json:"consumers,omitempty" yaml:"consumers,omitempty"`
	Review      Review            `json:"review,omitempty" yaml:"review,omitempty"`
}

// SalesforceBinding ties an identity to its org, app and run-as user.
type SalesforceBinding struct {
	URL                 string   `json:"url,omitempty" yaml:"url,omitempty" jsonschema:"format=uri,description=The org's My Domain URL"`
	App                 string   `json:"app,omitempty" yaml:"app,omitempty" jsonschema:"description=Connected app or External Client App API name"`
	RunAs               string   `json:"runAs,omitempty" yaml:"runAs,omitempty" jsonschema:"description=Username of the run-as user"`
	RunAsProfile        string   `json:"runAsProfile,omitempty" yaml:"runAsProfile,omitempty" jsonschema:"description=Profile the run-as user is meant to hold"`
	RunAsPermissionSets []string `json:"runAsPermissionSets,omitempty" yaml:"runAsPermissionSets,omitempty" jsonschema:"description=Permission sets the run-as user is meant to hold"`
}

// Access is what the identity needs; compared with what it has.
type Access struct {
	Scopes  []string            `json:"scopes,omitempty" yaml:"scopes,omitempty" jsonschema:"description=OAuth scope strings as on the wire (api\\, chatter_api\\, ...)"`
	Objects map[string][]string `json:"objects,omitempty" yaml:"objects,omitempty" jsonschema:"description=Object API name to the actions needed: read\\, create\\, edit\\, delete\\, viewAll\\, modifyAll"`
}

// Credential references the identity's secret in Steward's store. It holds a
// reference, never a value.
type Credential struct {
	Secret       string `json:"secret,omitempty" yaml:"secret,omitempty" jsonschema:"description=Name or path of the secret in Steward's store (billing-sync-prod or salesforce/billing-sync-prod); never a value"`
	RotationDays int    `json:"rotationDays,omitempty" yaml:"rotationDays,omitempty" jsonschema:"minimum=1,description=Rotation period in days"`
	RotatedAt    Date   `json:"rotatedAt,omitzero" yaml:"rotatedAt,omitempty" jsonschema:"description=When the secret was last rotated; the secret store's own record wins when present"`
}

// Consumer is one workload allowed to obtain tokens for the identity.
type Consumer struct {
	OIDC   *OIDCConsumer `json:"oidc,omitempty" yaml:"oidc,omitempty"`
	SPIFFE string        `json:"spiffe,omitempty" yaml:"spiffe,omitempty" jsonschema:"pattern=^spiffe://,description=SPIFFE ID of the workload"`
}

// OIDCConsumer matches a workload by its OIDC token's issuer and subject.
type OIDCConsumer struct {
	Issuer   string `json:"issuer" yaml:"issuer" jsonschema:"required,format=uri"`
	Subject  string `json:"subject" yaml:"subject" jsonschema:"required"`
	Audience string `json:"audience,omitempty" yaml:"audience,omitempty" jsonschema:"description=Expected audience of the workload's token"`
}

// Review records the identity's access-review cadence.
type Review struct {
	IntervalDays int  `json:"intervalDays,omitempty" yaml:"intervalDays,omitempty" jsonschema:"minimum=1,description=Review interval in days"`
	LastReviewed Date `json:"lastReviewed,omitzero" yaml:"lastReviewed,omitempty" jsonschema:"description=Date of the last access review"`
}

// Team owns identities.
type Team struct {
	Metadata Metadata `json:"metadata"`
	Spec     TeamSpec `json:"spec"`
	Location Location `json:"-"`
}

// TeamSpec is the body of a Team manifest.
type TeamSpec struct {
	Members []string `json:"members,omitempty" yaml:"members,omitempty" jsonschema:"description=The people in the team"`
	Backup  string   `json:"backup,omitempty" yaml:"backup,omitempty" jsonschema:"description=A named human backup\\, or an on-call address"`
}

// Exception is a time-bound accepted deviation from one rule for one identity.
type Exception struct {
	Metadata Metadata      `json:"metadata"`
	Spec     ExceptionSpec `json:"spec"`
	Location Location      `json:"-"`
}

// ExceptionSpec is the body of an Exception manifest.
type ExceptionSpec struct {
	Identity             string   `json:"identity,omitempty" yaml:"identity,omitempty" jsonschema:"description=Name of the Identity the exception applies to; required unless resource is given"`
	Resource             string   `json:"resource,omitempty" yaml:"resource,omitempty" jsonschema:"description=What the exception accepts when no identity covers it: an OAuth app's name (NHI-MON-03) for an approved human-use app"`
	Rule                 string   `json:"rule" yaml:"rule" jsonschema:"required,pattern=^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$,description=The rule accepted: a built-in rule ID (NHI-AREA-NN) or a user rule ID (ACME-DATA-01)"`
	Reason               string   `json:"reason,omitempty" yaml:"reason,omitempty" jsonschema:"description=Why the deviation is accepted"`
	ApprovedBy           string   `json:"approvedBy,omitempty" yaml:"approvedBy,omitempty" jsonschema:"description=Who approved it"`
	Expires              Date     `json:"expires,omitzero" yaml:"expires,omitempty" jsonschema:"description=The last day the exception applies"`
	CompensatingControls []string `json:"compensatingControls,omitempty" yaml:"compensatingControls,omitempty" jsonschema:"description=Controls that reduce the accepted risk"`
}

// Inventory is every manifest loaded from a set of paths.
type Inventory struct {
	Identities []*Identity
	Teams      []*Team
	Exceptions []*Exception
}
