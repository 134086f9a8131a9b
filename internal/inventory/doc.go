// Package inventory reads Steward's inventory manifests: Kubernetes-style
// YAML documents of kind Identity, Team and Exception under the API version
// steward.dev/v1alpha1.
//
// Load reads files and directory trees strictly: unknown fields, wrong types,
// values outside their enums, duplicate names and dangling references are
// errors, each reported with its file, line and column, and every error in
// every file is reported in one pass. Error messages never repeat values or
// other text from the manifests, so a secret pasted into a manifest by mistake
// does not leak through them. Schema returns the JSON Schema for the same
// contract, which is committed at schema/steward.schema.json for editors.
package inventory

//go:generate go test . -run TestSchemaUpToDate -update
