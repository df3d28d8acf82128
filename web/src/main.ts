// The console's entry point: configuration, sign-in, the coming back from a
// provider, and the three views behind hash routes.

import { Api, problemText, type ProviderInfo } from "./api.js";
import { appsView, finishConnect, takeConnectReturn, type ConnectReturn } from "./apps.js";
import { adminConsentErrorLabel, callbackErrorLabel } from "./labels.js";
import { auditView } from "./audit.js";
import { loadConfig, type Config } from "./config.js";
import type { Ctx } from "./context.js";
import { busy, h, replace } from "./dom.js";
import { adminConsentFlow, integrationsView } from "./integrations.js";
import { adopt, currentIdentity, currentToken, devSignIn, oidcSignIn, signOut, type Identity } from "./session.js";

const main = document.getElementById("main") as HTMLElement;
const nav = document.getElementById("nav") as HTMLElement;
const who = document.getElementById("who") as HTMLElement;
const notice = document.getElementById("notice") as HTMLElement;

interface Route {
  hash: string;
  title: string;
  admin: boolean;
  view: (ctx: Ctx) => Promise<HTMLElement>;
}

const routes: Route[] = [
  { hash: "#/integrations", title: "Integrations", admin: true, view: integrationsView },
  { hash: "#/apps", title: "Connected apps", admin: false, view: appsView },
  { hash: "#/audit", title: "Audit trail", admin: true, view: auditView },
];

let cfg: Config;
let ctx: Ctx | null = null;
let pending: ConnectReturn | null = null;
/** Set on the return from an org-wide admin consent: the outcome is shown, and the Integrations tab after sign-in. */
let consentReturn: { text: string; kind: "info" | "error" } | null = null;

function notify(text: string, kind: "info" | "error" = "info"): void {
  replace(notice, h("p", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : null }, text));
}

function contextFor(id: Identity): Ctx {
  const api = new Api((cfg.apiBaseUrl ?? "").replace(/\/+$/, ""), currentToken, () => {
    signOut();
    ctx = null;
    showSignIn("Your session has ended: sign in again.");
  });
  let catalog: Promise<ProviderInfo[]> | null = null;
  return {
    api,
    id,
    cfg,
    notify,
    catalog: () => {
      catalog ??= api.call<{ providers: ProviderInfo[] }>("GET", "/v1/providers").then((r) => {
        if (!r.ok) {
          catalog = null;
          throw new Error(problemText(r.problem));
        }
        return r.data.providers;
      });
      return catalog;
    },
  };
}

// ---- signed out -------------------------------------------------------------

function showSignIn(message?: string): void {
  replace(who);
  nav.hidden = true;
  replace(nav);
  const intro = pending
    ? h("p", { class: "pending", role: "status" }, "Sign in to finish connecting your account.")
    : consentReturn
      ? h("p", { class: "pending", role: "status" }, "Sign in to see the recorded admin consent on the Integrations tab.")
      : message
      ? h("p", { class: "notice notice-error", role: "alert" }, message)
      : null;
  replace(main, cfg.signIn === "local" ? devSignInForm(intro) : oidcSignInPanel(intro));
  main.querySelector<HTMLElement>("h2")?.focus();
}

const presets = [
  { label: "Alice, organization admin", user: "u-alice", org: "o-acme", admin: true, groups: "" },
  { label: "Bob, member of the pilot group", user: "u-bob", org: "o-acme", admin: false, groups: "pilot" },
  { label: "Carol, member", user: "u-carol", org: "o-acme", admin: false, groups: "" },
];

function devSignInForm(intro: HTMLElement | null): HTMLElement {
  const user = h("input", { type: "text", id: "dev-user", value: presets[0].user, required: true, autocomplete: "off" });
  const org = h("input", { type: "text", id: "dev-org", value: presets[0].org, required: true, autocomplete: "off" });
  const admin = h("input", { type: "checkbox", id: "dev-admin", checked: presets[0].admin });
  const groups = h("input", { type: "text", id: "dev-groups", value: presets[0].groups, autocomplete: "off", "aria-describedby": "dev-groups-help" });
  const error = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h(
    "form",
    { id: "dev-sign-in", "aria-labelledby": "sign-in-title" },
    h("h2", { id: "sign-in-title", tabindex: "-1" }, "Development sign-in"),
    intro,
    h("p", { class: "help" }, "Local runs only: the local server signs a token for whoever you choose. A deployed console signs in with your identity provider and never shows this form."),
    h(
      "fieldset",
      {},
      h("legend", {}, "Sign in as"),
      presets.map((p, i) => {
        const b = h("button", { type: "button", id: `dev-preset-${i}` }, p.label);
        b.addEventListener("click", () => {
          user.value = p.user;
          org.value = p.org;
          admin.checked = p.admin;
          groups.value = p.groups;
          submit.focus();
        });
        return h("span", {}, b, " ");
      }),
    ),
    h("label", { for: "dev-user" }, "User id (sub)"),
    user,
    h("label", { for: "dev-org" }, "Organization id"),
    org,
    h("div", { class: "choice" }, admin, " ", h("label", { for: "dev-admin" }, `Organization admin (${cfg.adminRole})`)),
    h("label", { for: "dev-groups" }, "Groups"),
    groups,
    h("p", { class: "help", id: "dev-groups-help" }, "Comma-separated, e.g. pilot."),
    error,
    h("p", { class: "buttons" }, submit),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void busy(submit, async () => {
      replace(error);
      try {
        const tok = await devSignIn({
          user: user.value.trim(),
          org: org.value.trim(),
          roles: admin.checked ? [cfg.adminRole] : [],
          groups: groups.value.split(",").map((g) => g.trim()).filter((g) => g !== ""),
        });
        await signedIn(tok);
      } catch (e) {
        replace(error, e instanceof Error ? e.message : "The sign-in failed.");
      }
    });
  });
  return form;
}

