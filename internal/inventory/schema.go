package inventory

import (
	"encoding/json"
	"reflect"

	"github.com/invopop/jsonschema"
)

// SchemaID is the $id of the manifest JSON Schema: where the schema
// committed at schema/steward.schema.json is published.
const SchemaID = "https://raw.githubusercontent.com/steward-dev/steward/main/schema/steward.schema.json"

// documentNames names the document types in the schema's $defs.
var documentNames = map[reflect.Type]string{
	documentTypes[KindIdentity]:  "IdentityManifest",
	documentTypes[KindTeam]:      "TeamManifest",
	documentTypes[KindException]: "ExceptionManifest",
}

// Schema returns the JSON Schema (draft 2020-12) of a Steward manifest: one
// schema accepting a document of any kind, dispatching on kind to the
// kind's own definition. It is generated from the Go types and the same
// struct tags the loader enforces. The committed copy at
// schema/steward.schema.json is compared with it by TestSchemaUpToDate;
// regenerate it with
//
//	go test ./internal/inventory -run TestSchemaUpToDate -update
//
// (or go generate ./internal/inventory).
func Schema() ([]byte, error) {
	r := &jsonschema.Reflector{
		RequiredFromJSONSchemaTags: true,
		Anonymous:                  true,
		Namer: func(t reflect.Type) string {
			return documentNames[t]
		},
	}
	defs := jsonschema.Definitions{}
	root := &jsonschema.Schema{
		Version:              jsonschema.Version,
		ID:                   SchemaID,
		Title:                "Steward manifest",
		Description:          "A Steward inventory manifest (" + APIVersion + "): an Identity, a Team or an Exception.",
		Type:                 "object",
		Required:             []string{"apiVersion", "kind", "metadata", "spec"},
		AdditionalProperties: jsonschema.FalseSchema,
		Definitions:          defs,
	}
	withProps(root,
		"apiVersion", &jsonschema.Schema{Type: "string", Const: APIVersion},
		"kind", &jsonschema.Schema{Type: "string", Enum: []any{KindIdentity, KindTeam, KindException}},
		"metadata", &jsonschema.Schema{Ref: "#/$defs/Metadata"},
		"spec", &jsonschema.Schema{Type: "object"},
	)
	for _, kind := range kinds {
		t := documentTypes[kind]
		s := r.ReflectFromType(t)
		for name, def := range s.Definitions {
			defs[name] = def
		}
		root.AllOf = append(root.AllOf, &jsonschema.Schema{
			If: withProps(&jsonschema.Schema{Required: []string{"kind"}},
				"kind", &jsonschema.Schema{Const: kind}),
			Then: &jsonschema.Schema{Ref: "#/$defs/" + documentNames[t]},
		})
	}
	b, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// withProps sets the properties of s, in order, from name, schema pairs and
// returns s.
func withProps(s *jsonschema.Schema, pairs ...any) *jsonschema.Schema {
	s.Properties = jsonschema.NewProperties()
	for i := 0; i+1 < len(pairs); i += 2 {
		s.Properties.Set(pairs[i].(string), pairs[i+1].(*jsonschema.Schema))
	}
	return s
}
