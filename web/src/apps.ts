// Connected apps (every user): the user's own connections, connect (start →
// provider → back here → complete), reconnect, disconnect, and "Why doesn't
// this work?" (the diagnostics checklist).

import { problemText, type Action, type Capability, type Card, type Connection, type DiagnosticsReport, type DisconnectResponse, type ProviderInfo, type StartResponse } from "./api.js";
import { checklist } from "./checklist.js";
import { orgPath, providerPath, type Ctx } from "./context.js";
import { append, busy, confirmDialog, h, replace, when } from "./dom.js";
import { actionLabel, callbackErrorLabel, capabilityLabel, connectionStatusLabel, scopeMeaning, statusReasonLabel } from "./labels.js";
import { supportText } from "./support.js";

export async function appsView(ctx: Ctx): Promise<HTMLElement> {
  const root = h(
    "section",
    { class: "view", "aria-labelledby": "view-title" },
    h("h2", { id: "view-title", tabindex: "-1" }, "Connected apps"),
    h("p", { class: "intro" }, "Connect your own accounts so the assistant can work with your email, calendar, files, contacts and CRM records. Your organization decides which apps are available."),
  );
  const [catalog, cards, conns] = await Promise.all([
    ctx.catalog(),
    ctx.api.call<{ integrations: Card[] }>("GET", orgPath(ctx, "/integrations")),
    ctx.api.call<{ connections: Connection[] }>("GET", orgPath(ctx, "/connections")),
  ]);
  if (!cards.ok) {
    append(root, h("p", { class: "error", role: "alert" }, problemText(cards.problem)));
    return root;
  }
  if (!conns.ok) {
    append(root, h("p", { class: "error", role: "alert" }, problemText(conns.problem)));
    return root;
  }
  const shown = cards.data.integrations.filter((c) => c.enabled || conns.data.connections.some((x) => x.provider === c.provider));
  if (shown.length === 0) append(root, h("p", {}, "Your organization has not enabled any connected apps yet."));
  for (const card of shown) {
    const p = catalog.find((x) => x.id === card.provider);
    append(root, appCard(ctx, card, p, conns.data.connections.find((x) => x.provider === card.provider)));
  }
  return root;
}

function appCard(ctx: Ctx, card: Card, p: ProviderInfo | undefined, conn: Connection | undefined): HTMLElement {
  const headingId = `app-${card.provider}-title`;
  const section = h("section", { class: "card", id: `app-${card.provider}`, "aria-labelledby": headingId, "data-connected": conn ? "true" : "false" });
  const diagSlot = h("div", { class: "slot" });
  const buttons = h("p", { class: "buttons" });
  append(section, h("h3", { id: headingId }, card.displayName));

  if (conn) {
    const reason = conn.statusReason ? `: ${statusReasonLabel(conn.statusReason)}` : "";
    append(
      section,
      h("p", { class: `status status-${conn.status}`, "data-status": conn.status }, h("span", { class: "label" }, "Status: "), connectionStatusLabel(conn.status) + reason),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Account"),
        h("dd", { class: "account" }, [conn.account.email, conn.account.name && conn.account.name !== conn.account.email ? `(${conn.account.name})` : ""].filter(Boolean).join(" ") || "Unknown account"),
        h("dt", {}, "Can use"),
        h("dd", { class: "usable" }, conn.usableCapabilities.length > 0 ? conn.usableCapabilities.map((c) => capabilityLabel(p, c)).join(", ") : "Nothing yet"),
        h("dt", {}, "Connected"),
        h("dd", {}, when(conn.connectedAt)),
      ),
    );
    if (conn.missingScopes.length > 0 || conn.needsConsent) {
      // needsConsent: the connection works and keeps working; granting the
      // missing permissions (connecting again) adds what the organization
      // enabled since, or what was not granted, without losing the rest.
      const why = conn.needsConsent
        ? [h("strong", {}, "Your organization asks for more permissions than you granted."), " What you use now keeps working. Grant the new permissions to use everything your organization enabled."]
        : [h("strong", {}, "Some permissions were not granted."), " Reconnect and allow every requested permission to use everything your organization enabled."];
      append(
        section,
        h(
          "div",
          { class: "missing", role: "note", "aria-label": "Missing permissions", "data-needs-consent": conn.needsConsent ? "true" : "false" },
          h("p", {}, why),
          conn.missingScopes.length > 0
            ? h(
                "ul",
                { class: "missing-scopes" },
                conn.missingScopes.map((s) => h("li", { "data-scope": s }, h("span", {}, `Missing permission: ${scopeMeaning(p, s)}`), " ", h("code", {}, s))),
              )
            : null,
        ),
      );
    }
    if (conn.lastError) {
      append(section, h("p", { class: "last-error" }, h("span", { class: "label" }, "Last problem: "), `${conn.lastError.message} (${when(conn.lastError.at)})`));
    }
    append(buttons, connectButton(ctx, card, conn.needsConsent ? "Grant the new permissions" : "Reconnect"), " ", disconnectButton(ctx, card, conn, section), " ");
  } else if (card.connectable) {
    append(section, h("p", { class: "status status-not-connected", "data-status": "not_connected" }, h("span", { class: "label" }, "Status: "), "Not connected"));
    append(buttons, connectButton(ctx, card, "Connect"), " ");
  } else if (!card.inRollout) {
    append(section, h("p", { class: "status status-unavailable", "data-status": "not_in_rollout" }, h("span", { class: "label" }, "Status: "), "Not available to you yet: it is being piloted with selected groups."));
  } else {
    append(section, h("p", { class: "status status-unavailable", "data-status": card.status }, h("span", { class: "label" }, "Status: "), "Not ready: your administrator has not finished setting it up."));
  }
  const diagButton = h("button", { type: "button", "aria-controls": `diag-${card.provider}` }, "Why doesn't this work?");
  diagButton.addEventListener("click", () => {
    replace(diagSlot, diagnosticsForm(ctx, card, p));
    diagSlot.querySelector<HTMLElement>("select")?.focus();
  });
  append(buttons, diagButton);
  append(section, buttons);

  const support = supportText(conn?.supportContact ?? card.supportContact);
  const guidance = conn?.userGuidance ?? card.userGuidance;
  if (guidance) append(section, h("p", { class: "guidance" }, h("span", { class: "label" }, "From your organization: "), guidance));
  if (support) append(section, h("p", { class: "support" }, h("span", { class: "label" }, "Help with connections: "), support));
  append(section, diagSlot);
  return section;
}

