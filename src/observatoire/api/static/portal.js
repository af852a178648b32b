// Observatoire public portal: the published monthly releases only (never the store), as a choropleth of the
// zones, tables with each number's margin of error, and the release's files. UI text is French.
// Nothing is loaded from outside this server: no tiles, no fonts, no CDN.

import { API, SOURCE_LABELS, addLegend, classify, highlightZone, escapeHtml, frDate, frNumber, getJson, monthLabel } from "./common.js";

// Numbers not published: under the threshold ("< k", hatched) and masked (secondary suppression, grey).
const UNPUBLISHED_FILL = { primary: "url(#hatch-primary)", secondary: "#aab2bc" };
const MEASURES = {
  count: { label: "Nombre de faits", key: "value", digits: 0 },
  rate: { label: "Taux pour 1\u202f000 habitants", key: "rate_per_1000", digits: 2 },
};
const FILES = {
  "zones.csv": "Arrondissements (CSV, séparateur « ; »)",
  "city.csv": "Ensemble de la ville (CSV, séparateur « ; »)",
  "zones.geojson": "Arrondissements avec leurs limites (GeoJSON)",
  "release.json": "Publication complète (JSON)",
};
const CITY_ROWS = { hors_zone: "Faits sans arrondissement connu", total: "Total des faits publiés" };

const $ = (id) => document.getElementById(id);
const state = { releases: [], cache: new Map(), map: null, layer: null, legend: null, fitted: false, seq: 0 };

function setStatus(message) {
  $("status").textContent = message;
}

function showNotice(message) {
  $("notice").textContent = message;
  $("notice").hidden = false;
}

// "1 234 faits (± 6, à 95 %) : ..." — a published number and its margin in plain words; or why it is not shown.
function plainWords(cell, k) {
  if (cell.status === "primary") return `Moins de ${k} faits : trop peu pour être publiés (seuil de ${k}).`;
  if (cell.status === "secondary") {
    return "Masqué : ce nombre n'est pas publié pour qu'un petit nombre ne puisse pas être recalculé "
      + "à partir des autres.";
  }
  const m = frNumber(cell.margin_95);
  return `${frNumber(cell.value)} fait${cell.value > 1 ? "s" : ""} (± ${m}, à 95\u202f%) : l'écart entre le nombre `
    + `publié et le nombre réel est d'au plus ${m} dans 95\u202f% des cas.`;
}

// ---- Loading: the list of releases, then one release (tables and boundaries), cached.

async function loadRelease(id) {
  if (!state.cache.has(id)) {
    const base = `${API}/public/releases/${encodeURIComponent(id)}`;
    const loading = Promise.all([getJson(base), getJson(`${base}/zones.geojson`)])
      .then(([doc, fc]) => ({ ...doc, fc }));
    loading.catch(() => state.cache.delete(id)); // try again next time
    state.cache.set(id, loading);
  }
  return state.cache.get(id);
}

function fillPeriods(releases) {
  $("period").replaceChildren(...releases.map((r) => new Option(monthLabel(r.period.month), r.id)));
}

// The release's columns (its groups, then the total); the chosen one is kept when the new release has it.
function fillGroups(columns) {
  const select = $("group");
  const previous = select.value || "total";
  select.replaceChildren(...columns.map((c) => new Option(c.label_fr, c.code)));
  select.value = columns.some((c) => c.code === previous) ? previous : "total";
}

// ---- Drawing.

function zoneTooltip(row, cell, k) {
  const rate = cell.status === "published"
    ? `<br>${frNumber(cell.rate_per_1000, 2)} pour 1\u202f000 habitants (± ${frNumber(cell.rate_margin_95, 2)})` : "";
  return `<strong>${escapeHtml(row.name)}</strong><br>${escapeHtml(plainWords(cell, k))}${rate}`;
}

function renderLegend(measure, classes, k) {
  if (state.legend) state.legend.remove();
  const unpublished = [
    `<div data-status="primary"><svg class="hatch" viewBox="0 0 14 12"><rect width="14" height="12" `
      + `fill="${UNPUBLISHED_FILL.primary}" stroke="#5b6775"/></svg>&lt;\u202f${k} : moins de ${k} faits</div>`,
    `<div data-status="secondary"><span class="swatch" style="background:${UNPUBLISHED_FILL.secondary}">`
      + "</span>masqué</div>"];
  state.legend = addLegend(state.map, measure.label, classes, measure.digits, unpublished, ' data-status="published"');
}

function highlight(zoneId, on) {
  highlightZone(state.layer, zoneId, on);
}

