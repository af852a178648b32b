// Observatoire map page: a choropleth of the zones served by the API, the pickers, and a table.
// UI text is French; the English meaning is given in comments where it helps.
// Nothing is loaded from outside this server: no tiles, no fonts, no CDN.

import { API, NO_DATA, addLegend, classify, highlightZone, escapeHtml, frNumber, getJson } from "./common.js";

const KIND_LABELS = {
  incident: "Faits", // incidents
  enforcement: "Verbalisations", // enforcement
  activity: "Activité des services", // activity
  detection: "Détections vidéo", // automated detections
  post: "Publications", // public posts
  context: "Contexte", // context
};
const MEASURES = {
  count: { label: "Nombre d'événements", key: "count", digits: 0 }, // number of events
  rate: { label: "Taux pour 1\u202f000 habitants", key: "rate_per_1000", digits: 2 }, // rate per 1,000 residents
};

const $ = (id) => document.getElementById(id);
const state = { map: null, layer: null, legend: null, data: null, seq: 0, fitted: false, meta: null, me: null,
  indicatorLegend: null,
  cells: { hotspots: null, forecast: null, indicators: null, alerts: null },
  cellSeq: { hotspots: 0, forecast: 0, indicators: 0, alerts: 0 } };
const LAYER_LABELS = { hotspots: "points chauds", forecast: "prévision", indicators: "indicateurs", alerts: "alertes" };
// Criticality levels of the indicators (analytics/indicators/stats.py), lowest first: each is drawn as a hatching
// (SVG patterns #hatch-0..3 in index.html) so the choropleth below and the cells above stay readable.
const CRITICALITY = ["faible", "modérée", "élevée", "critique"];
const HATCH_STROKES = ["#d9c74a", "#fe9929", "#e6550d", "#a50f15"];
// Roles as the page names them (auth/roles.py).
const ROLE_LABELS = { public: "public", analyst: "analyste", operator: "opérateur", supervisor: "superviseur",
  dpo: "délégué à la protection des données", auditor: "auditeur", admin: "administrateur" };
const WINDOW_LABELS = { "7d": "7 jours", "28d": "28 jours", ytd: "depuis le 1er janvier" };
const FORECAST_K = 0.05;
const METHOD_LABELS = { grid_etas: "ETAS sur grille", naive: "Référence naïve (semaine précédente)" };

function showNotice(message) {
  const box = $("notice");
  box.textContent = message;
  box.hidden = false;
}

function setStatus(message) {
  $("status").textContent = message;
}


// One line per layer that could not be drawn (e.g. "log in to see this layer"), under the pickers.
function layerNote(kind, html) {
  const box = $("layer-notes");
  let line = box.querySelector(`[data-layer="${kind}"]`);
  if (!html) { if (line) line.remove(); return; }
  if (!line) {
    line = document.createElement("span");
    line.dataset.layer = kind;
    line.style.display = "block";
    box.append(line);
  }
  line.innerHTML = html;
}

