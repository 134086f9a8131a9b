package steward.rules.nhi_agt_01_test

import data.steward.rules.nhi_agt_01

identity(name, agent, a, runas, secret) := {
	"name": name, "agent": agent,
	"salesforce": {"app": a, "runAs": runas},
	"credential": {"secretRef": secret},
	"location": {"file": sprintf("%s.yaml", [name]), "line": 1},
}

test_dedicated_agent_is_silent if {
	fs := nhi_agt_01.finding with input as {"identities": [
		identity("sales-agent", true, "Sales_Agent", "agent@acme.com", "sf/sales-agent"),
		identity("billing-prod", false, "Billing_Sync", "billing@acme.com", "sf/billing"),
	]}
	count(fs) == 0
}

test_shared_resources_are_listed if {
	fs := nhi_agt_01.finding with input as {"identities": [
		identity("sales-agent", true, "Billing_Sync", "Billing@acme.com", "sf/sales-agent"),
		identity("billing-prod", false, "Billing_Sync", "billing@acme.com", "sf/billing"),
	]}
	fs == {{
		"message": "Agent identity sales-agent shares app Billing_Sync with billing-prod; run-as user Billing@acme.com with billing-prod",
		"identity": "sales-agent",
		"resource": {"kind": "Identity", "name": "sales-agent", "file": "sales-agent.yaml", "line": 1},
	}}
}

test_shared_secret_fires if {
	fs := nhi_agt_01.finding with input as {"identities": [
		identity("sales-agent", true, "Sales_Agent", "agent@acme.com", "sf/shared"),
		identity("support-agent", true, "Support_Agent", "support@acme.com", "sf/shared"),
	]}
	count(fs) == 2
	some f in fs
	f.message == "Agent identity support-agent shares secret sf/shared with sales-agent"
}

test_non_agent_sharing_is_silent if {
	fs := nhi_agt_01.finding with input as {"identities": [
		identity("billing-prod", false, "Billing_Sync", "billing@acme.com", "sf/billing"),
		identity("billing-prod-2", false, "Billing_Sync", "billing@acme.com", "sf/billing"),
	]}
	count(fs) == 0
}