function renderMap(release, group, measure) {
  const { tables, fc } = release;
  const rows = new Map(tables.zones.map((z) => [z.zone_id, z]));
  const cellOf = (f) => rows.get(f.id).values[group];
  const { classes, colorOf } = classify(tables.zones.map((z) => z.values[group])
    .filter((c) => c.status === "published").map((c) => c[measure.key]));
  if (state.layer) state.layer.remove();
  state.layer = L.geoJSON(fc, {
    attribution: "Limites : IGN ; population : INSEE", // boundaries: IGN; population: INSEE
    style: (f) => {
      const cell = cellOf(f);
      return { fillColor: UNPUBLISHED_FILL[cell.status] || colorOf(cell[measure.key]), fillOpacity: 0.85,
        color: "#ffffff", weight: 1 };
    },
    onEachFeature: (f, layer) => {
      layer.bindTooltip(zoneTooltip(rows.get(f.id), cellOf(f), tables.k), { sticky: true, className: "zone-tip" });
      layer.on("mouseover", () => highlight(f.id, true));
      layer.on("mouseout", () => highlight(f.id, false));
    },
  });
  // The map needs a view before its first layer is drawn.
  if (!state.fitted && state.layer.getBounds().isValid()) {
    state.map.fitBounds(state.layer.getBounds(), { padding: [10, 10] });
    state.fitted = true;
  }
  state.layer.addTo(state.map);
  // Mark each drawn polygon with its zone and what it shows, for styling hooks and tests.
  state.layer.eachLayer((l) => {
    const el = l.getElement();
    if (!el) return;
    const cell = cellOf(l.feature);
    el.setAttribute("data-zone-id", l.feature.id);
    el.setAttribute("data-shown", cell.shown);
    el.setAttribute("data-status", cell.status);
  });
  renderLegend(measure, classes, tables.k);
}

function numberCell(text, value) {
  const td = document.createElement("td");
  td.className = "num";
  td.dataset.value = value === null || value === undefined ? "" : String(value);
  td.textContent = text;
  return td;
}

// The number as the release shows it ("123" in French digits, "< 10", "masqué").
function shownText(cell) {
  return cell.status === "published" ? frNumber(cell.value) : cell.shown;
}

function renderZones(tables, group, month) {
  const body = document.createElement("tbody");
  for (const z of tables.zones) {
    const cell = z.values[group];
    const published = cell.status === "published";
    const tr = document.createElement("tr");
    Object.assign(tr.dataset, { zoneId: z.zone_id, shown: cell.shown, status: cell.status });
    tr.title = plainWords(cell, tables.k);
    const name = document.createElement("th");
    name.scope = "row";
    name.textContent = z.name;
    const rate = published ? `${frNumber(cell.rate_per_1000, 2)} (± ${frNumber(cell.rate_margin_95, 2)})` : "—";
    tr.append(name, numberCell(frNumber(z.population), z.population), numberCell(shownText(cell), cell.value),
      numberCell(published ? `± ${frNumber(cell.margin_95)}` : "—", published ? cell.margin_95 : null),
      numberCell(rate, cell.rate_per_1000));
    tr.addEventListener("mouseenter", () => highlight(z.zone_id, true));
    tr.addEventListener("mouseleave", () => highlight(z.zone_id, false));
    body.append(tr);
  }
  $("zones-table").tBodies[0].replaceWith(body);
  const label = tables.columns.find((c) => c.code === group).label_fr;
  $("zones-caption").textContent = `${label} par arrondissement, ${monthLabel(month)}`;
}

function renderCity(tables, month) {
  const body = document.createElement("tbody");
  for (const r of tables.city) {
    const published = r.status === "published";
    const tr = document.createElement("tr");
    Object.assign(tr.dataset, { row: r.row, column: r.column, shown: r.shown, status: r.status });
    if (r.row === "categorie") tr.className = "sub";
    const name = document.createElement("th");
    name.scope = "row";
    name.textContent = r.row === "categorie" ? `dont ${r.label_fr}` : (CITY_ROWS[r.row] || r.label_fr);
    tr.append(name, numberCell(shownText(r), r.value),
      numberCell(published ? `± ${frNumber(r.margin_95)}` : "—", published ? r.margin_95 : null));
    body.append(tr);
  }
  $("city-table").tBodies[0].replaceWith(body);
  $("city-caption").textContent = `Ensemble de la ville, ${monthLabel(month)} : groupes de faits et catégories`;
}

