// Organization Settings → Integrations (admins): one card per provider, the
// settings form that follows the product page's steps, the write-only client
// secret, "Test after changes" and the rollout figures.

import { allActions, problemText, type AdminConsent, type AdminConsentStart, type Card, type Check, type DisconnectResponse, type Integration, type Problem, type ProviderInfo, type Result, type StartResponse, type TestReport } from "./api.js";
import { checklist } from "./checklist.js";
import { providerPath, orgPath, type Ctx } from "./context.js";
import { append, busy, confirmDialog, h, replace, when } from "./dom.js";
import { actionLabel, connectionStatusLabel, integrationStatusLabel, missingLabel } from "./labels.js";
import { rolloutFigures } from "./rollout.js";
import { supportText } from "./support.js";

export async function integrationsView(ctx: Ctx): Promise<HTMLElement> {
  const root = h(
    "section",
    { class: "view", "aria-labelledby": "view-title" },
    h("h2", { id: "view-title", tabindex: "-1" }, "Integrations"),
    h(
      "p",
      { class: "intro" },
      "Choose which connected app providers your organization's users can use. Users still connect their own accounts in Connected apps. " +
        "Save and test with a small group before rolling out to everyone.",
    ),
  );
  const [catalog, cards] = await Promise.all([
    ctx.catalog(),
    ctx.api.call<{ integrations: Card[] }>("GET", orgPath(ctx, "/integrations")),
  ]);
  if (!cards.ok) {
    append(root, h("p", { class: "error", role: "alert" }, problemText(cards.problem)));
    return root;
  }
  for (const card of cards.data.integrations) {
    append(root, integrationCard(ctx, card, catalog.find((p) => p.id === card.provider)));
  }
  return root;
}

function integrationCard(ctx: Ctx, initial: Card, p: ProviderInfo | undefined): HTMLElement {
  let card = initial;
  const headingId = `integration-${card.provider}-title`;
  const section = h("section", { class: "card", id: `integration-${card.provider}`, "aria-labelledby": headingId });
  const summary = h("div", { class: "summary" });
  const editorSlot = h("div", { class: "slot", id: `integration-${card.provider}-editor` });
  const testSlot = h("div", { class: "slot", id: `integration-${card.provider}-test` });
  const renderSummary = () => replace(summary, statusLine(card.status, card.configuration?.missing ?? []), facts(card, card.configuration, p), capabilityTable(card, p));
  renderSummary();

  // After a save the card shows what is stored now; the form stays open
  // with the save's result.
  const refresh = async () => {
    const res = await ctx.api.call<{ integrations: Card[] }>("GET", orgPath(ctx, "/integrations"));
    const fresh = res.ok ? res.data.integrations.find((c) => c.provider === card.provider) : undefined;
    if (fresh) {
      card = fresh;
      renderSummary();
      showConsent();
    }
  };

  const editButton = h("button", { type: "button", "data-action": "edit", "aria-expanded": "false", "aria-controls": editorSlot.id }, "Edit settings");
  const closeEditor = () => {
    replace(editorSlot);
    editButton.setAttribute("aria-expanded", "false");
    editButton.focus();
  };
  editButton.addEventListener("click", () =>
    void busy(editButton, async () => {
      if (editorSlot.firstChild) {
        closeEditor();
        return;
      }
      editButton.setAttribute("aria-expanded", "true");
      await openEditor(ctx, card.provider, p, editorSlot, async (saved) => (saved ? refresh() : closeEditor()));
    }),
  );

  const testButton = h("button", { type: "button", "data-action": "test", "aria-controls": testSlot.id }, "Test after changes");
  testButton.addEventListener("click", () => {
    replace(testSlot, testForm(ctx, card, p));
    testSlot.querySelector<HTMLElement>("button[type=submit]")?.focus();
  });

  const consentButton = p?.adminConsent ? adminConsentButton(ctx, card) : null;
  const consentHelp = consentButton ? h("p", { class: "help", id: `integration-${card.provider}-admin-consent-help` }) : null;
  // Admin consent asks Microsoft for the enabled integration's permissions,
  // so it waits until the integration is enabled (the API refuses it
  // before), and says so.
  const showConsent = () => {
    if (!consentButton || !consentHelp) return;
    consentButton.disabled = !card.enabled;
    consentHelp.textContent =
      "Where your Microsoft tenant does not let users consent to apps, a Microsoft 365 administrator grants the permissions of the enabled capabilities for everyone, once, at Microsoft." +
      (card.enabled ? "" : ` Enable ${card.displayName} first.`);
  };
  showConsent();

  const rollout = h("details", { class: "rollout" }, h("summary", {}, "Rollout progress"));
  const rolloutBody = h("div", {}, h("p", {}, "Loading…"));
  append(rollout, rolloutBody);
  rollout.addEventListener("toggle", () => {
    if (rollout.open) void rolloutFigures(ctx, card.provider, rolloutBody);
  });

  append(
    section,
    h("h3", { id: headingId }, card.displayName),
    summary,
    h("p", { class: "buttons" }, editButton, " ", testButton, consentButton ? [" ", consentButton] : null),
    consentHelp,
    rollout,
    editorSlot,
    testSlot,
  );
  return section;
}

