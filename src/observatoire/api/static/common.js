// Shared by the staff map (app.js), the public portal (portal.js) and its methodology page (methodologie.js):
// the API root, French number and date display, fetching JSON, and the choropleth's classes. The pages resolve
// URLs against the app's root (methodologie.html sets <base href="../">), so "api/v1/..." works however the app
// is mounted.

export const API = "api/v1";

// French number display: decimal comma, narrow no-break space (U+202F) between thousands.
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

// A JSON answer; an error carries the HTTP status (0: server unreachable) and the server's one-line detail.
export async function getJson(url) {
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" } });
  } catch {
    const err = new Error("serveur injoignable"); // server unreachable
    err.status = 0;
    throw err;
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const err = new Error(typeof body.detail === "string" ? body.detail : `HTTP ${response.status}`);
    err.status = response.status;
    throw err;
  }
  return body;
}

const CLASSES = 5;
// ColorBrewer YlOrRd, sequential, by number of classes.
const PALETTES = {
  1: ["#fd8d3c"],
  2: ["#fecc5c", "#f03b20"],
  3: ["#ffeda0", "#feb24c", "#f03b20"],
  4: ["#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"],
  5: ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"],
};
export const NO_DATA = "#c8ccd1";

// Quantile classes on ranks; equal values always share a class; missing values are left out (NO_DATA).
// Returns [{min, max, color}] and a lookup.
export function classify(values) {
  const sorted = values.filter((v) => v !== null && v !== undefined).sort((a, b) => a - b);
  if (!sorted.length) return { classes: [], colorOf: () => NO_DATA };
  const n = sorted.length;
  const firstRank = new Map();
  sorted.forEach((v, i) => { if (!firstRank.has(v)) firstRank.set(v, i); });
  const groups = [];
  for (const v of sorted) {
    const index = Math.min(CLASSES - 1, Math.floor((firstRank.get(v) * CLASSES) / n));
    const last = groups[groups.length - 1];
    if (last && last.index === index) last.max = v;
    else groups.push({ index, min: v, max: v });
  }
  groups.forEach((g, i) => { g.color = PALETTES[groups.length][i]; });
  const colorOf = (v) => {
    if (v === null || v === undefined) return NO_DATA;
    return (groups.find((g) => v <= g.max) || groups[groups.length - 1]).color;
  };
  return { classes: groups, colorOf };
}

// The sources a release may count (release/release.toml), as the public reads them.
export const SOURCE_LABELS = {
  mains_courantes: "Mains courantes de la police municipale",
  police_uk: "Faits publiés par la police britannique (police.uk)",
};

// A choropleth legend (Leaflet control, id "legend"): a title, one row per class ("min – max"), extra rows.
export function addLegend(map, title, classes, digits, extraRows = [], attrs = "") {
  const legend = L.control({ position: "bottomright" });
  legend.onAdd = () => {
    const div = L.DomUtil.create("div", "legend");
    div.id = "legend";
    const rows = classes.map((c) => {
      const range = c.min === c.max ? frNumber(c.min, digits) : `${frNumber(c.min, digits)} – ${frNumber(c.max, digits)}`;
      return `<div${attrs}><span class="swatch" style="background:${c.color}"></span>${range}</div>`;
    }).concat(extraRows);
    div.innerHTML = `<h2>${escapeHtml(title)}</h2>${rows.join("") || "<div>Aucune donnée</div>"}`;
    return div;
  };
  legend.addTo(map);
  return legend;
}

// Highlight a zone in the table (rows with data-zone-id) and on the map layer (its polygon outlined, in front).
export function highlightZone(layer, zoneId, on) {
  document.querySelectorAll(`#zones-table tbody tr[data-zone-id="${zoneId}"]`)
    .forEach((tr) => tr.classList.toggle("active", on));
  if (!layer) return;
  layer.eachLayer((l) => {
    if (l.feature.id !== zoneId) return;
    l.setStyle({ weight: on ? 3 : 1, color: on ? "#1d2733" : "#ffffff" });
    if (on) l.bringToFront();
  });
}