// The city's figure for the chosen group, in plain words.
function renderUncertainty(tables, group) {
  const city = tables.city.find((r) => (group === "total" ? r.row === "total"
    : r.row === "groupe" && r.column === group));
  const label = tables.columns.find((c) => c.code === group).label_fr;
  const words = plainWords(city, tables.k);
  $("uncertainty").textContent = `Ensemble de la ville, ${label.toLowerCase()} : ${words[0].toLowerCase()}`
    + `${words.slice(1)} Chaque nombre publié porte ainsi sa marge d'erreur : survolez un arrondissement sur la `
    + "carte, ou lisez le tableau ci-dessous.";
}

function renderDownloads(summary) {
  const base = `${API}/public/releases/${encodeURIComponent(summary.id)}`;
  $("downloads").replaceChildren(...summary.files.map((name) => {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = `${base}/${name}`;
    a.download = `observatoire-${summary.id}-${name}`;
    a.dataset.file = name;
    a.textContent = FILES[name] || name;
    li.append(a, ` — ${name}`);
    return li;
  }));
  // The public control report of the selected month's quarter (built from the releases only).
  const [year, month] = summary.period.month.split("-").map(Number);
  const quarter = `${year}-Q${Math.ceil(month / 3)}`;
  $("report-quarter").textContent = `${Math.ceil(month / 3)}e trimestre ${year}`.replace(/^1e/, "1er");
  $("doc-report-html").href = `${API}/public/report?period=${quarter}&format=html`;
  $("doc-report-pdf").href = `${API}/public/report?period=${quarter}&format=pdf`;
  const sources = summary.sources.map((s) => SOURCE_LABELS[s] || s).join(", ");
  $("release-info").textContent = `Mois publié : ${monthLabel(summary.period.month)}, publication faite le `
    + `${frDate(summary.created_at)} ; sources : ${sources} ; confidentialité dépensée ε = `
    + `${frNumber(summary.epsilon, 0, 3)} ; seuil de publication : ${summary.k} faits.`;
}

async function render() {
  const seq = ++state.seq;
  const summary = state.releases.find((r) => r.id === $("period").value);
  document.body.dataset.state = "loading";
  setStatus("Chargement…"); // loading
  let release;
  try {
    release = await loadRelease(summary.id);
  } catch (err) {
    if (seq !== state.seq) return;
    setStatus(`Impossible d'afficher cette publication : ${err.message}`); // cannot show this release
    document.body.dataset.state = "error";
    return;
  }
  if (seq !== state.seq) return; // a newer choice has been made
  const { tables } = release;
  fillGroups(tables.columns);
  const group = $("group").value;
  const measure = MEASURES[$("measure").value] || MEASURES.count;
  const drawable = Boolean(state.map) && release.fc.features.some((f) => f.geometry); // a profile may lack boundaries
  $("map").hidden = !drawable;
  if (drawable) renderMap(release, group, measure);
  renderZones(tables, group, tables.month);
  renderCity(tables, tables.month);
  renderUncertainty(tables, group);
  renderDownloads(summary);
  document.querySelectorAll(".k").forEach((el) => { el.textContent = String(tables.k); });
  $("attribution").textContent = `(${tables.attribution})`;
  const shown = tables.zones.filter((z) => z.values[group].status === "published").length;
  setStatus(`${monthLabel(tables.month)} : ${shown} arrondissement${shown > 1 ? "s" : ""} sur ${tables.zones.length} `
    + "avec un nombre publié.");
  $("zones-table").dataset.release = summary.id;
  $("zones-table").dataset.group = group;
  document.body.dataset.state = "ready";
}

async function main() {
  if (typeof window.L === "undefined") {
    // Leaflet missing (`make web` copies it into static/vendor): the tables are still shown, without the map.
    if (!$("vendor-notice")) showNotice("La carte n'a pas pu être chargée ; les tableaux restent disponibles.");
  } else {
    state.map = L.map("map", { zoomSnap: 0.25, scrollWheelZoom: false });
    state.map.attributionControl.setPrefix("Leaflet");
  }
  try {
    state.releases = (await getJson(`${API}/public/releases`)).releases;
  } catch (err) {
    setStatus(`Impossible de lire les publications : ${err.message}`); // cannot read the releases
    document.body.dataset.state = "error";
    return;
  }
  if (!state.releases.length) {
    $("release-view").hidden = true;
    $("empty").hidden = false;
    document.body.dataset.state = "empty";
    return;
  }
  fillPeriods(state.releases); // newest first: the newest is selected
  for (const id of ["period", "group", "measure"]) $(id).addEventListener("change", render);
  await render();
}

main();