function statusLine(status: string, missing: string[]): HTMLElement {
  let text = integrationStatusLabel(status);
  if (status === "incomplete" && missing.length > 0) text += `: missing ${missing.map(missingLabel).join(", ")}`;
  if (status === "disabled" && missing.length > 0) text += ` (enabling still needs ${missing.map(missingLabel).join(", ")})`;
  return h("p", { class: `status status-${status}`, "data-status": status }, h("span", { class: "label" }, "Status: "), text);
}

function fact(term: string, ...desc: (Node | string | null)[]): HTMLElement[] {
  return [h("dt", {}, term), h("dd", {}, ...desc)];
}

function facts(card: Card, cfg: Integration | undefined, p: ProviderInfo | undefined): HTMLElement {
  const dl = h("dl", { class: "facts" });
  const available = cfg?.available ?? p?.available ?? true;
  append(dl, fact("Availability", available ? "Available in this environment" : "Not available in this environment"));
  if (cfg) {
    append(
      dl,
      fact(
        "OAuth client",
        cfg.configMode === "organization"
          ? `Organization-owned app${cfg.clientId ? ` (client ID ${cfg.clientId})` : " (no client ID yet)"}`
          : "The platform's default app",
      ),
    );
    if (cfg.configMode === "organization") append(dl, fact("Client secret", secretState(cfg)));
  }
  const health = cfg?.clientHealth ?? card.clientHealth;
  if (health) {
    const failing = health.status !== "ok";
    const text = failing
      ? `Failing${health.cause ? ` (${health.cause})` : ""}${health.since ? ` since ${when(health.since)}` : ""}${health.lastSeen ? `, last seen ${when(health.lastSeen)}` : ""}`
      : "OK";
    append(dl, fact("Client health", h("span", { class: failing ? "bad" : "good", "data-client-health": health.status }, text)));
  }
  const rollout = cfg?.rollout;
  if (rollout) {
    append(dl, fact("Rollout", rollout.mode === "groups" ? `Pilot groups: ${(rollout.groups ?? []).join(", ")}` : "Everyone in the organization"));
  }
  append(dl, fact("Write actions", card.allowWriteActions ? "Allowed (create, update, send, delete external items)" : "Not allowed: read only"));
  if (p?.adminConsent) append(dl, fact("Admin consent", adminConsentState(cfg?.adminConsent)));
  if (cfg?.testAccount) {
    const acct = cfg.testAccount.account;
    append(dl, fact("Test account", `${acct?.email ?? acct?.name ?? "connected"}${cfg.testAccount.status ? ` (${cfg.testAccount.status})` : ""}`));
  }
  const support = supportText(cfg?.supportContact ?? card.supportContact);
  if (support) append(dl, fact("Support contact", support));
  const guidance = cfg?.userGuidance ?? card.userGuidance;
  if (guidance) append(dl, fact("User guidance", guidance));
  if (cfg?.updatedAt) append(dl, fact("Last changed", `${when(cfg.updatedAt)}${cfg.updatedBy ? ` by ${cfg.updatedBy}` : ""}`));
  return dl;
}

/** adminConsentState is the recorded org-wide admin consent in words. */
function adminConsentState(ac: AdminConsent | undefined): HTMLElement {
  if (!ac) return h("span", { "data-admin-consent": "none" }, "Not granted: no administrator has been asked yet");
  const by = ac.by ? ` by ${ac.by}` : "";
  const n = ac.scopes.length;
  if (ac.granted) {
    return h(
      "span",
      { class: "good", "data-admin-consent": "granted" },
      `Granted for tenant ${ac.tenant ?? "(unknown)"} on ${when(ac.at)}${by} (${n} ${n === 1 ? "permission" : "permissions"})`,
    );
  }
  return h("span", { class: "bad", "data-admin-consent": "refused" }, `Refused${ac.error ? ` (${ac.error})` : ""} on ${when(ac.at)}${by}: users who may not consent themselves cannot connect`);
}