function oidcSignInPanel(intro: HTMLElement | null): HTMLElement {
  const error = h("p", { class: "form-error", role: "alert" });
  const status = h("p", { role: "status" });
  const button = h("button", { type: "button", class: "primary", id: "oidc-sign-in" }, "Sign in");
  button.addEventListener("click", () =>
    void busy(button, async () => {
      replace(error);
      try {
        const tok = await oidcSignIn(cfg, () => replace(status, "Finish signing in in the window that opened."));
        await signedIn(tok);
      } catch (e) {
        replace(status);
        replace(error, e instanceof Error ? e.message : "The sign-in failed.");
      }
    }),
  );
  return h(
    "section",
    { id: "sign-in", "aria-labelledby": "sign-in-title" },
    h("h2", { id: "sign-in-title", tabindex: "-1" }, "Sign in"),
    intro,
    h("p", {}, "Sign in with your organization account to manage integrations and your connected apps."),
    error,
    status,
    h("p", { class: "buttons" }, button),
  );
}

// ---- signed in --------------------------------------------------------------

async function signedIn(tok: string): Promise<void> {
  const id = adopt(tok, cfg);
  ctx = contextFor(id);
  const signOutButton = h("button", { type: "button", id: "sign-out" }, "Sign out");
  signOutButton.addEventListener("click", () => {
    signOut();
    ctx = null;
    replace(notice);
    showSignIn();
  });
  replace(
    who,
    h("span", { id: "identity" }, `Signed in as ${id.user}, organization ${id.org}${id.admin ? ", admin" : ""}${id.groups.length > 0 ? `, groups ${id.groups.join(", ")}` : ""}`),
    " ",
    signOutButton,
  );
  const r = pending;
  pending = null;
  let target = location.hash;
  if (r) {
    target = (await finishConnect(ctx, r)) === "test_account" ? "#/integrations" : "#/apps";
  }
  if (consentReturn) {
    // The Integrations tab reads the integration again: its card shows
    // the admin consent as recorded.
    notify(consentReturn.text, consentReturn.kind);
    consentReturn = null;
    target = "#/integrations";
  }
  if (!routes.some((x) => x.hash === target && (id.admin || !x.admin))) target = id.admin ? "#/integrations" : "#/apps";
  if (location.hash !== target) history.replaceState(null, "", target);
  await render(false);
}

async function render(focus = true): Promise<void> {
  const id = currentIdentity();
  if (!ctx || !id) return;
  const here = routes.find((r) => r.hash === location.hash && (id.admin || !r.admin));
  if (!here) return;
  replace(
    nav,
    h(
      "ul",
      {},
      routes
        .filter((r) => id.admin || !r.admin)
        .map((r) => h("li", {}, h("a", { href: r.hash, "aria-current": r === here ? "page" : null }, r.title))),
    ),
  );
  nav.hidden = false;
  document.title = `${here.title} · Organization Settings`;
  replace(main, h("p", { role: "status" }, "Loading…"));
  const session = ctx;
  let view: HTMLElement;
  try {
    view = await here.view(session);
  } catch (e) {
    view = h("p", { class: "error", role: "alert" }, e instanceof Error ? e.message : "Something went wrong.");
  }
  // A 401 on the way signed the user out: the sign-in stays on screen.
  if (ctx !== session) return;
  replace(main, view);
  if (focus) main.querySelector<HTMLElement>("h2")?.focus();
}

window.addEventListener("hashchange", () => void render());

async function start(): Promise<void> {
  pending = takeConnectReturn();
  try {
    cfg = await loadConfig();
  } catch (e) {
    replace(main, h("p", { class: "error", role: "alert" }, `The console is not configured: ${e instanceof Error ? e.message : String(e)}`));
    return;
  }
  document.documentElement.dataset.signIn = cfg.signIn;
  if (pending && (pending.flow === adminConsentFlow || pending.status === "admin_consent_granted")) {
    // An org-wide admin consent: nothing to complete, the callback
    // recorded Microsoft's answer on the integration.
    const name = pending.provider === "microsoft365" ? "Microsoft 365" : pending.provider;
    consentReturn =
      pending.status === "admin_consent_granted"
        ? { text: `Admin consent granted: an administrator granted the ${name} permissions for the whole organization. Users can connect without being asked to consent.`, kind: "info" }
        : { text: `Admin consent for ${name} was not granted. ${adminConsentErrorLabel(pending.code ?? "unknown")}`, kind: "error" };
    notify(consentReturn.text, consentReturn.kind);
    pending = null;
  }
  if (pending && pending.status !== "pending") {
    // Nothing to finish: say what the provider or the callback refused.
    notify(`The connection did not succeed. ${callbackErrorLabel(pending.code ?? "unknown")}`, "error");
    pending = null;
  }
  showSignIn();
}

void start();