// "2024-03" -> "2024-04-01": the first day after an inclusive end month.
function dayAfterMonth(month) {
  const [y, m] = month.split("-").map(Number);
  return m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, "0")}-01`;
}

function currentQuery() {
  const params = new URLSearchParams();
  const start = $("start").value;
  const end = $("end").value;
  if (start) params.set("start", `${start}-01`);
  if (end) params.set("end", dayAfterMonth(end));
  if ($("source").value) params.set("source", $("source").value);
  if ($("category").value) params.set("category", $("category").value);
  return params.toString();
}

function renderLegend(measure, classes) {
  if (state.legend) state.legend.remove();
  state.legend = addLegend(state.map, measure.label, classes, measure.digits);
}

function zoneSummary(p) {
  return `<strong>${escapeHtml(p.name)}</strong><br>`
    + `${frNumber(p.count)} événement${p.count > 1 ? "s" : ""}<br>`
    + `${frNumber(p.rate_per_1000, 2)} pour 1\u202f000 habitants`;
}

function highlight(zoneId, on) {
  highlightZone(state.layer, zoneId, on);
}

function renderMap(fc, measure) {
  const { classes, colorOf } = classify(fc.features.map((f) => f.properties[measure.key]));
  if (state.layer) state.layer.remove();
  state.layer = L.geoJSON(fc, {
    attribution: "Limites : IGN ; population : INSEE", // boundaries: IGN; population: INSEE
    style: (f) => ({
      fillColor: colorOf(f.properties[measure.key]), fillOpacity: 0.85, color: "#ffffff", weight: 1,
    }),
    onEachFeature: (f, layer) => {
      layer.bindTooltip(zoneSummary(f.properties), { sticky: true });
      layer.bindPopup(zoneSummary(f.properties));
      layer.on("mouseover", () => highlight(f.id, true));
      layer.on("mouseout", () => highlight(f.id, false));
    },
  });
  // The map needs a view before its first layer is drawn.
  if (!state.fitted) {
    state.map.fitBounds(state.layer.getBounds(), { padding: [10, 10] });
    state.fitted = true;
  }
  state.layer.addTo(state.map);
  // Mark each drawn polygon with its zone, for styling hooks and tests.
  state.layer.eachLayer((l) => {
    const el = l.getElement();
    if (!el) return;
    el.setAttribute("data-zone-id", l.feature.properties.zone_id);
    el.setAttribute("data-count", String(l.feature.properties.count));
    el.setAttribute("data-rate", String(l.feature.properties.rate_per_1000 ?? ""));
  });
  renderLegend(measure, classes);
}

function numberCell(value, digits) {
  const td = document.createElement("td");
  td.className = "num";
  td.dataset.value = value === null || value === undefined ? "" : String(value);
  td.textContent = frNumber(value, digits);
  return td;
}

function renderTable(fc, query) {
  const body = document.createElement("tbody");
  let population = 0;
  for (const f of fc.features) {
    const p = f.properties;
    population += p.population;
    const tr = document.createElement("tr");
    tr.dataset.zoneId = p.zone_id;
    const name = document.createElement("th");
    name.scope = "row";
    name.textContent = p.name;
    tr.append(name, numberCell(p.population, 0), numberCell(p.count, 0), numberCell(p.rate_per_1000, 2));
    tr.addEventListener("mouseenter", () => highlight(p.zone_id, true));
    tr.addEventListener("mouseleave", () => highlight(p.zone_id, false));
    body.append(tr);
  }
  const located = fc.total - fc.unlocated;
  const foot = document.createElement("tfoot");
  const tr = document.createElement("tr");
  const label = document.createElement("td");
  label.textContent = "Ensemble des arrondissements"; // all zones
  tr.append(label, numberCell(population, 0), numberCell(located, 0),
    numberCell(population ? Math.round((located / population) * 100000) / 100 : null, 2));
  foot.append(tr);
  const table = $("zones-table");
  table.tBodies[0].replaceWith(body);
  table.tFoot.replaceWith(foot);
  table.dataset.query = query;
  $("table-caption").textContent = `Événements par arrondissement, ${periodText(fc.period)}`;
  $("unlocated").textContent = fc.unlocated
    ? `${frNumber(fc.unlocated)} événement${fc.unlocated > 1 ? "s" : ""} sans arrondissement connu (non cartographiés).`
    : "";
}

function periodText(period) {
  const fmt = (d) => new Date(`${d}T00:00:00Z`).toLocaleDateString("fr-FR", { timeZone: "UTC" });
  if (period.start && period.end) {
    const last = new Date(`${period.end}T00:00:00Z`);
    last.setUTCDate(last.getUTCDate() - 1);
    return `du ${fmt(period.start)} au ${last.toLocaleDateString("fr-FR", { timeZone: "UTC" })}`;
  }
  if (period.start) return `depuis le ${fmt(period.start)}`;
  if (period.end) return `avant le ${fmt(period.end)}`;
  return "toute la période";
}

function render() {
  if (!state.data) return;
  const measure = MEASURES[$("measure").value] || MEASURES.count;
  renderMap(state.data.fc, measure);
  renderTable(state.data.fc, state.data.query);
}

async function refresh() {
  const seq = ++state.seq;
  const query = currentQuery();
  document.body.dataset.state = "loading";
  setStatus("Chargement…"); // loading
  try {
    const fc = await getJson(`${API}/zones${query ? `?${query}` : ""}`);
    if (seq !== state.seq) return; // a newer request has been sent
    state.data = { fc, query };
    render();
    setStatus(`${frNumber(fc.total)} événement${fc.total > 1 ? "s" : ""} sur la période.`);
    document.body.dataset.state = "ready";
  } catch (err) {
    if (seq !== state.seq) return;
    setStatus(`Impossible d'afficher ces données : ${err.message}`); // cannot show these data
    document.body.dataset.state = "error";
  }
}