/**
 * adminConsentButton starts Microsoft's org-wide admin consent: the API
 * answers Microsoft's admin consent URL, Microsoft comes back to the
 * service's callback, which records the answer and returns to this page
 * (main.ts says the outcome and clears it from the address bar).
 */
function adminConsentButton(ctx: Ctx, card: Card): HTMLButtonElement {
  const b = h(
    "button",
    { type: "button", "data-action": "admin-consent", "aria-describedby": `integration-${card.provider}-admin-consent-help` },
    "Grant admin consent for the organization",
  );
  b.addEventListener("click", () =>
    void busy(b, async () => {
      const res = await ctx.api.call<AdminConsentStart>("POST", providerPath(ctx, "integrations", card.provider, "/admin-consent"), {
        body: { returnTo: adminConsentReturnTo() },
      });
      if (!res.ok) {
        ctx.notify(`${card.displayName}: ${problemText(res.problem)}`, "error");
        return;
      }
      location.assign(res.data.authorizationUrl);
    }),
  );
  return b;
}

/**
 * adminConsentReturnTo is this page, marked as the return of an admin
 * consent: its refusals (status=error&code=...) look like a connection's,
 * and the console words them differently.
 */
export function adminConsentReturnTo(): string {
  return `${location.origin}${location.pathname}?flow=${adminConsentFlow}`;
}

export const adminConsentFlow = "admin_consent";

function secretState(cfg: Integration): string {
  return cfg.clientSecretConfigured ? `Set${cfg.clientSecretSetAt ? ` (${when(cfg.clientSecretSetAt)})` : ""}` : "Not set";
}

function capabilityTable(card: Card, p: ProviderInfo | undefined): HTMLElement {
  return h(
    "table",
    { class: "capabilities" },
    h("caption", {}, `${card.displayName}: capabilities and the actions the provider supports`),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Capability"), h("th", { scope: "col" }, "Enabled"), allActions.map((a) => h("th", { scope: "col" }, actionLabel(a))))),
    h(
      "tbody",
      {},
      card.capabilities.map((c) =>
        h(
          "tr",
          {},
          h("th", { scope: "row" }, c.label || p?.capabilities.find((x) => x.id === c.id)?.label || c.id),
          h("td", {}, c.enabled ? "Yes" : "No"),
          allActions.map((a) =>
            h("td", { class: c.actions.includes(a) ? "supported" : "unsupported" }, c.actions.includes(a) ? (c.allowedActions.includes(a) ? "Allowed" : "Supported") : "Not supported"),
          ),
        ),
      ),
    ),
  );
}

// ---- the settings form ------------------------------------------------------

async function openEditor(ctx: Ctx, provider: string, p: ProviderInfo | undefined, slot: HTMLElement, done: (saved: boolean) => Promise<void>): Promise<void> {
  const res = await ctx.api.call<Integration>("GET", providerPath(ctx, "integrations", provider));
  if (!res.ok) {
    replace(slot, h("p", { class: "error", role: "alert" }, problemText(res.problem)));
    return;
  }
  if (!p) {
    replace(slot, h("p", { class: "error", role: "alert" }, "This provider is not in the catalog."));
    return;
  }
  const form = editorForm(ctx, p, res.data, res.etag, done);
  replace(slot, form);
  form.querySelector<HTMLElement>("h4")?.focus();
}

/** The API's field names and the form's error slots. */
const fieldSlots = ["enabled", "configMode", "clientId", "clientSecret", "tenant", "authBaseUrl", "hostedDomain", "capabilities", "allowWriteActions", "rollout", "supportContact", "userGuidance"];

