// The API client and the shapes of its answers (openapi.yaml). Fields that
// other parts of the service add later are optional here: the console shows
// them when present and works without them.

export interface FieldError {
  field: string;
  code: string;
  message: string;
}

export interface Problem {
  status: number;
  code?: string;
  title?: string;
  detail?: string;
  errors?: FieldError[];
  requestId?: string;
  secureField?: string;
  currentVersion?: number;
}

export type Result<T> =
  | { ok: true; status: number; data: T; etag: string | null }
  | { ok: false; status: number; problem: Problem };

export type Capability = "email" | "calendar" | "files" | "contacts" | "crm";
export type Action = "read" | "create" | "update" | "send" | "delete";
export const allActions: Action[] = ["read", "create", "update", "send", "delete"];

export interface ProviderInfo {
  id: string;
  displayName: string;
  registers: string;
  docsUrl: string;
  setupSteps: string[];
  clientId: { label: string; example: string };
  capabilities: { id: Capability; label: string; actions: Action[]; scopes: Partial<Record<Action, string[]>> }[];
  fields: { name: "tenant" | "authBaseUrl" | "hostedDomain"; label: string; help: string; required: boolean; example: string }[];
  available: boolean;
  defaultClientAvailable: boolean;
  /** Each user connects their own account (true for every provider today). */
  requiresUserConnection?: boolean;
  /** An administrator of the provider can grant the permissions for the whole organization (Microsoft 365). */
  adminConsent?: boolean;
}

export interface ClientHealth {
  status: string;
  cause?: string;
  since?: string;
  lastSeen?: string;
}

export interface CredentialCheck {
  result: string;
  method: string;
  message: string;
  providerError?: string;
  checkedAt: string;
}

export interface Rollout {
  mode: "everyone" | "groups";
  groups?: string[];
}

export interface Integration {
  provider: string;
  displayName: string;
  configured: boolean;
  enabled: boolean;
  configMode: "default" | "organization";
  clientId?: string;
  tenant?: string;
  authBaseUrl?: string;
  hostedDomain?: string;
  capabilities: Capability[];
  allowWriteActions: boolean;
  rollout: Rollout;
  clientSecretConfigured: boolean;
  clientSecretSetAt?: string;
  status: "ready" | "incomplete" | "disabled";
  missing: string[];
  available: boolean;
  defaultClientAvailable: boolean;
  redirectUri?: string;
  version: number;
  updatedAt?: string;
  updatedBy?: string;
  credentialCheck?: CredentialCheck;
  clientHealth?: ClientHealth;
  supportContact?: SupportContact | null;
  userGuidance?: string;
  testAccount?: TestAccount | null;
  /** Microsoft 365: the outcome of the last org-wide admin consent; absent when none was asked for. */
  adminConsent?: AdminConsent;
}

/** AdminConsent is what Microsoft answered an org-wide admin consent. */
export interface AdminConsent {
  granted: boolean;
  /** The directory (tenant) id it was granted for. */
  tenant?: string;
  /** The permissions granted (or asked for, when refused). */
  scopes: string[];
  at: string;
  /** The admin who asked. */
  by?: string;
  /** Microsoft's error code when refused. */
  error?: string;
}

/** AdminConsentStart is the answer of POST .../integrations/{provider}/admin-consent. */
export interface AdminConsentStart {
  authorizationUrl: string;
  expiresAt: string;
  provider: string;
  tenant: string;
  scopes: string[];
}

/** SupportContact is who owns support for connection failures: a name and an email address or an https URL. */
export interface SupportContact {
  name: string;
  email?: string;
  url?: string;
}

/** TestAccount is the organization's test account of a provider (admins). */
export interface TestAccount {
  account: { email?: string; name?: string };
  status: Connection["status"];
  statusReason?: string;
  connectedAt: string;
  lastRefreshAt: string | null;
  lastError: { code: string; message: string; owner: string; at: string } | null;
}

export interface Card {
  provider: string;
  displayName: string;
  enabled: boolean;
  status: Integration["status"];
  capabilities: { id: Capability; label: string; enabled: boolean; actions: Action[]; allowedActions: Action[] }[];
  allowWriteActions: boolean;
  inRollout: boolean;
  connectable: boolean;
  configuration?: Integration;
  clientHealth?: ClientHealth;
  supportContact?: SupportContact;
  userGuidance?: string;
}

