// The audit trail (admins): who changed what, when; newest first, paged.

import { problemText, type AuditEntry } from "./api.js";
import { orgPath, type Ctx } from "./context.js";
import { append, busy, h, replace, when } from "./dom.js";
import { auditActionLabel } from "./labels.js";

const pageSize = 25;

export async function auditView(ctx: Ctx): Promise<HTMLElement> {
  const catalog = await ctx.catalog();
  const name = (id: string) => catalog.find((p) => p.id === id)?.displayName ?? id;
  const body = h("tbody", {});
  const status = h("p", { class: "audit-status", role: "status" });
  const more = h("button", { type: "button", hidden: true }, "Show older changes");
  let cursor: string | undefined;

  const load = async () => {
    const q = new URLSearchParams({ limit: String(pageSize) });
    if (cursor) q.set("cursor", cursor);
    const res = await ctx.api.call<{ entries: AuditEntry[]; nextCursor?: string }>("GET", orgPath(ctx, `/audit?${q}`));
    if (!res.ok) {
      replace(status, problemText(res.problem));
      return;
    }
    for (const e of res.data.entries) {
      append(
        body,
        h(
          "tr",
          { "data-action": e.action },
          h("td", {}, h("time", { datetime: e.at }, when(e.at))),
          h("td", {}, e.actor),
          h("td", {}, name(e.provider)),
          h("td", {}, auditActionLabel(e.action)),
          h(
            "td",
            {},
            e.changes.length === 0
              ? "—"
              : h("ul", { class: "changes" }, e.changes.map((c) => h("li", {}, h("code", {}, c.field), `: ${c.old === "" ? "(empty)" : c.old} → ${c.new === "" ? "(empty)" : c.new}`))),
          ),
        ),
      );
    }
    cursor = res.data.nextCursor;
    more.hidden = !cursor;
    replace(status, body.children.length === 0 ? "No changes recorded yet." : `${body.children.length} changes shown${cursor ? "; older ones are on the next page" : ""}.`);
  };
  more.addEventListener("click", () => void busy(more, load));
  await load();

  return h(
    "section",
    { class: "view", "aria-labelledby": "view-title" },
    h("h2", { id: "view-title", tabindex: "-1" }, "Audit trail"),
    h("p", { class: "intro" }, "Every change to your organization's integrations. Client secrets appear only as set or removed."),
    h(
      "table",
      { class: "audit" },
      h("caption", {}, "Changes, newest first"),
      h("thead", {}, h("tr", {}, ["When", "Who", "Provider", "What", "Changes"].map((t) => h("th", { scope: "col" }, t)))),
      body,
    ),
    status,
    more,
  );
}