function editorForm(ctx: Ctx, p: ProviderInfo, loaded: Integration, loadedEtag: string | null, done: (saved: boolean) => Promise<void>): HTMLFormElement {
  let current = loaded;
  let etag = loadedEtag;
  const id = (name: string) => `ed-${p.id}-${name}`;
  const errorSlot = (name: string) => h("p", { class: "field-error", id: id(`${name}-error`), "aria-live": "polite" });
  const formError = h("div", { class: "form-error", role: "alert" });
  const result = h("div", { class: "save-result", role: "status", "aria-live": "polite" });

  // 1. Capabilities and write actions.
  const capBoxes = p.capabilities.map((c) =>
    h("input", { type: "checkbox", name: "capabilities", value: c.id, id: id(`cap-${c.id}`), checked: current.capabilities.includes(c.id) }),
  );
  const writes = h("input", { type: "checkbox", id: id("allowWriteActions"), checked: current.allowWriteActions, "aria-describedby": id("allowWriteActions-error") });

  // 2. Configuration: the platform's app or the organization's own.
  const modeDefault = h("input", { type: "radio", name: `${p.id}-configMode`, value: "default", id: id("mode-default"), checked: current.configMode !== "organization" });
  const modeOrg = h("input", { type: "radio", name: `${p.id}-configMode`, value: "organization", id: id("mode-organization"), checked: current.configMode === "organization" });
  const clientId = h("input", {
    type: "text",
    id: id("clientId"),
    value: current.clientId ?? "",
    placeholder: p.clientId.example,
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": `${id("clientId-help")} ${id("clientId-error")}`,
  });
  // Write-only: never filled from an answer, emptied after every attempt.
  const secret = h("input", {
    type: "password",
    id: id("clientSecret"),
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": `${id("clientSecret-help")} ${id("clientSecret-state")} ${id("clientSecret-error")}`,
  });
  const secretState = h("p", { id: id("clientSecret-state"), class: "secret-state" });
  const showSecretState = () =>
    replace(secretState, h("span", { class: "label" }, "Client secret: "), h("strong", { "data-secret": current.clientSecretConfigured ? "set" : "not-set" }, current.clientSecretConfigured ? "set" : "not set"), current.clientSecretConfigured && current.clientSecretSetAt ? ` (${when(current.clientSecretSetAt)})` : "");
  showSecretState();
  const saveSecret = h("button", { type: "button", id: id("saveSecret") }, "Save client secret");
  const removeSecret = h("button", { type: "button", id: id("removeSecret") }, "Remove client secret");
  const orgFields = h(
    "div",
    { class: "org-fields", hidden: current.configMode !== "organization" },
    h("label", { for: id("clientId") }, p.clientId.label || "Client ID"),
    clientId,
    h("p", { class: "help", id: id("clientId-help") }, `For example ${p.clientId.example}. ${p.registers ? `Register ${p.registers}.` : ""}`),
    errorSlot("clientId"),
    secretState,
    h("label", { for: id("clientSecret") }, "New client secret"),
    secret,
    h("p", { class: "help", id: id("clientSecret-help") }, "Write-only: stored in the secret store and never shown again. Credentials belong in this field only."),
    errorSlot("clientSecret"),
    h("p", { class: "buttons" }, saveSecret, " ", removeSecret),
    current.redirectUri ? h("p", { class: "help" }, "Redirect URI to register at the provider: ", h("code", {}, current.redirectUri)) : null,
  );
  const toggleMode = () => {
    orgFields.hidden = !modeOrg.checked;
  };
  modeDefault.addEventListener("change", toggleMode);
  modeOrg.addEventListener("change", toggleMode);

  // Provider-specific fields.
  const providerInputs = p.fields.map((f) => {
    const value = (current[f.name] as string | undefined) ?? "";
    const input = h("input", {
      type: "text",
      id: id(f.name),
      name: f.name,
      value,
      placeholder: f.example,
      autocomplete: "off",
      spellcheck: "false",
      required: f.required,
      "aria-describedby": `${id(`${f.name}-help`)} ${id(`${f.name}-error`)}`,
    });
    return {
      name: f.name,
      input,
      nodes: [
        h("label", { for: id(f.name) }, f.label, f.required ? " (required)" : " (optional)"),
        input,
        h("p", { class: "help", id: id(`${f.name}-help`) }, f.help),
        errorSlot(f.name),
      ],
    };
  });

  // Rollout.
  const groupsValue = (current.rollout.groups ?? []).join(", ");
  const rollEveryone = h("input", { type: "radio", name: `${p.id}-rollout`, value: "everyone", id: id("rollout-everyone"), checked: current.rollout.mode !== "groups" });
  const rollGroups = h("input", { type: "radio", name: `${p.id}-rollout`, value: "groups", id: id("rollout-groups"), checked: current.rollout.mode === "groups" });
  const groups = h("input", { type: "text", id: id("groups"), value: groupsValue, autocomplete: "off", "aria-describedby": `${id("groups-help")} ${id("rollout-error")}` });

  // Support contact and user guidance, when the API has them.
  const extras = optionalFields(current, id, errorSlot);

  const enabled = h("input", { type: "checkbox", id: id("enabled"), checked: current.enabled, "aria-describedby": id("enabled-error") });
  const save = h("button", { type: "submit", class: "primary" }, "Save settings");
  const cancel = h("button", { type: "button", id: id("close") }, "Close");
  cancel.addEventListener("click", () => void done(false));

  const form = h(
    "form",
    { class: "editor", id: id("form"), novalidate: true, "aria-labelledby": id("title") },
    h("h4", { id: id("title"), tabindex: "-1" }, `${p.displayName} settings`),
    formError,
    h(
      "fieldset",
      {},
      h("legend", {}, "Review provider capabilities"),
      p.capabilities.map((c, i) =>
        h("div", { class: "choice" }, capBoxes[i], " ", h("label", { for: id(`cap-${c.id}`) }, c.label), h("span", { class: "help" }, ` supports ${c.actions.map((a) => actionLabel(a).toLowerCase()).join(", ")}`)),
      ),
      errorSlot("capabilities"),
      h("div", { class: "choice" }, writes, " ", h("label", { for: id("allowWriteActions") }, "Allow write actions (create, update, send and delete external items)")),
      errorSlot("allowWriteActions"),
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Choose configuration"),
      h(
        "div",
        { class: "choice" },
        modeDefault,
        " ",
        h("label", { for: id("mode-default") }, "The platform's default OAuth app"),
        current.defaultClientAvailable ? null : h("span", { class: "help" }, " (not set up in this environment)"),
      ),
      h("div", { class: "choice" }, modeOrg, " ", h("label", { for: id("mode-organization") }, `Your organization's own ${p.registers || "OAuth app"}`)),
      errorSlot("configMode"),
      orgFields,
      providerInputs.flatMap((f) => f.nodes),
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Roll out"),
      h("div", { class: "choice" }, rollEveryone, " ", h("label", { for: id("rollout-everyone") }, "Everyone in the organization")),
      h("div", { class: "choice" }, rollGroups, " ", h("label", { for: id("rollout-groups") }, "Pilot groups only")),
      h("label", { for: id("groups") }, "Pilot groups"),
      groups,
      h("p", { class: "help", id: id("groups-help") }, "Comma-separated group names, as in your identity provider's groups claim."),
      errorSlot("rollout"),
    ),
    extras.fieldset,
    h(
      "fieldset",
      {},
      h("legend", {}, "Enable the provider"),
      h("div", { class: "choice" }, enabled, " ", h("label", { for: id("enabled") }, `Enable ${p.displayName} for this organization`)),
      errorSlot("enabled"),
    ),
    h("p", { class: "buttons" }, save, " ", cancel),
    result,
  );

  const clearErrors = () => {
    replace(formError);
    form.querySelectorAll(".field-error").forEach((e) => replace(e));
    form.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
  };

  const showProblem = (prob: Problem) => {
    if (prob.code === "precondition_failed" || prob.code === "precondition_required") {
      const reload = h("button", { type: "button" }, "Reload");
      reload.addEventListener("click", () => void reloadForm());
      replace(formError, h("p", {}, "Someone else changed this integration; reload to see their changes, then make yours again."), reload);
      return;
    }
    const unplaced: string[] = [];
    for (const e of prob.errors ?? []) {
      const slot = form.querySelector<HTMLElement>(`#${CSS.escape(id(`${slotFor(e.field)}-error`))}`);
      if (!slot) {
        unplaced.push(e.message);
        continue;
      }
      append(slot, h("span", { "data-code": e.code }, e.message), " ");
      const input = form.querySelector<HTMLElement>(`#${CSS.escape(id(slotFor(e.field)))}`);
      input?.setAttribute("aria-invalid", "true");
    }
    const lead = prob.code === "credential_in_field" ? "Not saved: a field holds what looks like a credential. Credentials belong only in the client secret field." : problemText(prob);
    replace(formError, h("p", { "data-code": prob.code ?? "" }, lead), unplaced.map((m) => h("p", {}, m)));
  };

  const reloadForm = async () => {
    const res = await ctx.api.call<Integration>("GET", providerPath(ctx, "integrations", p.id));
    if (!res.ok) {
      replace(formError, h("p", {}, problemText(res.problem)));
      return;
    }
    const fresh = editorForm(ctx, p, res.data, res.etag, done);
    form.replaceWith(fresh);
    append(fresh.querySelector(".save-result")!, "Reloaded the current settings.");
    fresh.querySelector<HTMLElement>("h4")?.focus();
  };

  const adopt = (r: Result<Integration> & { ok: true }) => {
    current = r.data;
    if (r.etag) etag = r.etag;
    showSecretState();
  };

  const precondition = (): Record<string, string> => (etag ? { "If-Match": etag } : current.configured ? {} : { "If-None-Match": "*" });

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void busy(save, async () => {
      clearErrors();
      replace(result);
      const body: Record<string, unknown> = {
        enabled: enabled.checked,
        configMode: modeOrg.checked ? "organization" : "default",
        capabilities: p.capabilities.filter((_, i) => capBoxes[i].checked).map((c) => c.id),
        allowWriteActions: writes.checked,
        rollout: rollGroups.checked
          ? { mode: "groups", groups: groups.value.split(",").map((g) => g.trim()).filter((g) => g !== "") }
          : { mode: "everyone" },
      };
      if (modeOrg.checked) body.clientId = clientId.value.trim();
      for (const f of providerInputs) {
        if (f.input.value.trim() !== "") body[f.name] = f.input.value.trim();
      }
      Object.assign(body, extras.values());
      const res = await ctx.api.call<Integration>("PUT", providerPath(ctx, "integrations", p.id), { body, headers: precondition() });
      if (!res.ok) {
        showProblem(res.problem);
        return;
      }
      adopt(res);
      replace(result, savedSummary(res.data));
      await done(true);
    });
  });

  saveSecret.addEventListener("click", () =>
    void busy(saveSecret, async () => {
      clearErrors();
      replace(result);
      const value = secret.value;
      secret.value = "";
      if (value === "") {
        append(form.querySelector(`#${CSS.escape(id("clientSecret-error"))}`)!, "Paste the client secret first.");
        return;
      }
      const res = await ctx.api.call<Integration>("PUT", providerPath(ctx, "integrations", p.id, "/client-secret"), {
        body: { clientSecret: value },
        headers: etag ? { "If-Match": etag } : {},
      });
      if (!res.ok) {
        showProblem(res.problem);
        return;
      }
      adopt(res);
      replace(result, h("p", {}, "Client secret saved."), credentialCheck(res.data));
    }),
  );

  removeSecret.addEventListener("click", () =>
    void busy(removeSecret, async () => {
      if (!(await confirmDialog(`Remove the ${p.displayName} client secret?`, "Users cannot connect or stay connected through your organization's app until a new secret is saved.", "Remove secret"))) return;
      clearErrors();
      const res = await ctx.api.call<Integration>("DELETE", providerPath(ctx, "integrations", p.id, "/client-secret"), { headers: etag ? { "If-Match": etag } : {} });
      if (!res.ok) {
        showProblem(res.problem);
        return;
      }
      adopt(res);
      replace(result, h("p", {}, "Client secret removed."));
    }),
  );

  return form;
}

