// The faultfinder dashboard: polls api/status and draws the verdict, a row per component, a
// timeline of state changes and latency charts. Plain DOM and SVG: no library, no CDN.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const refreshSeconds = Number(document.body.dataset.refreshSeconds) || 5;
const TIMELINE_WINDOW_MS = 60 * 60 * 1000; // the last hour, or less when history is shorter

function element(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

function svgElement(tag, attributes = {}, text = "") {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

function clock(iso) {
  return iso ? new Date(iso).toLocaleTimeString() : "";
}

async function refresh() {
  const error = document.getElementById("error");
  try {
    const response = await fetch("api/status", { cache: "no-store" });
    if (!response.ok) throw new Error(`api/status answered ${response.status}`);
    render(await response.json());
    error.hidden = true;
  } catch (failure) {
    error.textContent = String(failure);
    error.hidden = false;
  }
  setTimeout(refresh, refreshSeconds * 1000);
}

function render(status) {
  document.getElementById("stack").textContent = status.stack;
  const overall = document.getElementById("overall");
  overall.textContent = status.status;
  overall.className = `badge status-${status.status}`;
  document.getElementById("updated").textContent = `updated ${clock(status.generated_at)}`;
  renderVerdict(status);
  renderComponents(status.components);
  renderTimeline(status);
  renderCharts(status.components);
  document.body.dataset.rendered = status.generated_at; // tests wait on this
}

// The story as every front end tells it (api/status "story", from diagnosis.narrative): the
// page only places and styles each line by its kind.
function renderVerdict(status) {
  const verdict = status.verdict || { summary: "no diagnosis yet", owner: "", confidence: "" };
  document.getElementById("summary").textContent = verdict.summary;
  document.getElementById("owner").textContent = verdict.owner;
  document.getElementById("confidence").textContent =
    verdict.confidence === "" ? "" : Number(verdict.confidence).toFixed(2);
  const story = status.story || [];
  const doubts = story.filter((line) => line.kind === "doubt")
    .map((line) => element("p", { class: "doubt" }, `footing in doubt: ${line.text}`));
  document.getElementById("doubts").replaceChildren(...doubts);
  const causes = [];
  let cause = null;
  for (const line of story) {
    if (line.kind === "group") {
      cause = element("div", { class: "cause" });
      cause.append(element("h3", {}, line.text));
      causes.push(cause);
    } else if (cause && ["member", "evidence", "explanation", "fix"].includes(line.kind)) {
      const text = line.kind === "fix" ? `fix: ${line.text}` : line.text;
      cause.append(element(line.kind === "fix" ? "p" : "div", { class: line.kind }, text));
    }
  }
  document.getElementById("causes").replaceChildren(...causes);
  document.getElementById("why").replaceChildren(...status.why.map((line) => element("li", {}, line)));
}

function renderComponents(components) {
  const rows = components.map((component) => {
    const latest = component.latest || {};
    const row = element("tr", { "data-component": component.name, "data-status": component.status });
    const dot = element("span", { class: `dot status-${component.status}` });
    const state = element("td", { class: "status" });
    state.append(dot, component.status);
    const latency = element("td", { class: "sparkline" });
    latency.append(sparkline(component.latency));
    row.append(
      state,
      element("td", { class: "name" }, component.name),
      element("td", { class: "kind" }, latest.kind || ""),
      element("td", { class: "code", title: latest.detail || "" }, component.code || "—"),
      element("td", { class: "layer" }, latest.layer || ""),
      element("td", { class: "owner" }, component.owner || ""),
      element("td", { class: "since" }, clock(component.since)),
      latency,
    );
    return row;
  });
  document.querySelector("#components tbody").replaceChildren(...rows);
}

function sparkline(points) {
  const width = 120, height = 24;
  const svg = svgElement("svg", { width, height, viewBox: `0 0 ${width} ${height}` });
  if (points.length < 2) return svg;
  const top = Math.max(...points.map((point) => point.ms), 1);
  const step = width / (points.length - 1);
  const coordinates = points.map((point, index) =>
    `${(index * step).toFixed(1)},${(height - 2 - (point.ms / top) * (height - 4)).toFixed(1)}`);
  svg.append(svgElement("polyline", { class: "line", points: coordinates.join(" ") }));
  return svg;
}

// One lane per component: the state it was in, segment by segment, from its state changes.
// Before its first settled state a component is pending (grey): nothing was seen, so nothing
// is painted healthy.
function renderTimeline(status) {
  const now = Date.parse(status.generated_at);
  const changes = status.changes;
  const earliest = Math.min(now, ...changes.map((change) => Date.parse(change.at)),
    ...status.components.flatMap((c) => c.latency.map((point) => Date.parse(point.at))));
  const start = Math.max(earliest, now - TIMELINE_WINDOW_MS);
  const span = Math.max(now - start, 1000);
  const width = 900, lane = 22, label = 140;
  const height = lane * status.components.length + 20;
  const svg = svgElement("svg", { width: "100%", height, viewBox: `0 0 ${width} ${height}` });
  const x = (time) => label + ((Math.max(time, start) - start) / span) * (width - label - 10);
  status.components.forEach((component, index) => {
    const y = index * lane;
    svg.append(svgElement("text", { x: 0, y: y + 15 }, component.name));
    const own = changes.filter((change) => change.component === component.name);
    let state = own.length ? own[0].old : component.status;
    let from = start;
    for (const change of own) {
      const at = Date.parse(change.at);
      svg.append(segment(x(from), x(at), y, state, component.name));
      state = change.new;
      from = at;
    }
    svg.append(segment(x(from), x(now), y, state, component.name));
  });
  const axis = lane * status.components.length + 14;
  svg.append(svgElement("text", { x: label, y: axis }, new Date(start).toLocaleTimeString()));
  svg.append(svgElement("text", { x: width - 70, y: axis }, new Date(now).toLocaleTimeString()));
  document.getElementById("timeline").replaceChildren(svg);
  const items = changes.slice().reverse().map((change) => element("li",
    { "data-component": change.component, "data-new": change.new },
    (change.old === "pending" ? `${clock(change.at)} ${change.component}: starts ${change.new}`
      : `${clock(change.at)} ${change.component}: ${change.old} → ${change.new}`) +
    `${change.code ? ` (${change.code}, ${change.owner})` : ""} — ${change.summary}`));
  document.getElementById("changes").replaceChildren(...items);
}

function segment(left, right, y, state, name) {
  const rect = svgElement("rect", {
    x: left.toFixed(1), y: y + 3, width: Math.max(right - left, 1).toFixed(1), height: 16,
    class: `status-${state}`, "data-component": name, "data-status": state,
  });
  rect.append(svgElement("title", {}, `${name}: ${state}`));
  return rect;
}

function renderCharts(components) {
  const charts = components.map((component) => {
    const box = element("div", { class: "chart", "data-component": component.name });
    box.append(element("h3", {}, component.name));
    box.append(latencyChart(component.latency));
    return box;
  });
  document.getElementById("charts").replaceChildren(...charts);
}

function latencyChart(points) {
  const width = 330, height = 110, left = 58, bottom = 18;
  const svg = svgElement("svg", { width, height, viewBox: `0 0 ${width} ${height}` });
  const top = Math.max(...points.map((point) => point.ms), 1);
  svg.append(svgElement("line", { class: "axis", x1: left, y1: 4, x2: left, y2: height - bottom }));
  svg.append(svgElement("line",
    { class: "axis", x1: left, y1: height - bottom, x2: width, y2: height - bottom }));
  svg.append(svgElement("text", { x: 0, y: 12 }, `${top.toFixed(1)} ms`));
  svg.append(svgElement("text", { x: 0, y: height - bottom }, "0 ms"));
  if (!points.length) return svg;
  const step = points.length > 1 ? (width - left - 6) / (points.length - 1) : 0;
  const xy = points.map((point, index) => [
    left + index * step, height - bottom - (point.ms / top) * (height - bottom - 8)]);
  svg.append(svgElement("polyline",
    { class: "line", points: xy.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" ") }));
  points.forEach((point, index) => {
    if (!point.ok) {
      svg.append(svgElement("circle", { class: "failed", cx: xy[index][0], cy: xy[index][1], r: 3 }));
    }
  });
  svg.append(svgElement("text", { x: left + 4, y: height - 3 },
    `last ${points[points.length - 1].ms.toFixed(1)} ms, ${points.length} probes`));
  return svg;
}

refresh();