// ---- Grid-cell layers: hot spots (Gi*, FDR) and the forecast's top cells, over the zones.

function cellQuery(kind) {
  const params = new URLSearchParams();
  if (kind === "hotspots") {
    for (const [k, v] of new URLSearchParams(currentQuery())) params.append(k, v);
  } else {
    for (const id of ["source", "category"]) if ($(id).value) params.append(id, $(id).value);
    params.append("k", String(FORECAST_K));
  }
  return params.toString();
}

function drawCells(kind, fc) {
  if (state.cells[kind]) state.cells[kind].remove();
  const shown = kind === "hotspots" ? fc.features.filter((f) => f.properties.hot) : fc.features;
  const style = kind === "hotspots"
    ? { pane: "cells", color: "#7f0000", weight: 0.6, fillColor: "#d7301f", fillOpacity: 0.55 }
    : { pane: "cells", color: "#3f007d", weight: 1.4, fillColor: "#6a51a3", fillOpacity: 0.35 };
  state.cells[kind] = L.geoJSON({ type: "FeatureCollection", features: shown }, {
    style: () => style,
    onEachFeature: (f, layer) => {
      const p = f.properties;
      const text = kind === "hotspots"
        ? `Cellule ${p.cell} : ${frNumber(p.count)} événement(s), z = ${frNumber(p.z, 2)}`
        : `Cellule ${p.cell} : rang ${p.rank}, ${frNumber(p.score, 2)} événement(s) attendus`;
      layer.bindTooltip(text, { sticky: true });
    },
  }).addTo(state.map);
  state.cells[kind].eachLayer((l) => {
    const el = l.getElement();
    if (!el) return;
    el.setAttribute("data-layer", kind);
    el.setAttribute("data-cell", String(l.feature.properties.cell));
  });
}

function ciText(m, digits) {
  if (m.ci_low === null || m.ci_high === null) return "—";
  return `[${frNumber(m.ci_low, digits)} ; ${frNumber(m.ci_high, digits)}]`;
}

function renderEvaluation(fc) {
  const ev = fc.evaluation;
  const body = document.createElement("tbody");
  for (const s of ev.summary) {
    const tr = document.createElement("tr");
    tr.dataset.method = s.method;
    const name = document.createElement("th");
    name.scope = "row";
    name.textContent = METHOD_LABELS[s.method] || s.method;
    const cell = (value, text, key) => {
      const td = document.createElement("td");
      td.className = "num";
      td.dataset.key = key;
      td.dataset.value = value === null ? "" : String(value);
      td.textContent = text;
      return td;
    };
    tr.append(name,
      cell(s.pai.mean, frNumber(s.pai.mean, 2), "pai"),
      cell(s.pai.ci_low, ciText(s.pai, 2), "pai-ci"),
      cell(s.hit_rate.mean, s.hit_rate.mean === null ? "—" : `${frNumber(s.hit_rate.mean * 100, 0)} %`, "hit_rate"),
      cell(s.hit_rate.ci_low, ciText({ ci_low: s.hit_rate.ci_low === null ? null : s.hit_rate.ci_low * 100,
        ci_high: s.hit_rate.ci_high === null ? null : s.hit_rate.ci_high * 100 }, 0), "hit_rate-ci"));
    body.append(tr);
  }
  $("evaluation-table").tBodies[0].replaceWith(body);
  const p = fc.parameters;
  $("evaluation-caption").textContent = `${fc.features.length} cellules de ${frNumber(p.cell_m)} m `
    + `(${frNumber(fc.area_share * 100, 2)} % de la surface) pour la semaine ${periodText(fc.window)} ; `
    + `${ev.origins.length} origines hebdomadaires, ${frNumber(p.horizon_days)} jours chacune.`;
  $("evaluation").hidden = false;
}