/** slotFor maps an API field path (capabilities[1], rollout.groups[0]) to the form's slot. */
function slotFor(field: string): string {
  const plain = field.replace(/\[\d+\]/g, "");
  if (fieldSlots.includes(plain)) return plain;
  const first = plain.split(".")[0];
  return fieldSlots.includes(first) ? first : "form";
}

function savedSummary(i: Integration): HTMLElement {
  return h(
    "div",
    {},
    h("p", {}, `Saved. ${i.displayName} is now: ${integrationStatusLabel(i.status)}${i.status === "incomplete" && i.missing.length > 0 ? ` (missing ${i.missing.map(missingLabel).join(", ")})` : ""}.`),
    credentialCheck(i),
  );
}

function credentialCheck(i: Integration): HTMLElement | null {
  const c = i.credentialCheck;
  if (!c) return null;
  const words: Record<string, string> = {
    valid: "Valid",
    invalid_client: "Refused by the provider",
    settings_mismatch: "Settings do not fit the app",
    unreachable: "Could not reach the provider",
    unverified: "Not verified",
  };
  return h(
    "p",
    { class: `credential-check credential-${c.result}`, "data-result": c.result },
    h("span", { class: "label" }, "Credential check: "),
    h("strong", {}, words[c.result] ?? c.result),
    `. ${c.message}`,
  );
}

