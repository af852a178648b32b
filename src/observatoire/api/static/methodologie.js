// Methodology page of the public portal: fills the parameters of the latest release (sources, groups,
// epsilon, threshold) and the privacy ledger (per release, per year against the budget). UI text is French.

import { API, SOURCE_LABELS, frDate, frNumber, getJson, monthLabel } from "./common.js";

const MECHANISMS = { discrete_laplace: "Laplace discrète (OpenDP)" };
const MEASUREMENTS = { "zones x categories": "arrondissements × catégories" };

const $ = (id) => document.getElementById(id);
const eps = (value) => frNumber(value, 0, 3);

function cell(text, numeric = false) {
  const td = document.createElement("td");
  if (numeric) td.className = "num";
  td.textContent = text;
  return td;
}

// What the latest release counted and with which parameters (its manifest and its labels).
function renderParameters({ manifest, tables }) {
  const p = manifest.parameters;
  $("sources").textContent = manifest.sources.included.map((s) => SOURCE_LABELS[s] || s).join(", ");
  const labels = new Map(tables.city.map((r) => [r.column, r.label_fr]));
  $("groups").replaceChildren(...p.groups.flatMap((g) => {
    const dt = document.createElement("dt");
    dt.textContent = g.label_fr;
    dt.dataset.group = g.code;
    const dd = document.createElement("dd");
    dd.textContent = g.categories.length > 1 ? g.categories.map((c) => labels.get(c) || c).join(", ")
      : "une seule catégorie";
    return [dt, dd];
  }));
  $("lag").textContent = frNumber(p.lag_days);
  $("epsilon").textContent = eps(manifest.privacy_loss.epsilon);
  $("scale").textContent = eps(manifest.mechanism.scale);
  $("library").textContent = manifest.mechanism.library.replace("opendp", "OpenDP");
  document.querySelectorAll(".k").forEach((el) => { el.textContent = String(p.k); });
  $("k-health").textContent = String(p.k_by_source.hospital ?? p.k);
}

function renderLedger(ledger) {
  $("budget").textContent = eps(ledger.annual_budget);
  const releases = document.createElement("tbody");
  for (const r of [...ledger.releases].reverse()) { // newest first, as on the portal
    const tr = document.createElement("tr");
    tr.dataset.release = r.release;
    tr.dataset.epsilon = String(r.epsilon);
    const month = document.createElement("th");
    month.scope = "row";
    month.textContent = monthLabel(r.month);
    const detail = r.tables.map((t) => `${MEASUREMENTS[t.measurement] || t.measurement} : ε = ${eps(t.epsilon)}`);
    tr.append(month, cell(frDate(r.created_at)), cell(MECHANISMS[r.mechanism] || r.mechanism), cell(detail.join(" ; ")),
      cell(eps(r.epsilon), true), cell(eps(r.delta), true));
    releases.append(tr);
  }
  $("ledger-releases").tBodies[0].replaceWith(releases);
  const years = document.createElement("tbody");
  for (const y of ledger.years) {
    const tr = document.createElement("tr");
    tr.dataset.year = y.year;
    const year = document.createElement("th");
    year.scope = "row";
    year.textContent = y.year;
    tr.append(year, cell(eps(y.epsilon_spent), true), cell(eps(ledger.annual_budget), true),
      cell(eps(y.epsilon_left), true));
    years.append(tr);
  }
  $("ledger-years").tBodies[0].replaceWith(years);
}

async function main() {
  try {
    const [ledger, { releases }] = await Promise.all([getJson(`${API}/public/ledger`),
      getJson(`${API}/public/releases`)]);
    renderLedger(ledger);
    if (releases.length) {
      renderParameters(await getJson(`${API}/public/releases/${encodeURIComponent(releases[0].id)}`));
      $("status").textContent = `${releases.length} mois publié${releases.length > 1 ? "s" : ""}, le dernier : `
        + `${monthLabel(releases[0].period.month)}.`;
    } else {
      $("status").textContent = "Aucun mois n'a encore été publié : les paramètres ci-dessous seront ceux de la "
        + "première publication.";
    }
    document.body.dataset.state = "ready";
  } catch (err) {
    $("status").textContent = `Impossible de lire le registre : ${err.message}`; // cannot read the ledger
    document.body.dataset.state = "error";
  }
}

main();