function layerBox(kind) {
  return $(`layer-${kind}`);
}

function layerUrl(kind) {
  if (kind === "hotspots") return `${API}/hotspots?${cellQuery(kind)}`;
  if (kind === "forecast") return `${API}/forecasts?${cellQuery(kind)}`;
  const params = new URLSearchParams();
  if (kind === "indicators") for (const id of ["source", "category"]) if ($(id).value) params.append(id, $(id).value);
  if (kind === "alerts") {
    const watch = alertWatch();
    if (watch.day) params.set("at", watch.day);
    params.set("watch_windows", String(watch.windows));
  }
  return `${API}/${kind}${params.toString() ? `?${params}` : ""}`;
}

// The last UTC day with data: meta's own field when it gives one, else the last day of its last month.
function lastDataDay(meta) {
  const given = meta && (meta.last_day || (meta.days && meta.days.last));
  if (given) return String(given).slice(0, 10);
  const month = meta && meta.months && meta.months.last;
  if (!month) return null;
  const last = new Date(`${dayAfterMonth(month)}T00:00:00Z`);
  last.setUTCDate(last.getUTCDate() - 1);
  return last.toISOString().slice(0, 10);
}

// Alerts are watched on the last day with data (a demo store, or a feed that stopped, ends before today),
// with enough windows of the shortest active rule to cover that day's 24 hours.
function alertWatch() {
  const hours = state.shortestRuleHours || 24;
  return { day: lastDataDay(state.meta), hours, windows: Math.min(168, Math.max(1, Math.ceil(24 / hours))) };
}

async function loadRuleWindows() {
  if (state.shortestRuleHours) return;
  try {
    const body = await getJson(`${API}/rules`);
    const hours = body.rules.filter((r) => r.applied !== false && Number.isInteger(r.window_hours))
      .map((r) => r.window_hours);
    if (hours.length) state.shortestRuleHours = Math.min(...hours);
  } catch {
    // without the registry, one window per day (24 h) is watched
  }
}

// Indicators compare with the same days of the previous years: the route chooses how many years the store
// allows and says so in `baseline_years`. An older server that insists on its default and answers 422
// "window longer than data" is asked again with fewer years.
async function fetchIndicators(base) {
  try {
    return [base, await getJson(base)];
  } catch (err) {
    if (!(err.status === 422 && err.message.startsWith("window longer than data"))) throw err;
  }
  for (let years = 2; ; years -= 1) {
    const url = `${base}${base.includes("?") ? "&" : "?"}baseline_years=${years}`;
    try {
      return [url, await getJson(url)];
    } catch (err) {
      if (!(err.status === 422 && err.message.startsWith("window longer than data") && years > 1)) throw err;
    }
  }
}

// A layer's failure, in French (the API's own detail, in English, follows in parentheses).
function layerError(kind, err) {
  const label = `Couche « ${LAYER_LABELS[kind]} »`;
  if (err.status === 401) {
    return `${label} : <a href="login">connectez-vous</a> pour voir cette couche.`; // log in to see this layer
  }
  if (err.status === 403) {
    if (state.me && state.me.login) {
      const role = ROLE_LABELS[state.me.role] || state.me.role;
      return `${label} : votre rôle (${escapeHtml(role)}) ne donne pas accès à cette couche.`;
    }
    return `${label} : <a href="login">connectez-vous</a> pour voir cette couche.`;
  }
  let why = "erreur du serveur"; // server error
  if (err.status === 0) why = "serveur injoignable";
  else if (err.status === 422) why = "données insuffisantes ou paramètres refusés"; // not enough data / bad input
  else if (err.status === 404) why = "service introuvable";
  else if (err.status === 429) why = "trop de requêtes, réessayez dans un instant";
  else if (err.status === 503) why = "service momentanément indisponible";
  const detail = err.message && err.status ? ` <span lang="en">(${escapeHtml(err.message)})</span>` : "";
  return `${label} indisponible : ${why}.${detail}`;
}

