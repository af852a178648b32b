// Shared by the public portal (portal.js) and its methodology page (methodologie.js): the API root,
// French number and date display, and fetching JSON. Both pages resolve URLs against the app's root
// (methodologie.html sets <base href="../">), so "api/v1/..." works however the app is mounted.

export const API = "api/v1";

// French number display: decimal comma, narrow no-break space (U+202F) between thousands (as app.js).
const formats = new Map();
export function frNumber(value, digits = 0, maxDigits = digits) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  const key = `${digits}-${maxDigits}`;
  if (!formats.has(key)) {
    formats.set(key, new Intl.NumberFormat("fr-FR", { minimumFractionDigits: digits, maximumFractionDigits: maxDigits }));
  }
  return formats.get(key).formatToParts(value).map((p) => (p.type === "group" ? "\u202f" : p.value)).join("");
}

// "2024-10" -> "octobre 2024" (release periods are UTC calendar months).
export function monthLabel(month) {
  const [y, m] = month.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, 1)).toLocaleDateString("fr-FR", { month: "long", year: "numeric", timeZone: "UTC" });
}

// An ISO instant -> "1 mars 2025" (Paris time).
export function frDate(iso) {
  return new Date(iso).toLocaleDateString("fr-FR", { day: "numeric", month: "long", year: "numeric",
    timeZone: "Europe/Paris" });
}

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

export async function getJson(url) {
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" } });
  } catch {
    throw new Error("serveur injoignable"); // server unreachable
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(typeof body.detail === "string" ? body.detail : `HTTP ${response.status}`);
  return body;
}

// The sources a release may count (release/release.toml), as the public reads them.
export const SOURCE_LABELS = {
  mains_courantes: "Mains courantes de la police municipale",
  police_uk: "Faits publiés par la police britannique (police.uk)",
};