interface Extras {
  fieldset: HTMLElement | null;
  values(): Record<string, unknown>;
}

/**
 * optionalFields are the support contact (a name, and an email address or
 * an https URL) and the user guidance, shown when the API's integration has
 * them (it always sends both, null and empty when unset). All contact fields
 * left empty save no contact.
 */
function optionalFields(current: Integration, id: (n: string) => string, errorSlot: (n: string) => HTMLElement): Extras {
  const has = (k: string) => Object.prototype.hasOwnProperty.call(current, k);
  if (!has("supportContact") && !has("userGuidance")) return { fieldset: null, values: () => ({}) };
  const nodes: HTMLElement[] = [];
  const readers: (() => [string, unknown])[] = [];
  if (has("supportContact")) {
    const sc = current.supportContact ?? null;
    const labels: Record<string, string> = {
      name: "Support contact: who owns connection failures (a team or person)",
      email: "Support contact's email address",
      url: "or its https web page",
    };
    const inputs = (["name", "email", "url"] as const).map((k) => {
      const input = h("input", { type: k === "email" ? "email" : k === "url" ? "url" : "text", id: id(`supportContact-${k}`), value: sc?.[k] ?? "", "aria-describedby": id("supportContact-error") });
      nodes.push(h("label", { for: id(`supportContact-${k}`) }, labels[k]), input);
      return [k, input] as const;
    });
    readers.push(() => {
      const v = Object.fromEntries(inputs.map(([k, input]) => [k, input.value.trim()]).filter(([, x]) => x !== ""));
      return ["supportContact", Object.keys(v).length === 0 ? null : v];
    });
    nodes.push(errorSlot("supportContact"));
  }
  if (has("userGuidance")) {
    const ta = h("textarea", { id: id("userGuidance"), rows: 4, maxlength: 2000, "aria-describedby": id("userGuidance-error") });
    ta.value = current.userGuidance ?? "";
    nodes.push(h("label", { for: id("userGuidance") }, "User guidance (what the integration is for, which actions need review)"), ta, errorSlot("userGuidance"));
    readers.push(() => ["userGuidance", ta.value]);
  }
  return {
    fieldset: h("fieldset", {}, h("legend", {}, "Support and guidance"), nodes),
    values: () => Object.fromEntries(readers.map((r) => r())),
  };
}

