// A diagnostics report or a "Test after changes" report as a checklist:
// each check's status in words (and an icon that is only decoration), what
// it found, who can fix it and how.

import type { Check, ProviderInfo } from "./api.js";
import { h } from "./dom.js";
import { checkLabel, checkStatusIcon, checkStatusLabel, overallLabel, ownerLabel } from "./labels.js";

export function checklist(title: string, overall: string, checks: Check[], provider: ProviderInfo | undefined, notes: string[] = []): HTMLElement {
  const heading = h("h4", {}, title);
  return h(
    "section",
    { class: "checklist", "data-overall": overall, "aria-label": title },
    heading,
    h("p", { class: `overall overall-${overall}` }, h("strong", {}, "Overall: "), overallLabel(overall)),
    notes.map((n) => h("p", { class: "note" }, n)),
    h(
      "ol",
      { class: "checks" },
      checks.map((c) =>
        h(
          "li",
          { class: `check check-${c.status}`, "data-check": c.id, "data-status": c.status },
          h(
            "p",
            { class: "check-head" },
            h("span", { class: "check-icon", "aria-hidden": "true" }, checkStatusIcon(c.status)),
            h("span", { class: "check-status" }, checkStatusLabel(c.status)),
            " ",
            h("strong", {}, checkLabel(c.id, provider?.capabilities)),
          ),
          h("p", { class: "check-message" }, c.message),
          // A skipped check's message names the check it waits for; what to
          // do and who does it belong to that one.
          needsAction(c) && c.remediation ? h("p", { class: "check-remediation" }, h("span", { class: "label" }, "What to do: "), c.remediation) : null,
          needsAction(c) ? h("p", { class: "check-owner" }, h("span", { class: "label" }, "Who can fix it: "), ownerLabel(c.owner)) : null,
        ),
      ),
    ),
  );
}

function needsAction(c: Check): boolean {
  return c.status === "fail" || c.status === "warn";
}