/** returnTo is where the provider sends the browser back to: this page. */
function returnTo(): string {
  return location.origin + location.pathname;
}

function connectButton(ctx: Ctx, card: Card, label: string): HTMLButtonElement {
  const b = h("button", { type: "button", class: "primary", "data-action": "connect" }, label);
  b.addEventListener("click", () =>
    void busy(b, async () => {
      const res = await ctx.api.call<StartResponse>("POST", providerPath(ctx, "connections", card.provider), { body: { returnTo: returnTo() } });
      if (!res.ok) {
        ctx.notify(`${card.displayName}: ${problemText(res.problem)}`, "error");
        return;
      }
      // The provider's page, then /oauth/callback, then back here with a
      // completion handle that only this user can redeem.
      location.assign(res.data.authorizationUrl);
    }),
  );
  return b;
}

function disconnectButton(ctx: Ctx, card: Card, conn: Connection, section: HTMLElement): HTMLButtonElement {
  const b = h("button", { type: "button", class: "danger", "data-action": "disconnect" }, "Disconnect");
  b.addEventListener("click", () =>
    void busy(b, async () => {
      const account = conn.account.email ?? "this account";
      const yes = await confirmDialog(`Disconnect ${card.displayName}?`, `The assistant will no longer be able to use ${account}. You can connect again later.`, "Disconnect");
      if (!yes) return;
      const res = await ctx.api.call<DisconnectResponse>("DELETE", providerPath(ctx, "connections", card.provider));
      if (!res.ok) {
        ctx.notify(`${card.displayName}: ${problemText(res.problem)}`, "error");
        return;
      }
      ctx.notify(`${card.displayName} disconnected. ${res.data.message}`);
      section.replaceWith(appCard(ctx, { ...card }, (await ctx.catalog()).find((p) => p.id === card.provider), undefined));
    }),
  );
  return b;
}

// ---- coming back from the provider ------------------------------------------

/** ConnectReturn is what the OAuth callback put on returnTo's query. */
export interface ConnectReturn {
  provider: string;
  status: string;
  completion: string | null;
  code: string | null;
  /** The console's own mark on returnTo: admin_consent for an org-wide admin consent. */
  flow: string | null;
}

/**
 * takeConnectReturn reads the callback's parameters and removes them from
 * the address bar and history at once, so the completion handle is not left
 * in the URL (nor sent as a referrer: the page has Referrer-Policy
 * no-referrer).
 */
