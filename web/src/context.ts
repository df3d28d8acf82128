// What every view is given.

import type { Api, ProviderInfo } from "./api.js";
import type { Config } from "./config.js";
import type { Identity } from "./session.js";

export interface Ctx {
  api: Api;
  id: Identity;
  cfg: Config;
  /** notify shows a message in the page's status region (read out by screen readers). */
  notify(text: string, kind?: "info" | "error"): void;
  /** catalog is GET /v1/providers, read once per sign-in. */
  catalog(): Promise<ProviderInfo[]>;
}

/** orgPath is an API path under the caller's organization. */
export function orgPath(ctx: Ctx, rest: string): string {
  return `/v1/orgs/${encodeURIComponent(ctx.id.org)}${rest}`;
}

export function providerPath(ctx: Ctx, kind: "integrations" | "connections" | "diagnostics", provider: string, rest = ""): string {
  return orgPath(ctx, `/${kind}/${encodeURIComponent(provider)}${rest}`);
}