export interface Connection {
  provider: string;
  status: "connected" | "needs_reconnect" | "refresh_failing" | "refresh_exhausted";
  statusReason?: string;
  account: { id?: string; email?: string; name?: string; tenant?: string; domain?: string; instanceUrl?: string; externalOrg?: string };
  requestedScopes: string[];
  grantedScopes: string[];
  missingScopes: string[];
  usableCapabilities: Capability[];
  connectedAt: string;
  accessExpiresAt: string | null;
  lastRefreshAt: string | null;
  lastError: { code: string; message: string; owner: string; at: string } | null;
  /** The connection works but lacks missingScopes, which the organization's current settings ask for. */
  needsConsent: boolean;
  supportContact?: SupportContact;
  userGuidance?: string;
  /** Only on the answer of a test account's completion. */
  testAccount?: boolean;
}

export interface Check {
  id: string;
  status: "pass" | "fail" | "warn" | "skipped";
  message: string;
  remediation: string;
  owner: "admin" | "user" | "external_admin";
  /** A write step's confirmations ("Test after changes" with writes confirmed). */
  write?: WriteConfirmation;
}

/** WriteConfirmation is what a write step created and deleted in the test account. */
export interface WriteConfirmation {
  /** What the step writes, e.g. a draft message to the account itself. */
  item: string;
  created: boolean;
  /** The id the provider gave the item. */
  id?: string;
  createdAt?: string;
  /** Created and not deleted: it is still in the test account, under id. */
  deleted: boolean;
  deletedAt?: string;
}

export interface DiagnosticsReport {
  provider: string;
  user: string;
  capability: Capability;
  action: Action;
  overall: "ok" | "blocked" | "degraded";
  checks: Check[];
}

export interface TestReport {
  provider: string;
  user: string;
  overall: "ok" | "blocked" | "degraded";
  /** True only when the test created an item at the provider; each is in its step's write. */
  writesPerformed: boolean;
  steps: Check[];
  /** Which account the test ran as. */
  account?: { source: "test_account" | "own_connection"; userId?: string; email?: string; name?: string };
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  provider: string;
  action: string;
  changes: { field: string; old: string; new: string }[];
}

export interface StartResponse {
  authorizationUrl: string;
  expiresAt: string;
  provider: string;
  scopes: string[];
  /** Set when the user is already connected: what connecting again keeps and adds. */
  consent?: { mode: "incremental" | "dynamic" | "per_app"; alreadyGranted: string[]; newScopes: string[]; message: string };
}

export interface DisconnectResponse {
  provider: string;
  deleted: boolean;
  revocation: "revoked" | "failed" | "not_supported" | "none" | "shared_grant";
  revoked: boolean;
  reason?: string;
  message: string;
}

interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
}

export class Api {
  constructor(
    private readonly base: string,
    private readonly token: () => string | null,
    private readonly onUnauthorized: () => void,
  ) {}

  async call<T>(method: string, path: string, opts: CallOptions = {}): Promise<Result<T>> {
    const headers: Record<string, string> = { Accept: "application/json, application/problem+json", ...opts.headers };
    const tok = this.token();
    if (tok) headers.Authorization = `Bearer ${tok}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.body);
    }
    let res: Response;
    try {
      res = await fetch(this.base + path, { method, headers, body, credentials: "omit", cache: "no-store" });
    } catch {
      return { ok: false, status: 0, problem: { status: 0, code: "network_error", title: "The service could not be reached. Check your connection and try again." } };
    }
    const text = await res.text();
    let data: unknown = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (res.ok) return { ok: true, status: res.status, data: data as T, etag: res.headers.get("ETag") };
    if (res.status === 401) this.onUnauthorized();
    const p: Problem = data && typeof data === "object" ? (data as Problem) : { status: res.status, title: `The request failed (${res.status}).` };
    return { ok: false, status: res.status, problem: { ...p, status: res.status } };
  }
}

/** problemText is one line for a person: the problem's detail or title, and its request id. */
export function problemText(p: Problem): string {
  const text = p.detail || p.title || `The request failed (${p.status}).`;
  return p.requestId ? `${text} (request ${p.requestId})` : text;
}
