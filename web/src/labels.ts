// What the console calls the API's stable codes. A code the console does
// not know yet is shown as it is: never hidden.

import type { Action, Capability, ProviderInfo } from "./api.js";

function lookup(table: Record<string, string>, code: string): string {
  return table[code] ?? code.replace(/_/g, " ");
}

const integrationStatus: Record<string, string> = { ready: "Ready", incomplete: "Incomplete", disabled: "Disabled" };
export const integrationStatusLabel = (s: string): string => lookup(integrationStatus, s);

const missing: Record<string, string> = {
  provider_unavailable: "the provider is not offered in this environment",
  default_client_unavailable: "the platform's default OAuth client is not set up here",
  client_id: "client ID",
  client_secret: "client secret",
  tenant: "tenant",
  auth_base_url: "authentication base URL",
  capabilities: "at least one capability",
};
export const missingLabel = (m: string): string => lookup(missing, m);

const connectionStatus: Record<string, string> = {
  connected: "Connected",
  needs_reconnect: "Needs reconnect",
  refresh_failing: "Refresh failing",
  refresh_exhausted: "Refresh stopped",
};
export const connectionStatusLabel = (s: string): string => lookup(connectionStatus, s);

const statusReason: Record<string, string> = {
  client_changed: "your organization changed its OAuth app",
  settings_changed: "your organization changed the integration's settings",
  invalid_grant: "the provider no longer accepts this sign-in",
  access_expiry_assumed: "the provider did not say when access expires",
};
export const statusReasonLabel = (s: string): string => lookup(statusReason, s);

const checkStatus: Record<string, string> = { pass: "Pass", fail: "Fail", warn: "Warning", skipped: "Skipped" };
export const checkStatusLabel = (s: string): string => lookup(checkStatus, s);
const checkIcon: Record<string, string> = { pass: "✔", fail: "✖", warn: "⚠", skipped: "–" };
export const checkStatusIcon = (s: string): string => checkIcon[s] ?? "?";

const overall: Record<string, string> = {
  ok: "OK: everything that applies works",
  blocked: "Blocked: something must be fixed",
  degraded: "Degraded: works, with warnings",
};
export const overallLabel = (s: string): string => lookup(overall, s);

const owner: Record<string, string> = {
  admin: "an admin of your organization (Organization Settings, Integrations)",
  user: "the user, in Connected apps",
  external_admin: "the provider's administrator",
  none: "nobody: it is retried",
};
export const ownerLabel = (s: string): string => lookup(owner, s);

const checks: Record<string, string> = {
  provider_enabled: "Provider enabled for the organization",
  environment_available: "Available in this environment",
  configuration_complete: "Configuration complete",
  client_healthy: "OAuth client accepted by the provider",
  user_in_rollout: "User in the rollout",
  user_connected: "Account connected",
  connection_healthy: "Connection healthy",
  scopes_granted: "Permissions granted",
  action_supported: "Action supported",
  external_permission: "Permission in the external system",
  item_accessible: "Item exists and is accessible",
  test_account_connected: "Test account connected",
  workspace_import: "Workspace import",
};
/** checkLabel names a check; written: a write step that wrote (it carries confirmations). */
export function checkLabel(id: string, caps: ProviderInfo["capabilities"] = [], written = false): string {
  const m = /^(read|write)_([a-z]+)$/.exec(id);
  if (m) {
    const cap = caps.find((c) => c.id === m[2])?.label ?? m[2];
    if (m[1] === "read") return `Read ${cap}`;
    return written ? `Write ${cap} (with a test item)` : `Write ${cap} (checked, never performed)`;
  }
  return lookup(checks, id);
}

const callbackError: Record<string, string> = {
  access_denied: "You declined access at the provider. Connect again and allow access to continue.",
  consent_required: "Your organization's administrator at the provider must approve this app first.",
  account_not_in_tenant: "That account is not in your organization's Microsoft tenant. Connect a work account of that tenant.",
  hosted_domain_mismatch: "That Google account is not in the domain your organization allows. Connect an account of that domain.",
  state_invalid: "The connection attempt expired or was already used. Start again.",
  integration_changed: "Your administrator changed the integration while you were connecting. Start again.",
  provider_disabled: "Your administrator turned this integration off.",
  account_lookup_failed: "The provider did not tell us which account you connected. Try again.",
  no_refresh_token: "The provider did not grant lasting access. Connect again and allow offline access.",
  completion_not_found: "This connection could not be finished: it was started by someone else, or it expired or was already finished. Start again.",
};
export const callbackErrorLabel = (code: string): string =>
  callbackError[code] ?? `The connection failed (${code}). Try again, or run "Why doesn't this work?".`;

const adminConsentError: Record<string, string> = {
  access_denied: "The administrator declined to grant the permissions.",
  admin_consent_tenant_mismatch: "The administrator consented in another Microsoft directory than the integration's tenant. Sign in as an administrator of that tenant and grant consent again.",
  admin_consent_invalid: "Microsoft's answer named no valid directory. Start the admin consent again.",
  integration_changed: "The integration's app changed while the administrator was consenting. Start the admin consent again.",
  state_invalid: "The admin consent attempt expired or was already used. Start it again.",
  provider_disabled: "The integration was turned off meanwhile.",
};
/** adminConsentErrorLabel explains a refused admin consent (status=error&code=...), naming the code. */
export const adminConsentErrorLabel = (code: string): string =>
  `${adminConsentError[code] ?? "Start the admin consent again from the Integrations tab."} (code ${code})`;

const auditAction: Record<string, string> = {
  "integration.created": "Integration set up",
  "integration.updated": "Integration changed",
  "client_secret.set": "Client secret set",
  "client_secret.removed": "Client secret removed",
  "integration.write_test": "Write test run (test items created and deleted)",
  "integration.admin_consent": "Admin consent answered",
};
export const auditActionLabel = (a: string): string => auditAction[a] ?? a;

const actionLabels: Record<Action, string> = { read: "Read", create: "Create", update: "Update", send: "Send", delete: "Delete" };
export const actionLabel = (a: Action): string => actionLabels[a] ?? a;

export function capabilityLabel(p: ProviderInfo | undefined, c: Capability): string {
  return p?.capabilities.find((x) => x.id === c)?.label ?? c;
}

/**
 * scopeMeaning says what a missing OAuth scope stands for, from the
 * catalog: the capabilities and actions that need it.
 */
export function scopeMeaning(p: ProviderInfo | undefined, scope: string): string {
  const uses: string[] = [];
  for (const c of p?.capabilities ?? []) {
    const acts = c.actions.filter((a) => (c.scopes[a] ?? []).includes(scope));
    if (acts.length > 0) uses.push(`${c.label}: ${acts.map((a) => actionLabel(a).toLowerCase()).join(", ")}`);
  }
  return uses.length > 0 ? uses.join("; ") : "sign-in";
}
