#!/usr/bin/env node
// Drives jsforce against a Salesforce org (normally Steward's fake org) and
// prints what it saw as one JSON document, so a test can compare jsforce's
// reading of the wire with the scenario.
//
// Usage: node fidelity.js URL
// Environment: STEWARD_SF_CLIENT_ID, STEWARD_SF_CLIENT_SECRET (client
// credentials), FIDELITY_QUERY (SOQL with more rows than one batch),
// FIDELITY_APPS (comma-separated ConnectedApp full names to read).
'use strict';

const jsforce = require('jsforce');

async function main() {
  const url = process.argv[2];
  const clientId = process.env.STEWARD_SF_CLIENT_ID;
  const clientSecret = process.env.STEWARD_SF_CLIENT_SECRET;
  const soql = process.env.FIDELITY_QUERY;
  const apps = (process.env.FIDELITY_APPS || '').split(',').filter(Boolean);
  if (!url || !clientId || !clientSecret || !soql) {
    throw new Error('usage: node fidelity.js URL, with STEWARD_SF_CLIENT_ID, STEWARD_SF_CLIENT_SECRET and FIDELITY_QUERY set');
  }
  const conn = new jsforce.Connection({
    oauth2: { loginUrl: url, clientId, clientSecret },
    version: '62.0',
  });
  const identity = await conn.authorize({ grant_type: 'client_credentials' });

  // Paging by hand: query, then queryMore with each nextRecordsUrl.
  const pages = [];
  let res = await conn.query(soql, { autoFetch: false });
  const manual = [...res.records];
  pages.push(res.records.length);
  while (!res.done) {
    res = await conn.queryMore(res.nextRecordsUrl);
    manual.push(...res.records);
    pages.push(res.records.length);
  }

  // Paging by jsforce itself.
  const auto = await conn.query(soql).run({ autoFetch: true, maxFetch: 100000 });

  const metadata = apps.length ? await conn.metadata.read('ConnectedApp', apps) : [];
  const listed = await conn.metadata.list([{ type: 'ConnectedApp' }], '62.0');

  const strip = (r) => {
    const out = {};
    for (const [k, v] of Object.entries(r)) {
      if (k === 'attributes') continue;
      out[k] = v && typeof v === 'object' && !Array.isArray(v) ? strip(v) : v;
    }
    return out;
  };
  process.stdout.write(JSON.stringify({
    organizationId: identity.organizationId,
    userId: identity.id,
    instanceUrl: conn.instanceUrl,
    totalSize: auto.totalSize,
    pages,
    manual: manual.map(strip),
    auto: auto.records.map(strip),
    metadata: Array.isArray(metadata) ? metadata : [metadata],
    listed: (Array.isArray(listed) ? listed : [listed]).map((p) => p.fullName).sort(),
  }, null, 2) + '\n');
}

main().catch((err) => {
  process.stderr.write(`fidelity: ${err.name}: ${err.message}\n`);
  process.exit(1);
});
