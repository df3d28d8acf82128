// The console's runtime configuration, /config.json beside index.html.
// make run's server writes it for local runs; a deployment uploads the
// template's ConsoleConfig output.

export interface ClaimNames {
  user: string;
  org: string;
  roles: string;
  groups: string;
}

export interface Config {
  /** "local": the development sign-in of make run. "oidc": the product's identity provider. */
  signIn: "local" | "oidc";
  /** Base URL of the API; empty when the API is on the console's own origin. */
  apiBaseUrl?: string;
  /** OIDC issuer (the template's JwtIssuer) and this console's public client id. */
  issuer?: string;
  clientId?: string;
  /** Scopes to ask for; default "openid". */
  scope?: string;
  claims: ClaimNames;
  adminRole: string;
}

export async function loadConfig(): Promise<Config> {
  const res = await fetch("config.json", { cache: "no-store", credentials: "omit" });
  if (!res.ok) throw new Error(`config.json: ${res.status}`);
  const cfg = (await res.json()) as Config;
  if (cfg.signIn !== "local" && cfg.signIn !== "oidc") throw new Error("config.json: signIn must be local or oidc");
  if (cfg.signIn === "oidc" && (!cfg.issuer || !cfg.clientId)) throw new Error("config.json: oidc needs issuer and clientId");
  return cfg;
}
