// The fairness control page (controle/equite): the patrol-hours audit per unit of need (now, then quarter by
// quarter), the stop audit by area group and the feedback-loop monitor, in plain French. It reads the audit
// routes of the API (each call audited) and writes no number of its own. UI text is French.

import { API, escapeHtml, frNumber, getJson } from "./common.js";

const $ = (id) => document.getElementById(id);
const GROUPS = { less_deprived: "arrondissements moins défavorisés", more_deprived: "arrondissements plus défavorisés" };
const groupLabel = (g) => GROUPS[g] || g;
const ratio = (v) => frNumber(v, 2, 2);
const percent = (v) => `${frNumber(100 * v, 0, 1)}\u202f%`;

function cell(text, numeric = false) {
  const td = document.createElement("td");
  if (numeric) td.className = "num";
  td.textContent = text;
  return td;
}

function row(...cells) {
  const tr = document.createElement("tr");
  tr.append(...cells);
  return tr;
}

function period(p) {
  const day = (d) => new Date(`${d}T00:00:00Z`).toLocaleDateString("fr-FR", { day: "numeric", month: "long",
    year: "numeric", timeZone: "UTC" });
  return `du ${day(p.start)} au ${day(p.end)} (exclu)`;
}

function failed(section, err) {
  $(`${section}-result`).textContent = `Audit impossible : ${err.message}`;
  $(section).dataset.state = "refused";
}

// Patrol hours per unit of independently reported need, by area group (the ratio's row per_need).
async function patrols() {
  const body = await getJson(`${API}/audits/fairness?allocation=patrols`);
  const audit = body.audit;
  const need = audit.ratios.find((r) => r.measure === "per_need");
  document.querySelectorAll(".band").forEach((el) => {
    el.textContent = `[${ratio(audit.band[0])} ; ${ratio(audit.band[1])}]`;
  });
  const ci = need.ci_low === null ? "intervalle non calculable"
    : `intervalle de confiance à ${percent(audit.level)} : ${ratio(need.ci_low)} à ${ratio(need.ci_high)}`;
  $("patrols-result").textContent = `Les ${groupLabel(need.group)} reçoivent ${ratio(need.ratio)} fois les heures `
    + `de patrouille par fait signalé des ${groupLabel(need.reference)} (${ci}). `
    + (need.flagged ? "Signal levé : l'écart sort de la bande d'équité." : "Pas de signal : l'intervalle ne sort pas "
      + "entièrement de la bande d'équité.");
  $("patrols-result").dataset.flagged = String(need.flagged);
  $("patrols-groups").replaceChildren(...audit.groups.map((g) => row(
    cell(groupLabel(g.group)), cell(frNumber(audit.areas[g.group] ?? g.units), true), cell(frNumber(g.residents), true),
    cell(frNumber(g.exposure), true), cell(frNumber(g.need), true),
    cell(g.exposure_per_need === null ? "—" : frNumber(g.exposure_per_need, 1, 1), true))));
  $("patrols-data").textContent = `Heures de patrouille et faits signalés indépendamment ${period(body.need.period)} `
    + `(${frNumber(body.need.events)} faits ; catégories : ${body.need.categories.join(", ")}). Groupes : `
    + `arrondissements coupés selon « ${body.groups_by.indicator} » (seuils ${body.groups_by.cuts.map((c) =>
      frNumber(c, 2, 2)).join(", ")}). Intervalle : jackknife des arrondissements (chaque arrondissement est un `
    + `tirage indépendant), loi de Student.`;
  $("patrols").dataset.state = "ready";
  return body;
}