export function takeConnectReturn(): ConnectReturn | null {
  const q = new URLSearchParams(location.search);
  const provider = q.get("provider");
  const status = q.get("status");
  if (!provider || !status) return null;
  history.replaceState(null, "", location.pathname + location.hash);
  return { provider, status, completion: q.get("completion"), code: q.get("code"), flow: q.get("flow") };
}

/**
 * finishConnect completes a pending connection with the signed-in user's
 * token (POST .../complete). It says what happened in the status region and
 * returns what exists now: the user's connection, the organization's test
 * account (a flow an admin started on the Integrations tab), or nothing.
 */
export async function finishConnect(ctx: Ctx, r: ConnectReturn): Promise<"connection" | "test_account" | null> {
  const name = (await ctx.catalog()).find((p) => p.id === r.provider)?.displayName ?? r.provider;
  if (r.status !== "pending" || !r.completion) {
    ctx.notify(`${name}: the provider sent back an answer the console does not understand.`, "error");
    return null;
  }
  const res = await ctx.api.call<Connection>("POST", providerPath(ctx, "connections", r.provider, "/complete"), { body: { completion: r.completion } });
  if (!res.ok) {
    ctx.notify(`${name}: ${res.problem.code === "completion_not_found" ? callbackErrorLabel("completion_not_found") : problemText(res.problem)}`, "error");
    return null;
  }
  if (res.data.testAccount) {
    ctx.notify(`${name} test account connected as ${res.data.account.email ?? res.data.account.name ?? "the chosen account"}.`);
    return "test_account";
  }
  const acct = res.data.account.email ?? res.data.account.name ?? "your account";
  const partial = res.data.missingScopes.length > 0 ? " Some permissions were not granted: see below." : "";
  ctx.notify(`${name} connected as ${acct}.${partial}`);
  return "connection";
}

// ---- diagnostics --------------------------------------------------------------

function diagnosticsForm(ctx: Ctx, card: Card, p: ProviderInfo | undefined): HTMLElement {
  const base = `diag-${card.provider}`;
  const caps = card.capabilities.length > 0 ? card.capabilities : (p?.capabilities ?? []).map((c) => ({ id: c.id, label: c.label, actions: c.actions }));
  const capSelect = h("select", { id: `${base}-capability` }, caps.map((c) => h("option", { value: c.id }, c.label)));
  const actionSelect = h("select", { id: `${base}-action` });
  const fillActions = () => {
    const c = caps.find((x) => x.id === capSelect.value);
    replace(actionSelect, (c?.actions ?? ["read"]).map((a: Action) => h("option", { value: a }, actionLabel(a))));
  };
  fillActions();
  capSelect.addEventListener("change", fillActions);
  const item = h("input", { type: "text", id: `${base}-item`, autocomplete: "off", "aria-describedby": `${base}-item-help` });
  const run = h("button", { type: "submit", class: "primary" }, "Run the checks");
  const out = h("div", { class: "diag-result", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "diagnostics", id: base, "aria-labelledby": `${base}-title` },
    h("h4", { id: `${base}-title` }, `Why doesn't ${card.displayName} work?`),
    h("label", { for: `${base}-capability` }, "What you want to use"),
    capSelect,
    h("label", { for: `${base}-action` }, "What you want to do"),
    actionSelect,
    h("label", { for: `${base}-item` }, "A specific item (optional)"),
    item,
    h("p", { class: "help", id: `${base}-item-help` }, "The id of a message, event, file, contact or record that does not work."),
    h("p", { class: "buttons" }, run),
    out,
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void busy(run, async () => {
      replace(out, h("p", {}, "Checking…"));
      const q = new URLSearchParams({ capability: capSelect.value as Capability, action: actionSelect.value });
      if (item.value.trim()) q.set("item", item.value.trim());
      const res = await ctx.api.call<DiagnosticsReport>("GET", providerPath(ctx, "diagnostics", card.provider, `?${q}`));
      if (!res.ok) {
        replace(out, h("p", { class: "error", role: "alert" }, problemText(res.problem)));
        return;
      }
      const r = res.data;
      const what = `${capabilityLabel(p, r.capability)}, ${actionLabel(r.action).toLowerCase()}`;
      replace(out, checklist(`Diagnostics: ${card.displayName} (${what})`, r.overall, r.checks, p));
      out.querySelector<HTMLElement>(".overall")?.setAttribute("tabindex", "-1");
      out.querySelector<HTMLElement>(".overall")?.focus();
    });
  });
  return form;
}
