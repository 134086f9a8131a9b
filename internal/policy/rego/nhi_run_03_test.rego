package steward.rules.nhi_run_03_test

import data.steward.rules.nhi_run_03

identity := {
	"name": "billing-sync-prod",
	"salesforce": {"app": "Billing_Sync", "runAs": "billing.integration@acme.com"},
	"access": {"scopes": ["api"], "objects": {"Opportunity": ["read", "edit"], "Invoice__c": ["read", "create"]}},
}

# An object access as the snapshot writes it: every flag present.
access(flags) := object.union({"read": false, "create": false, "edit": false, "delete": false, "viewAll": false, "modifyAll": false, "grantedBy": []}, flags)

user := {
	"username": "Billing.Integration@acme.com", "identities": ["billing-sync-prod"],
	"unresolved": [],
	"effective": {"user": {}, "objects": {
		"Opportunity": access({"read": true, "edit": true, "grantedBy": ["permission set Billing_Integration"]}),
		"invoice__c": access({"read": true, "create": true, "grantedBy": ["permission set Billing_Integration"]}),
	}},
	"location": {"file": "ids.yaml", "line": 9},
}

app := {
	"kind": "ExternalClientApp", "name": "Billing_Sync", "scopes": ["api"], "runAs": "billing.integration@ACME.com",
	"identities": ["billing-sync-prod"],
	"location": {"file": "eca.xml", "line": 1},
	"locations": {"scopes": {"file": "oauth.xml", "line": 6}, "runAs": {"file": "plcy.xml", "line": 8}},
}

inp := {"identities": [identity], "users": [user], "apps": [app]}

test_matching_declaration_is_silent if {
	fs := nhi_run_03.finding with input as inp
	count(fs) == 0
}

test_unresolved_grants_fire if {
	u := object.union(user, {"unresolved": ["profile Integration", "permission set Billing_Integration"]})
	fs := nhi_run_03.finding with input as object.union(inp, {"users": [u]})
	fs == {{
		"message": "Run-as user Billing.Integration@acme.com is granted permission set Billing_Integration, profile Integration, which no metadata file defines: its effective permissions cannot be verified",
		"identity": "billing-sync-prod",
		"resource": {"kind": "User", "name": "Billing.Integration@acme.com", "file": "ids.yaml", "line": 9},
	}}
}

test_undeclared_object_access_fires if {
	u := object.union(user, {"effective": {"objects": {
		"Opportunity": {"delete": true},
		"Account": access({"read": true, "grantedBy": ["permission set Extra"]}),
	}}})
	fs := nhi_run_03.finding with input as object.union(inp, {"users": [u]})
	count(fs) == 1
	some f in fs
	f.message == "Run-as user Billing.Integration@acme.com of identity billing-sync-prod has object access its access.objects does not declare: Account (read); Opportunity (delete)"
	f.identity == "billing-sync-prod"
	f.resource.kind == "User"
}

test_object_access_not_judged_without_declaration if {
	id := object.union(object.remove(identity, ["access"]), {"access": {"scopes": ["api"], "objects": {}}})
	u := object.union(user, {"effective": {"objects": {"Account": access({"read": true, "delete": true})}}})
	fs := nhi_run_03.finding with input as {"identities": [id], "users": [u], "apps": [app]}
	count(fs) == 0
}

test_extra_scopes_fire if {
	a := object.union(app, {"scopes": ["api", "chatter_api", "refresh_token"]})
	fs := nhi_run_03.finding with input as object.union(inp, {"apps": [a]})
	fs == {{
		"message": "External Client App Billing_Sync grants scopes chatter_api, refresh_token beyond the access.scopes of identity billing-sync-prod (api)",
		"identity": "billing-sync-prod",
		"resource": {"kind": "ExternalClientApp", "name": "Billing_Sync", "file": "oauth.xml", "line": 6},
	}}
}

test_scopes_not_judged_without_declaration if {
	id := object.union(object.remove(identity, ["access"]), {"access": {"scopes": [], "objects": {}}})
	a := object.union(app, {"scopes": ["api", "full"]})
	fs := nhi_run_03.finding with input as {"identities": [id], "users": [user], "apps": [a]}
	count(fs) == 0
}

test_different_run_as_fires if {
	a := object.union(app, {"runAs": "admin@acme.com"})
	fs := nhi_run_03.finding with input as object.union(inp, {"apps": [a]})
	count(fs) == 1
	some f in fs
	f.message == "External Client App Billing_Sync runs as admin@acme.com, but identity billing-sync-prod declares run-as user billing.integration@acme.com"
	f.resource.line == 8
}

test_run_as_unknown_in_metadata_is_silent if {
	a := object.union(app, {"runAs": ""})
	fs := nhi_run_03.finding with input as object.union(inp, {"apps": [a]})
	count(fs) == 0
}

test_declarations_in_any_order_or_case_match if {
	id := object.union(object.remove(identity, ["access"]), {"access": {
		"scopes": ["API"],
		"objects": {"opportunity": ["edit", "read"], "Invoice__c": ["Create", "read"]},
	}})
	fs := nhi_run_03.finding with input as object.union(inp, {"identities": [id]})
	count(fs) == 0
}

test_holding_less_than_declared_is_silent if {
	u := object.union(user, {"effective": {"objects": {"Opportunity": {"edit": false}}}})
	fs := nhi_run_03.finding with input as object.union(inp, {"users": [u]})
	count(fs) == 0
}

test_run_as_differing_only_in_case_is_silent if {
	a := object.union(app, {"runAs": "BILLING.INTEGRATION@acme.com"})
	fs := nhi_run_03.finding with input as object.union(inp, {"apps": [a]})
	count(fs) == 0
}