// The four quarters before the audited period's end, each audited on its own 91 days.
async function history(end) {
  const rows = [];
  let stop = new Date(`${end}T00:00:00Z`);
  for (let i = 0; i < 4; i += 1) {
    const iso = stop.toISOString().slice(0, 10);
    try {
      const body = await getJson(`${API}/audits/fairness?allocation=patrols&train_days=91&end=${iso}`);
      const r = body.audit.ratios.find((x) => x.measure === "per_need");
      rows.push(row(cell(period(body.need.period)), cell(ratio(r.ratio), true),
        cell(r.ci_low === null ? "—" : `${ratio(r.ci_low)} à ${ratio(r.ci_high)}`, true),
        cell(r.flagged ? "oui" : "non")));
    } catch (err) {
      rows.push(row(cell(`jusqu'au ${iso}`), cell("—", true), cell("—", true), cell(`non calculé : ${err.message}`)));
    }
    stop = new Date(stop.getTime() - 91 * 86400000);
  }
  $("patrols-history").replaceChildren(...rows);
}

async function stops() {
  const body = await getJson(`${API}/audits/stops`);
  const search = body.search_rate.comparisons[0];
  const hit = body.hit_rate.comparisons[0];
  const veil = body.veil_of_darkness.primary;
  $("stops-result").innerHTML = `<span>Fouilles : les contrôles des ${escapeHtml(groupLabel(search.group))} sont suivis `
    + `d'une fouille ${ratio(search.ratio)} fois plus souvent (intervalle ${ratio(search.ratio_low)} à `
    + `${ratio(search.ratio_high)}) — ${search.flagged ? "signal levé" : "pas de signal"}.</span> `
    + `<span>Résultats : les fouilles y trouvent quelque chose avec un écart de ${frNumber(100 * hit.difference, 1, 1)} `
    + `points (intervalle ${frNumber(100 * hit.difference_low, 1, 1)} à ${frNumber(100 * hit.difference_high, 1, 1)}) — `
    + `${hit.flagged ? "signal levé" : "pas de signal"}.</span> `
    + `<span>Voile de l'obscurité : ${veil.estimable ? (veil.disparity ? "les contrôles de ces quartiers sont moins "
      + "fréquents quand l'apparence n'est plus visible (signal levé)" : "pas d'écart entre jour et nuit") :
      "non estimable sur cette période"}.</span>`;
  $("stops-result").dataset.flagged = String(body.flagged);
  $("stops-data").textContent = `${frNumber(body.stops)} contrôles ${period(body.period)}, dont `
    + `${frNumber(body.searches)} fouilles ; groupes : arrondissements (référence : ${groupLabel(body.reference)}).`;
  $("stops").dataset.state = "ready";
}

async function loop() {
  const body = await getJson(`${API}/audits/feedback-loop`);
  $("loop-result").textContent = body.alarm
    ? `Alarme : l'attention se concentre de plus en plus par rapport aux signalements indépendants (p = `
      + `${frNumber(body.p_value, 3, 3)}).`
    : `Pas d'alarme : aucune tendance significative (p = ${body.p_value === null ? "—" : frNumber(body.p_value, 3, 3)}).`;
  $("loop-result").dataset.flagged = String(body.alarm);
  $("loop-data").textContent = `${body.windows.length} fenêtres de ${body.window_days} jours ${period(body.period)} ; `
    + `${body.permutations} permutations ; seuil ${frNumber(body.alpha, 2, 2)}.`;
  $("loop").dataset.state = "ready";
}

async function main() {
  const status = $("status");
  const results = await Promise.allSettled([patrols(), stops(), loop()]);
  ["patrols", "stops", "loop"].forEach((name, i) => {
    if (results[i].status === "rejected") failed(name, results[i].reason);
  });
  if (results[0].status === "fulfilled") await history(results[0].value.allocation.date);
  const refused = results.filter((r) => r.status === "rejected").length;
  status.textContent = refused ? `${refused} audit(s) n'ont pas pu être calculés : la raison est donnée sous chacun.`
    : "Audits calculés sur les données de l'entrepôt ; chaque consultation est journalisée.";
  document.body.dataset.state = "ready";
}

main();