function hideLayer(kind) {
  if (state.cells[kind]) state.cells[kind].remove();
  state.cells[kind] = null;
  if (kind === "forecast") $("evaluation").hidden = true;
  if (kind === "indicators") {
    $("indicators-info").hidden = true;
    if (state.indicatorLegend) state.indicatorLegend.remove();
    state.indicatorLegend = null;
  }
  if (kind === "alerts") $("alerts-info").hidden = true;
}

async function refreshCells(kind) {
  const box = layerBox(kind);
  const seq = ++state.cellSeq[kind];
  if (!box.checked) {
    hideLayer(kind);
    layerNote(kind, "");
    box.dataset.state = "off";
    return;
  }
  box.dataset.state = "loading";
  if (kind === "alerts") await loadRuleWindows();
  let url = layerUrl(kind);
  try {
    let body;
    if (kind === "indicators") [url, body] = await fetchIndicators(url);
    else body = await getJson(url);
    if (seq !== state.cellSeq[kind] || !box.checked) return;
    if (kind === "indicators" || kind === "alerts") {
      if (!state.data) await state.ready; // zone outlines come with the choropleth
      if (seq !== state.cellSeq[kind] || !box.checked) return;
      layerNote(kind, "");
      if (kind === "indicators") drawIndicators(body); else drawAlerts(body);
    } else {
      layerNote(kind, "");
      drawCells(kind, body);
      if (kind === "forecast") renderEvaluation(body);
    }
    box.dataset.query = url.split("?")[1] || "";
    box.dataset.state = "ready";
  } catch (err) {
    if (err.status === 403) await state.session; // the message names the role
    if (seq !== state.cellSeq[kind]) return;
    hideLayer(kind);
    layerNote(kind, layerError(kind, err));
    box.dataset.state = err.status === 401 || err.status === 403 ? "forbidden" : "error";
  }
}

// ---- Zone layers: CompStat indicators (criticality, exception) and the zones with active alerts.

function zoneFeatures() {
  return state.data ? state.data.fc.features : [];
}

function zoneName(zoneId) {
  const f = zoneFeatures().find((z) => z.id === zoneId || z.properties.zone_id === zoneId);
  return f ? f.properties.name : zoneId;
}

function indicatorPopup(zoneId, rows) {
  const lines = ["7d", "28d", "ytd"].map((w) => rows[w]).filter(Boolean).map((r) => `<tr data-window="${r.window}">`
    + `<td>${WINDOW_LABELS[r.window]}</td><td>${frNumber(r.current)}</td><td>${frNumber(r.previous)}</td>`
    + `<td>${frNumber(r.baseline_mean, 2)}${r.baseline_sd === null ? "" : ` ± ${frNumber(r.baseline_sd, 2)}`}</td>`
    + `<td>${r.p_value < 0.001 ? "< 0,001" : frNumber(r.p_value, 2)}</td><td>${escapeHtml(r.trend)}</td>`
    + `<td>${escapeHtml(r.criticality)}</td></tr>`);
  return `<strong>${escapeHtml(zoneName(zoneId))}</strong>`
    + "<table class=\"popup-figures\"><thead><tr><th>Fenêtre</th><th>Actuel</th><th>Précédent</th>"
    + "<th>Moy. années préc.</th><th>p</th><th>Tendance</th><th>Criticité</th></tr></thead>"
    + `<tbody>${lines.join("")}</tbody></table>`;
}

