// The rollout figures of an integration (GET .../rollout, admins), as a
// small bar chart with the numbers in text, the top failure causes, the last
// refresh run, and what the figures can and cannot count. Where the API does
// not serve the route (an older deployment), the console says so.

import { problemText } from "./api.js";
import { providerPath, type Ctx } from "./context.js";
import { append, h, replace, when } from "./dom.js";
import { connectionStatusLabel, ownerLabel } from "./labels.js";

type Counts = Record<string, number>;

export async function rolloutFigures(ctx: Ctx, provider: string, into: HTMLElement): Promise<void> {
  const res = await ctx.api.call<Record<string, unknown>>("GET", providerPath(ctx, "integrations", provider, "/rollout"));
  if (!res.ok) {
    replace(into, h("p", {}, res.status === 404 && res.problem.code !== "unknown_provider" ? "Rollout figures are not available from this service yet." : problemText(res.problem)));
    return;
  }
  replace(into);
  const d = res.data;
  const byStatus = counts(d.byStatus ?? d.connectionsByStatus ?? d.statuses);
  if (byStatus) append(into, barChart("Connections by status", byStatus, connectionStatusLabel));
  const numbers: [string, string][] = [
    ["inRolloutConnected", "Users in the rollout who are connected"],
    ["inRolloutFailing", "Users in the rollout whose connection is failing"],
    ["outsideRollout", "Connected users outside the rollout's groups"],
    ["rolloutUnknown", "Connected users whose groups are not known"],
    ["startedNotCompleted", "Users who started connecting but never finished"],
    ["reconnectsNotCompleted", "Users who started reconnecting but never finished"],
    ["connecting", "Users connecting right now"],
    ["needsConsent", "Users who still need to consent to new permissions"],
  ];
  const dl = h("dl", { class: "facts" });
  for (const [k, label] of numbers) {
    if (typeof d[k] === "number") append(dl, h("dt", {}, label), h("dd", {}, String(d[k])));
  }
  const run = d.lastRefreshRun as { startedAt?: string; outcome?: string } | null | undefined;
  if (run && typeof run.startedAt === "string") {
    const outcome: Record<string, string> = { ok: "every connection refreshed", failures: "some connections failed", partial: "some were left for the next run" };
    append(dl, h("dt", {}, "Last refresh run"), h("dd", {}, `${when(run.startedAt)}: ${outcome[run.outcome ?? ""] ?? run.outcome ?? "unknown"}`));
  } else if (run === null) {
    append(dl, h("dt", {}, "Last refresh run"), h("dd", {}, "None yet"));
  }
  if (dl.firstChild) append(into, dl);
  const causes = d.topCauses ?? d.topFailureCauses;
  if (Array.isArray(causes) && causes.length > 0) {
    append(
      into,
      h("h5", {}, "Top failure causes"),
      h(
        "ol",
        {},
        causes.map((c: Record<string, unknown>) =>
          h("li", {}, `${String(c.cause ?? c.code ?? "unknown")}: ${String(c.count ?? "?")}${typeof c.owner === "string" ? ` (fixed by ${ownerLabel(c.owner)})` : ""}`),
        ),
      ),
    );
  }
  if (typeof d.counting === "string") append(into, h("p", { class: "help" }, d.counting));
  if (!into.firstChild) append(into, h("p", {}, "No figures yet."));
}

function counts(v: unknown): Counts | null {
  if (!v || typeof v !== "object" || Array.isArray(v)) return null;
  const out: Counts = {};
  for (const [k, n] of Object.entries(v)) if (typeof n === "number") out[k] = n;
  return Object.keys(out).length > 0 ? out : null;
}

function barChart(title: string, data: Counts, label: (k: string) => string): HTMLElement {
  const max = Math.max(1, ...Object.values(data));
  return h(
    "figure",
    { class: "bars" },
    h("figcaption", {}, title),
    h(
      "ul",
      {},
      Object.entries(data).map(([k, n]) => {
        const bar = h("span", { class: `bar bar-${k}`, "aria-hidden": "true" });
        bar.style.width = `${(100 * n) / max}%`;
        return h("li", {}, h("span", { class: "bar-label" }, `${label(k)}: ${n}`), h("span", { class: "bar-track" }, bar));
      }),
    ),
  );
}