// ---- test after changes -----------------------------------------------------

function testForm(ctx: Ctx, card: Card, p: ProviderInfo | undefined): HTMLElement {
  const base = `test-${card.provider}`;
  const enabledCaps = card.capabilities.filter((c) => c.enabled);
  const item = h("input", { type: "text", id: `${base}-item`, autocomplete: "off", "aria-describedby": `${base}-item-help` });
  const itemCap = h("select", { id: `${base}-itemCapability` }, enabledCaps.map((c) => h("option", { value: c.id }, c.label)));
  const importItem = h("input", { type: "text", id: `${base}-importItem`, autocomplete: "off" });
  const hasFiles = enabledCaps.some((c) => c.id === "files");
  // Only when the organization allows write actions: the API refuses a
  // write test otherwise (409 writes_not_allowed).
  const writes = card.allowWriteActions
    ? h("input", { type: "checkbox", id: `${base}-writes`, "aria-describedby": `${base}-writes-help` })
    : null;
  const out = h("div", { class: "test-result", "aria-live": "polite" });
  const run = h("button", { type: "submit", class: "primary" }, "Run the test");
  const form = h(
    "form",
    { class: "test-form", "aria-labelledby": `${base}-title` },
    h("h4", { id: `${base}-title` }, `Test ${card.displayName} after changes`),
    h(
      "p",
      { class: "help" },
      `Runs as the test account (or your own connection): reads for every enabled capability, write permissions${writes ? " (without writing anything unless you also test write actions below)" : " without writing anything"}, and the workspace import.`,
    ),
    testAccountControls(ctx, card),
    h("label", { for: `${base}-item` }, "Item to read (optional)"),
    item,
    h("p", { class: "help", id: `${base}-item-help` }, "An id of a message, event, file, contact or record the test account can see."),
    enabledCaps.length > 1 ? [h("label", { for: `${base}-itemCapability` }, "The item is a"), itemCap] : null,
    hasFiles ? [h("label", { for: `${base}-importItem` }, "File to import into a Workspace (optional)"), importItem] : null,
    writes
      ? [
          h(
            "div",
            { class: "choice" },
            writes,
            " ",
            h("label", { for: `${base}-writes` }, "Also test write actions (creates and deletes one test item per capability in the test account)"),
          ),
          h(
            "p",
            { class: "help", id: `${base}-writes-help` },
            "Only as the organization's test account: a draft to itself, a tentative event without attendees, a small text file, a contact or a task, each deleted at once. Review every confirmation in the results.",
          ),
        ]
      : null,
    h("p", { class: "buttons" }, run),
    out,
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void busy(run, async () => {
      replace(out, h("p", {}, "Testing…"));
      const body: Record<string, unknown> = {};
      if (item.value.trim()) {
        body.item = item.value.trim();
        if (enabledCaps.length > 1) body.itemCapability = itemCap.value;
      }
      if (hasFiles && importItem.value.trim()) body.importItem = importItem.value.trim();
      if (writes?.checked) body.writes = { confirm: true };
      const res = await ctx.api.call<TestReport>("POST", providerPath(ctx, "integrations", card.provider, "/test"), { body });
      if (!res.ok) {
        // A refused write test (writes_not_allowed, test_account_required)
        // says why in the API's own words.
        replace(out, h("p", { class: "error", role: "alert", "data-code": res.problem.code ?? "" }, problemText(res.problem)));
        return;
      }
      const r = res.data;
      const acct = r.account?.email ?? r.account?.name;
      const ranAs =
        r.account?.source === "test_account"
          ? `Ran as the organization's test account${acct ? ` (${acct})` : ""}.`
          : acct
            ? `Ran as your own connection (${acct}): connect a test account to test with limited access.`
            : "There is no test account and you have no connection: connect a test account.";
      const leftOver = r.steps.filter((c) => c.write?.created && !c.write.deleted).length;
      const wrote = r.writesPerformed
        ? leftOver > 0
          ? `Test items were created; ${leftOver === 1 ? "one was" : `${leftOver} were`} not deleted: see the steps for the ids to clean up.`
          : "Test items were created and deleted (see each write step's confirmations)."
        : "Nothing was written to the provider.";
      const notes = [ranAs, wrote];
      replace(out, checklist(`Test after changes: ${card.displayName}`, r.overall, r.steps as Check[], p, notes));
    });
  });
  return form;
}

