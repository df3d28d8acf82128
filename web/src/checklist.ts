// A diagnostics report or a "Test after changes" report as a checklist:
// each check's status in words (and an icon that is only decoration), what
// it found, who can fix it and how.

import type { Check, ProviderInfo, WriteConfirmation } from "./api.js";
import { h, when } from "./dom.js";
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
            h("strong", {}, checkLabel(c.id, provider?.capabilities, c.write !== undefined)),
          ),
          h("p", { class: "check-message" }, c.message),
          c.write ? writeConfirmation(c.write) : null,
          // A skipped check's message names the check it waits for; what to
          // do and who does it belong to that one.
          needsAction(c) && c.remediation ? h("p", { class: "check-remediation" }, h("span", { class: "label" }, "What to do: "), c.remediation) : null,
          needsAction(c) ? h("p", { class: "check-owner" }, h("span", { class: "label" }, "Who can fix it: "), ownerLabel(c.owner)) : null,
        ),
      ),
    ),
  );
}

/**
 * writeConfirmation is a write step's confirmations: what it wrote, the id
 * the provider gave it and when, and whether it was deleted. An item
 * created and not deleted is still in the test account: its id is what a
 * person removes.
 */
function writeConfirmation(w: WriteConfirmation): HTMLElement {
  const leftOver = w.created && !w.deleted;
  const created = w.created
    ? `Yes${w.id ? `, id ${w.id}` : ""}${w.createdAt ? ` (${when(w.createdAt)})` : ""}`
    : "No: nothing was created";
  const deleted = !w.created
    ? "Not needed"
    : w.deleted
      ? `Yes${w.deletedAt ? ` (${when(w.deletedAt)})` : ""}`
      : "No";
  return h(
    "div",
    { class: "write-confirmation", "data-created": String(w.created), "data-deleted": String(w.deleted), "data-item-id": w.id ?? "" },
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Test item"),
      h("dd", {}, w.item),
      h("dt", {}, "Created"),
      h("dd", { class: "write-created" }, created),
      h("dt", {}, "Deleted"),
      h("dd", { class: leftOver ? "write-deleted bad" : "write-deleted" }, deleted),
    ),
    leftOver
      ? h(
          "p",
          { class: "write-cleanup", role: "note" },
          h("strong", {}, "Clean up: "),
          w.id ? `the test item is still in the test account, with the id ${w.id}. Delete it there.` : "the test item may still be in the test account (the provider gave no id). Look for it there and delete it.",
        )
      : null,
  );
}

function needsAction(c: Check): boolean {
  return c.status === "fail" || c.status === "warn";
}