function drawIndicators(body) {
  hideLayer("indicators");
  const byZone = new Map();
  for (const r of body.rows) {
    if (!byZone.has(r.zone_id)) byZone.set(r.zone_id, {});
    byZone.get(r.zone_id)[r.window] = r;
  }
  const features = zoneFeatures().filter((f) => byZone.has(f.properties.zone_id));
  state.cells.indicators = L.geoJSON({ type: "FeatureCollection", features }, {
    pane: "zone-overlays",
    style: (f) => {
      const r = byZone.get(f.properties.zone_id)["28d"];
      const level = CRITICALITY.indexOf(r.criticality);
      return { pane: "zone-overlays", fillColor: level < 0 ? NO_DATA : `url(#hatch-${level})`, fillOpacity: 1,
        color: r.exception ? "#1d2733" : (HATCH_STROKES[level] || NO_DATA), weight: r.exception ? 4 : 1.5,
        dashArray: r.exception ? null : "4 3" };
    },
    onEachFeature: (f, layer) => {
      const rows = byZone.get(f.properties.zone_id);
      layer.bindPopup(indicatorPopup(f.properties.zone_id, rows), { maxWidth: 520 });
      const r = rows["28d"];
      layer.bindTooltip(`${escapeHtml(f.properties.name)} : ${escapeHtml(r.criticality)}, `
        + `${frNumber(r.current)} sur 28 jours (moyenne ${frNumber(r.baseline_mean, 2)})`, { sticky: true });
    },
  }).addTo(state.map);
  state.cells.indicators.eachLayer((l) => {
    const el = l.getElement();
    if (!el) return;
    const r = byZone.get(l.feature.properties.zone_id)["28d"];
    el.setAttribute("data-layer", "indicators");
    el.setAttribute("data-zone-id", l.feature.properties.zone_id);
    el.setAttribute("data-criticality", r.criticality);
    el.setAttribute("data-exception", String(r.exception));
    el.setAttribute("data-current", String(r.current));
    el.setAttribute("data-baseline-mean", String(r.baseline_mean));
  });
  const flagged = [...byZone.values()].filter((w) => w["28d"] && w["28d"].exception).length;
  const years = Number.isInteger(body.baseline_years) ? body.baseline_years : null;
  const yearsText = years === null ? "années de référence précédentes"
    : `${years} année${years > 1 ? "s" : ""} de référence`;
  $("indicators-caption").textContent = `Au ${new Date(`${body.reference}T00:00:00Z`).toLocaleDateString("fr-FR",
    { timeZone: "UTC" })}, ${yearsText} : ${flagged} arrondissement`
    + `${flagged > 1 ? "s" : ""} en exception sur 28 jours.`;
  $("indicators-info").dataset.baselineYears = years === null ? "" : String(years);
  renderIndicatorLegend();
  $("indicators-info").dataset.reference = body.reference;
  $("indicators-info").hidden = false;
}

// The indicators' own legend (criticality hatching, exception outline), beside the choropleth's.
function renderIndicatorLegend() {
  if (state.indicatorLegend) state.indicatorLegend.remove();
  const legend = L.control({ position: "bottomleft" });
  legend.onAdd = () => {
    const div = L.DomUtil.create("div", "legend");
    div.id = "indicators-legend";
    const rows = CRITICALITY.map((level, i) => `<div data-criticality="${level}"><svg class="hatch" viewBox="0 0 14 12">`
      + `<rect width="14" height="12" fill="url(#hatch-${i})" stroke="${HATCH_STROKES[i]}"/></svg>${level}</div>`);
    div.innerHTML = `<h2>Criticité sur 28 jours</h2>${rows.join("")}`
      + "<div><span class=\"swatch exception-swatch\"></span>exception signalée</div>";
    return div;
  };
  legend.addTo(state.map);
  state.indicatorLegend = legend;
}

