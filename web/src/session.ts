// Who is signed in. The bearer token lives in this module's memory only:
// nothing writes it to browser storage, a cookie or the URL, so it is gone
// when the tab closes or reloads, and no other page can read it.

import type { ClaimNames, Config } from "./config.js";

export interface Identity {
  user: string;
  org: string;
  roles: string[];
  groups: string[];
  admin: boolean;
  /** Seconds since the epoch when the token expires (0: unknown). */
  expires: number;
}

let token: string | null = null;
let identity: Identity | null = null;

export function currentToken(): string | null {
  return token;
}

export function currentIdentity(): Identity | null {
  return identity;
}

export function signOut(): void {
  token = null;
  identity = null;
}

/** adopt keeps a token after checking it carries a user and an organization. */
export function adopt(tok: string, cfg: Config): Identity {
  const id = identityOf(tok, cfg.claims, cfg.adminRole);
  token = tok;
  identity = id;
  return id;
}

function identityOf(tok: string, names: ClaimNames, adminRole: string): Identity {
  const parts = tok.split(".");
  if (parts.length !== 3) throw new Error("The sign-in did not return a JWT.");
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(new TextDecoder().decode(base64urlDecode(parts[1]))) as Record<string, unknown>;
  } catch {
    throw new Error("The sign-in returned a token that cannot be read.");
  }
  const user = claims[names.user];
  const org = claims[names.org];
  if (typeof user !== "string" || user === "" || typeof org !== "string" || org === "") {
    throw new Error(`The token has no ${names.user} or ${names.org} claim.`);
  }
  const roles = list(claims[names.roles]);
  return {
    user,
    org,
    roles,
    groups: list(claims[names.groups]),
    admin: roles.includes(adminRole),
    expires: typeof claims.exp === "number" ? claims.exp : 0,
  };
}

function list(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
  if (typeof v === "string" && v !== "") return [v];
  return [];
}

function base64urlDecode(s: string): Uint8Array {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
  const bin = atob(b64);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function base64url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

// ---- local runs -------------------------------------------------------------

export interface DevIdentity {
  user: string;
  org: string;
  roles: string[];
  groups: string[];
}

/** devSignIn asks make run's server to mint a token (local runs only). */
export async function devSignIn(who: DevIdentity): Promise<string> {
  const res = await fetch("local/sign-in", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(who),
    credentials: "omit",
    cache: "no-store",
  });
  const body = (await res.json().catch(() => null)) as { token?: string; detail?: string } | null;
  if (!res.ok || !body?.token) throw new Error(body?.detail ?? `The development sign-in failed (${res.status}).`);
  return body.token;
}

// ---- deployed: OpenID Connect, authorization code + PKCE --------------------

/** The channel the sign-in window reports on (signed-in.html). */
export const signInChannel = "console-sign-in";

export interface SignInReply {
  state: string | null;
  code: string | null;
  error: string | null;
  errorDescription: string | null;
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
}

/**
 * oidcSignIn signs in with the product's identity provider as a public
 * client: authorization code with PKCE (S256) in a separate window, so the
 * verifier and the token never leave this page's memory (a full-page
 * redirect would have to park the verifier in storage). The window lands on
 * signed-in.html, which hands the code back over a same-origin
 * BroadcastChannel and closes; the state binds the answer to this attempt.
 */
export async function oidcSignIn(cfg: Config, onWaiting: () => void): Promise<string> {
  const issuer = cfg.issuer ?? "";
  const meta = await discover(issuer);
  const verifier = randomString();
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  const state = randomString();
  const redirectUri = new URL("signed-in.html", location.href).href;
  const url = new URL(meta.authorization_endpoint);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", cfg.clientId ?? "");
  url.searchParams.set("redirect_uri", redirectUri);
  url.searchParams.set("scope", cfg.scope || "openid");
  url.searchParams.set("state", state);
  url.searchParams.set("code_challenge", challenge);
  url.searchParams.set("code_challenge_method", "S256");

  const channel = new BroadcastChannel(signInChannel);
  try {
    const reply = new Promise<SignInReply>((resolve) => {
      channel.onmessage = (e: MessageEvent<SignInReply>) => {
        if (e.data && e.data.state === state) resolve(e.data);
      };
    });
    const win = window.open(url.href, "console-sign-in", "popup,width=520,height=700");
    if (!win) throw new Error("The browser blocked the sign-in window: allow pop-ups for this site and try again.");
    onWaiting();
    const r = await reply;
    if (r.error || !r.code) throw new Error(`The identity provider refused the sign-in (${r.error ?? "no code"}).`);
    const res = await fetch(meta.token_endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: r.code,
        redirect_uri: redirectUri,
        client_id: cfg.clientId ?? "",
        code_verifier: verifier,
      }),
      credentials: "omit",
      cache: "no-store",
    });
    const tok = (await res.json().catch(() => null)) as { access_token?: string; error?: string } | null;
    if (!res.ok || !tok?.access_token) throw new Error(`The identity provider did not issue a token (${tok?.error ?? res.status}).`);
    return tok.access_token;
  } finally {
    channel.close();
  }
}

async function discover(issuer: string): Promise<Discovery> {
  const res = await fetch(issuer.replace(/\/+$/, "") + "/.well-known/openid-configuration", { credentials: "omit" });
  if (!res.ok) throw new Error(`The identity provider's configuration could not be read (${res.status}).`);
  const meta = (await res.json()) as Discovery;
  // OpenID Connect Discovery 1.0, section 4.3: the issuer must be exactly
  // the one asked about.
  if (meta.issuer !== issuer) throw new Error("The identity provider's configuration names another issuer.");
  return meta;
}
