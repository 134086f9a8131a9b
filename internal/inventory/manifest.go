package inventory

import (
	"reflect"

	"github.com/invopop/jsonschema"
)

// kinds lists the manifest kinds, in the order error messages name them.
var kinds = []string{KindIdentity, KindTeam, KindException}

// identityDocument, teamDocument and exceptionDocument are the documents as
// written: the envelope plus the kind's spec. They are what the loader
// decodes into and what the schema is generated from.
type identityDocument struct {
	APIVersion string       `json:"apiVersion" yaml:"apiVersion" jsonschema:"required"`
	Kind       string       `json:"kind" yaml:"kind" jsonschema:"required"`
	Metadata   Metadata     `json:"metadata" yaml:"metadata" jsonschema:"required"`
	Spec       IdentitySpec `json:"spec" yaml:"spec" jsonschema:"required"`
}

type teamDocument struct {
	APIVersion string   `json:"apiVersion" yaml:"apiVersion" jsonschema:"required"`
	Kind       string   `json:"kind" yaml:"kind" jsonschema:"required"`
	Metadata   Metadata `json:"metadata" yaml:"metadata" jsonschema:"required"`
	Spec       TeamSpec `json:"spec" yaml:"spec" jsonschema:"required"`
}

type exceptionDocument struct {
	APIVersion string        `json:"apiVersion" yaml:"apiVersion" jsonschema:"required"`
	Kind       string        `json:"kind" yaml:"kind" jsonschema:"required"`
	Metadata   Metadata      `json:"metadata" yaml:"metadata" jsonschema:"required"`
	Spec       ExceptionSpec `json:"spec" yaml:"spec" jsonschema:"required"`
}

// documentTypes maps each kind to the Go type its documents decode into.
var documentTypes = map[string]reflect.Type{
	KindIdentity:  reflect.TypeFor[identityDocument](),
	KindTeam:      reflect.TypeFor[teamDocument](),
	KindException: reflect.TypeFor[exceptionDocument](),
}

// JSONSchemaExtend pins apiVersion and kind in the schema.
func (identityDocument) JSONSchemaExtend(s *jsonschema.Schema) { pinEnvelope(s, KindIdentity) }

// JSONSchemaExtend pins apiVersion and kind in the schema.
func (teamDocument) JSONSchemaExtend(s *jsonschema.Schema) { pinEnvelope(s, KindTeam) }

// JSONSchemaExtend pins apiVersion and kind in the schema.
func (exceptionDocument) JSONSchemaExtend(s *jsonschema.Schema) {
	pinEnvelope(s, KindException)
	if spec, ok := s.Properties.Get("spec"); ok {
		spec.AnyOf = []*jsonschema.Schema{{Required: []string{"identity"}}, {Required: []string{"resource"}}}
	}
}

func pinEnvelope(s *jsonschema.Schema, kind string) {
	s.Description = "A Steward " + kind + " manifest"
	if p, ok := s.Properties.Get("apiVersion"); ok {
		p.Type, p.Const = "string", APIVersion
	}
	if p, ok := s.Properties.Get("kind"); ok {
		p.Type, p.Const = "string", kind
	}
}

// objectActions are the actions access.objects may list.
var objectActions = []string{"read", "create", "edit", "delete", "viewAll", "modifyAll"}

// JSONSchemaExtend restricts the actions listed under objects.
func (Access) JSONSchemaExtend(s *jsonschema.Schema) {
	p, ok := s.Properties.Get("objects")
	if !ok || p.AdditionalProperties == nil || p.AdditionalProperties.Items == nil {
		return
	}
	items := p.AdditionalProperties.Items
	for _, a := range objectActions {
		items.Enum = append(items.Enum, a)
	}
}

// JSONSchemaExtend requires exactly one of oidc and spiffe.
func (Consumer) JSONSchemaExtend(s *jsonschema.Schema) {
	one := uint64(1)
	s.MinProperties, s.MaxProperties = &one, &one
	s.Description = "A workload allowed to obtain tokens: exactly one of oidc or spiffe"
}

// builtinRulePattern is the shape of a built-in rule ID. IDs starting with
// "NHI-" are reserved for built-in rules.
const builtinRulePattern = `^NHI-[A-Z]+-[0-9]{2}$`

// JSONSchemaExtend reserves the NHI- prefix for built-in rule IDs.
func (ExceptionSpec) JSONSchemaExtend(s *jsonschema.Schema) {
	s.If = withProps(&jsonschema.Schema{Required: []string{"rule"}},
		"rule", &jsonschema.Schema{Pattern: "^NHI-"})
	s.Then = withProps(&jsonschema.Schema{},
		"rule", &jsonschema.Schema{Pattern: builtinRulePattern})
}