function alertPopup(zoneId, alerts) {
  const items = alerts.map((a) => `<li data-rule="${escapeHtml(a.rule_id)}" data-version="${a.rule_version}">`
    + `Règle <code>${escapeHtml(a.rule_id)}</code> v${a.rule_version} : ${frNumber(a.observed)} observé(s) pour `
    + `${frNumber(a.expected, 2)} attendu(s), du ${new Date(a.window_start).toLocaleString("fr-FR",
      { timeZone: "Europe/Paris" })} au ${new Date(a.window_end).toLocaleString("fr-FR", { timeZone: "Europe/Paris" })}`
    + "</li>");
  return `<strong>${escapeHtml(zoneName(zoneId))}</strong> : ${alerts.length} alerte${alerts.length > 1 ? "s" : ""}`
    + `<ul>${items.join("")}</ul>`;
}

function drawAlerts(body) {
  hideLayer("alerts");
  const byZone = new Map();
  for (const a of body.alerts) {
    if (!byZone.has(a.zone_id)) byZone.set(a.zone_id, []);
    byZone.get(a.zone_id).push(a);
  }
  const features = zoneFeatures().filter((f) => byZone.has(f.properties.zone_id));
  state.cells.alerts = L.geoJSON({ type: "FeatureCollection", features }, {
    pane: "zone-overlays",
    style: () => ({ pane: "zone-overlays", color: "#67000d", weight: 3, fillColor: "#ef3b2c", fillOpacity: 0.2 }),
    onEachFeature: (f, layer) => {
      const list = byZone.get(f.properties.zone_id);
      layer.bindPopup(alertPopup(f.properties.zone_id, list), { maxWidth: 480 });
      layer.bindTooltip(`${escapeHtml(f.properties.name)} : ${list.length} alerte${list.length > 1 ? "s" : ""}`,
        { sticky: true });
    },
  }).addTo(state.map);
  state.cells.alerts.eachLayer((l) => {
    const el = l.getElement();
    if (!el) return;
    const list = byZone.get(l.feature.properties.zone_id);
    el.setAttribute("data-layer", "alerts");
    el.setAttribute("data-zone-id", l.feature.properties.zone_id);
    el.setAttribute("data-alerts", String(list.length));
    el.setAttribute("data-rules", list.map((a) => `${a.rule_id}@${a.rule_version}`).sort().join(" "));
  });
  const box = layerBox("alerts");
  box.dataset.alerts = String(body.alerts.length);
  renderAlertsInfo(body);
}

function frDay(day) {
  return new Date(`${day}T00:00:00Z`).toLocaleDateString("fr-FR", { timeZone: "UTC" });
}

// What was watched (day, windows) and which rules could not be applied, with the API's reason.
function renderAlertsInfo(body) {
  const watch = alertWatch();
  const day = watch.day || body.as_of.slice(0, 10);
  const n = body.alerts.length;
  const windows = `${watch.windows} fenêtre${watch.windows > 1 ? "s" : ""} de ${watch.hours} h`;
  const caption = $("alerts-caption");
  caption.textContent = `Journée surveillée : ${frDay(day)} (dernier jour de données), ${windows} `
    + `de la règle la plus courte : ${n} alerte${n > 1 ? "s" : ""} `
    + `sur ${body.rules.length} règle${body.rules.length > 1 ? "s" : ""} appliquée${body.rules.length > 1 ? "s" : ""}.`;
  caption.dataset.day = day;
  caption.dataset.windows = String(watch.windows);
  const list = $("alerts-skipped");
  list.replaceChildren(...body.skipped.map((s) => {
    const li = document.createElement("li");
    li.dataset.rule = s.id;
    li.innerHTML = `Règle <code>${escapeHtml(s.id)}</code> v${escapeHtml(s.version)} non appliquée : `
      + `<span lang="en">${escapeHtml(s.reason)}</span>`;
    return li;
  }));
  $("alerts-info").hidden = false;
}

function refreshAll() {
  state.ready = refresh();
  for (const kind of ["hotspots", "forecast", "indicators"]) refreshCells(kind);
}