/**
 * testAccountControls connect, reconnect or disconnect the organization's
 * test account: an account with representative but limited access that the
 * test runs as. Connecting goes to the provider and comes back to this page,
 * which completes it with the admin's token.
 */
function testAccountControls(ctx: Ctx, card: Card): HTMLElement {
  const ta = card.configuration?.testAccount ?? null;
  const box = h("div", { class: "test-account", "data-test-account": ta ? ta.status : "none" });
  const acct = ta ? (ta.account.email ?? ta.account.name ?? "an account") : "";
  const hintId = `test-${card.provider}-loginHint`;
  const hint = h("input", { type: "email", id: hintId, autocomplete: "off", value: ta?.account.email ?? "" });
  const connect = h("button", { type: "button", "data-action": "connect-test-account" }, ta ? "Reconnect the test account" : "Connect a test account");
  connect.addEventListener("click", () =>
    void busy(connect, async () => {
      const body: Record<string, string> = { returnTo: location.origin + location.pathname };
      if (hint.value.trim()) body.loginHint = hint.value.trim();
      const res = await ctx.api.call<StartResponse>("POST", providerPath(ctx, "integrations", card.provider, "/test-account"), { body });
      if (!res.ok) {
        ctx.notify(`${card.displayName}: ${problemText(res.problem)}`, "error");
        return;
      }
      location.assign(res.data.authorizationUrl);
    }),
  );
  append(
    box,
    h("p", {}, ta ? `Test account: ${acct} (${connectionStatusLabel(ta.status)}).` : "No test account is connected; the test runs as your own connection."),
    h("label", { for: hintId }, "Test account to sign in with (optional; an account with representative but limited access)"),
    hint,
    " ",
    connect,
  );
  if (ta) {
    const remove = h("button", { type: "button", class: "danger", "data-action": "disconnect-test-account" }, "Disconnect the test account");
    remove.addEventListener("click", () =>
      void busy(remove, async () => {
        const yes = await confirmDialog(`Disconnect the ${card.displayName} test account?`, `Tests will run as your own connection until a test account is connected again.`, "Disconnect");
        if (!yes) return;
        const res = await ctx.api.call<DisconnectResponse>("DELETE", providerPath(ctx, "integrations", card.provider, "/test-account"));
        if (!res.ok) {
          ctx.notify(`${card.displayName}: ${problemText(res.problem)}`, "error");
          return;
        }
        ctx.notify(`${card.displayName}: ${res.data.message}`);
        box.dataset.testAccount = "none";
        replace(box, h("p", {}, "No test account is connected; the test runs as your own connection."));
      }),
    );
    append(box, " ", remove);
  }
  return box;
}
