// The support contact an integration may carry: text, or an object with a
// name and an email address or URL.

export function supportText(v: unknown): string {
  if (typeof v === "string") return v;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    const parts = [o.name, o.email, o.url].filter((x): x is string => typeof x === "string" && x !== "");
    return parts.join(", ");
  }
  return "";
}