function fillPickers(meta) {
  $("city-name").textContent = meta.city.name;
  $("attribution").textContent = `(${meta.city.attribution})`; // the profile's own attribution, in English
  const source = $("source");
  for (const s of meta.sources) {
    source.append(new Option(`${s.label_fr} (${frNumber(s.events)})`, s.source));
  }
  const present = meta.categories.filter((c) => c.events > 0);
  const shown = present.length ? present : meta.categories;
  const category = $("category");
  for (const kind of Object.keys(KIND_LABELS)) {
    const items = shown.filter((c) => c.kind === kind);
    if (!items.length) continue;
    const group = document.createElement("optgroup");
    group.label = KIND_LABELS[kind];
    for (const c of items) group.append(new Option(c.label_fr, c.code));
    category.append(group);
  }
  for (const id of ["start", "end"]) {
    if (meta.months.first) $(id).min = meta.months.first;
    if (meta.months.last) $(id).max = meta.months.last;
  }
  const period = defaultPeriod(meta.months);
  if (period) {
    $("start").value = period.start;
    $("end").value = period.end;
  }
}

// The first view: the last 12 months ending at the last month with data (fewer from the first month held).
function defaultPeriod(months) {
  if (!months || !months.last) return null;
  const [y, m] = months.last.split("-").map(Number);
  const index = y * 12 + (m - 1) - 11;
  let start = `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`;
  if (months.first && start < months.first) start = months.first;
  return { start, end: months.last };
}

// ---- Session: who is logged in, and logging out.

async function loadSession() {
  try {
    state.me = await getJson(`${API}/me`);
  } catch {
    state.me = null;
  }
  const me = state.me;
  const logged = Boolean(me && me.login);
  $("session-anonymous").hidden = logged;
  $("session-user").hidden = !logged;
  $("session").dataset.role = logged ? me.role : "public";
  if (logged) {
    $("session-who").textContent = `Connecté : ${me.login} (${ROLE_LABELS[me.role] || me.role})`;
    // a token (not a session) has no CSRF value and nothing to log out of
    $("logout").hidden = !me.csrf_token;
  }
}

async function logout() {
  const button = $("logout");
  button.disabled = true;
  try {
    const response = await fetch("logout", { method: "POST", headers: { "X-CSRF-Token": state.me.csrf_token } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    window.location.reload();
  } catch {
    button.disabled = false;
    showNotice("La déconnexion a échoué : rechargez la page puis réessayez."); // logout failed
  }
}

async function main() {
  if (typeof window.L === "undefined") {
    // Leaflet missing: `make web` copies it from node_modules into static/vendor.
    // The server already says so when it sees the files missing; say it here when they failed to load.
    if (!$("vendor-notice")) {
      showNotice("La bibliothèque cartographique (Leaflet) n'a pas pu être chargée : lancez « make web » "
        + "puis rechargez la page."); // Leaflet could not be loaded: run `make web`, then reload
    }
    setStatus("");
    document.body.dataset.state = "error";
    return;
  }
  // Exact figures are for staff: an anonymous visitor reads the published releases on the public portal.
  state.session = loadSession();
  await state.session;
  if (!(state.me && state.me.login)) {
    window.location.replace("public");
    return;
  }
  state.map = L.map("map", { zoomSnap: 0.25, scrollWheelZoom: false });
  state.map.attributionControl.setPrefix("Leaflet");
  // Zone-level layers (indicators, alerts) above the choropleth (overlay pane: 400), grid cells above them.
  state.map.createPane("zone-overlays").style.zIndex = 420;
  state.map.createPane("cells").style.zIndex = 450;
  $("forecast-k").textContent = frNumber(FORECAST_K * 100);
  $("logout").addEventListener("click", logout);
  const session = state.session;
  try {
    state.meta = await getJson(`${API}/meta`);
    fillPickers(state.meta);
  } catch (err) {
    setStatus(`Impossible de lire les métadonnées : ${err.message}`); // cannot read metadata
    document.body.dataset.state = "error";
    return;
  }
  for (const id of ["start", "end", "source", "category"]) $(id).addEventListener("change", refreshAll);
  for (const kind of ["hotspots", "forecast", "indicators", "alerts"]) {
    layerBox(kind).addEventListener("change", () => refreshCells(kind));
  }
  $("measure").addEventListener("change", render);
  state.ready = refresh();
  await session;
  await state.ready;
}

main();
