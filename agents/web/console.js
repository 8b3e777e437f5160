// RoboCortex console. Live by server-sent events (GET /events, /scene/events, /tasks/{id}/events); every
// text shown is set with textContent (never parsed as HTML), so task text with markup stays text.
"use strict";

const $ = (id) => document.getElementById(id);
const PALETTE = ["#dc322f", "#268bd2", "#859900", "#d33682", "#b58900", "#2aa198", "#6c71c4", "#cb4b16"];
const TERMINAL = new Set(["succeeded", "failed", "cancelled", "killed"]);
// The task lifecycle (memory/tasks.py): a label and what each status means, shown on hover.
const STATUS = {
  pending: ["pending", "queued: a brain takes it (not before its earliest start)"],
  planning: ["planning", "a brain is making or checking its plan"],
  awaiting_approval: ["awaiting approval", "its plan waits for an operator: approve or reject it in the task's detail"],
  running: ["running", "its robots work on the plan"],
  interrupted: ["interrupted", "on hold: its robots finished their step and hold; Resume plans again from the scene as it is now"],
  succeeded: ["succeeded", "its goals hold in the scene"],
  failed: ["failed", "it ended without its goals: the detail says why"],
  cancelled: ["cancelled", "cancelled on request"],
  killed: ["killed", "stopped at once on request"],
};
const badge = (status, attrs) => h("span", {class: `badge ${status}`, title: (STATUS[status] || [])[1], ...attrs},
                                   (STATUS[status] || [status])[0]);
// What an operator may ask of a task, and in which statuses (agents/api/tasks.py answers 409 otherwise).
const ACTIONS = [
  {id: "interrupt", label: "Interrupt", when: ["planning", "running"], does: "hold: its robots finish their current step and keep what they hold",
   not: "only a planning or running task can be interrupted"},
  {id: "resume", label: "Resume", when: ["interrupted"], does: "plan again from the scene as it is now",
   not: "only an interrupted task can be resumed"},
  {id: "kill", label: "Kill", danger: true, does: "stop now: its open subtasks are cancelled, its robots stop after the step they are in"},
  {id: "cancel", label: "Cancel task", danger: true, does: "ask the team to stop this task"},
];
const FLAGS = ["isOpen", "isToggled", "isSliced", "isCooked", "isDirty", "isFilledWithLiquid", "isBroken"];

/** h("div", {class: "x", onclick: f}, "text", child): an element; strings become text nodes. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "style") el.style.cssText = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false)
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}
const svg = (tag, attrs, ...children) => {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
};

const state = {
  tasks: new Map(), robots: [], robotsAt: 0, robotsReceived: 0,
  scene: {rev: 0, nodes: {}}, floor: null,
  base: {rev: 0, nodes: {}}, history: [], historyNote: "",
  trails: {}, markers: [], failuresSeen: new Set(),
  selected: null, events: [], eventSource: null, actorFilter: null, me: null,
  view: "map", travelRev: null, selectedNode: null,
};
function colourOf(name) {  // by the robot's agent index, as map.png colours them; else by its name
  const robot = state.robots.find((r) => r.profile.name === name);
  if (robot) return PALETTE[robot.profile.agent_id % PALETTE.length];
  let hash = 0;
  for (const ch of String(name)) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return PALETTE[hash % PALETTE.length];
}
const short = (id) => String(id ?? "").split("|")[0];
const fmtAge = (s) => s < 0 ? "0 s" : s < 60 ? `${Math.round(s)} s` : s < 3600 ? `${Math.floor(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
const fmtTime = (t) => new Date(t * 1000).toLocaleTimeString([], {hour12: false});
const nowS = () => Date.now() / 1000;

// ------------------------------------------------------------------ connection status

const streams = {};
function setConn() {
  const all = Object.values(streams), open = all.filter((s) => s.readyState === EventSource.OPEN).length;
  const el = $("conn");
  el.className = "conn " + (open === all.length && all.length ? "live" : "connecting");
  el.textContent = open === all.length && all.length ? "live" : "reconnecting…";
}
// Timestamps arrive as ISO 8601; the console computes with epoch seconds.
const TIME_FIELDS = new Set(["at", "created_at", "updated_at", "last_seen", "sent_at", "started_at", "finished_at"]);
const parse = (text) => JSON.parse(text, (k, v) => (TIME_FIELDS.has(k) && typeof v === "string" ? Date.parse(v) / 1000 : v));
function stream(name, url, handlers) {
  const es = new EventSource(url);  // reconnects by itself, sending Last-Event-ID: the server resumes
  streams[name] = es;
  es.onopen = setConn;
  es.onerror = setConn;
  for (const [kind, fn] of Object.entries(handlers)) es.addEventListener(kind, (e) => { fn(parse(e.data), e); setConn(); });
  return es;
}

// ------------------------------------------------------------------ submitting and cancelling

$("submit").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("instruction").value;
  $("error").textContent = "";
  try {
    const sent = {instruction: text};
    if ($("require-approval").checked) sent.require_approval = true;  // an operator approves its plan first
    const r = await fetch("/tasks", {method: "POST", headers: {"content-type": "application/json"},
                                     body: JSON.stringify(sent)});
    const body = await r.json();
    if (!r.ok) { $("error").textContent = body.detail || `error ${r.status}`; return; }
    $("instruction").value = "";
    if (!state.tasks.has(body.id)) state.tasks.set(body.id, {id: body.id, instruction: text.trim(), status: body.status,
      created_at: nowS(), updated_at: nowS(), subtasks: [], reason: null, replans: 0});
    select(body.id);
  } catch (err) { $("error").textContent = `could not reach the service: ${err}`; }
});

// Every state change is JSON sent by fetch from this page: the service refuses form posts (415) and
// other sites' requests (403); the key travels in the login cookie.
async function post(path, body, errorId) {
  $(errorId).textContent = "";
  const r = await fetch(path, {method: "POST", headers: {"content-type": "application/json"},
                               body: JSON.stringify(body || {})}).catch(() => null);
  if (!r) { $(errorId).textContent = "could not reach the service"; return null; }
  const text = await r.text();
  let data = {};
  try { data = text ? parse(text) : {}; } catch { data = {}; }
  if (!r.ok) { $(errorId).textContent = data.detail || `error ${r.status}`; return null; }
  return data;
}

async function act(action) {  // interrupt, resume, kill or cancel the selected task
  const id = state.selected;
  const t = await post(`/tasks/${encodeURIComponent(id)}/${action}`, {}, "action-error");
  const before = state.tasks.get(id);
  if (t && t.id === id && (!before || t.updated_at >= before.updated_at)) onTask(t);
  else if (t) renderDetail();
}

async function decide(decision) {  // approve or reject the plan the selected task waits with
  const id = state.selected, reason = $("approval-reason").value.trim();
  if (decision === "reject" && !reason) {
    $("action-error").textContent = "say why in the reason field: the task fails with that reason";
    $("approval-reason").focus();
    return;
  }
  const accepted = await post(`/tasks/${encodeURIComponent(id)}/${decision}`, {reason}, "action-error");
  if (!accepted) return;
  state.decided = `${id}:${accepted.round}`;
  $("approval-note").textContent = `${decision === "approve" ? "approved" : "rejected"} by ${accepted.by} ` +
    `(round ${accepted.round}): the brain acts on it within seconds`;
  renderApproval(state.tasks.get(id));
}
const canOperate = () => !state.me || state.me.open || state.me.role !== "viewer";
const VIEWER = "signed in with a viewer key: an operator key is needed to change a task";

// ------------------------------------------------------------------ robots

function renderRobots() {
  const box = $("robots");
  if (!state.robots.length) { box.replaceChildren(h("p", {class: "hint"}, "No robot has registered yet.")); return; }
  const elapsed = nowS() - state.robotsReceived, nodes = state.scene.nodes;
  box.replaceChildren(...state.robots.map((r) => {
    const name = r.profile.name, node = nodes[name] || {};
    const age = r.last_seen ? state.robotsAt - r.last_seen + elapsed : null;
    return h("div", {class: `robot ${r.status}`, "data-robot": name, style: `--c: ${colourOf(name)}`},
      h("div", {class: "top"}, h("b", {}, name), h("span", {class: `badge ${r.status}`}, r.status)),
      h("div", {class: "meta"}, `${r.profile.embodiment} · ${r.profile.payload_kg} kg · ${r.profile.mobility}`),
      skillsOf(r.profile),
      h("div", {}, "holding: ", h("b", {}, node.holding ? short(node.holding) : "nothing")),
      h("div", {class: "meta"}, r.current_subtask ? `working on ${r.current_subtask}` : "no subtask",
        " · heartbeat ", age === null ? "never" : `${fmtAge(age)} ago`));
  }));
}

function skillsOf(p) {  // the robot's skills by where they come from: built in, an MCP server, a policy server
  const groups = new Map();
  for (const name of p.skills || []) {
    const src = (p.skill_sources || {})[name] || {kind: "builtin"};
    const key = src.kind === "builtin" ? "built-in" : `${src.kind} ${src.name}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(name);
  }
  const why = new Map((p.skill_specs || []).filter((s) => s.unplannable).map((s) => [s.name, s.unplannable]));
  return h("div", {class: "meta skills"}, ...[...groups].map(([key, names]) => h("div", {"data-source": key},
    `${key}: `, ...names.map((n, i) => h("span", why.has(n) ? {title: `not planned by search: ${why.get(n)}`} : {},
      `${i ? ", " : ""}${n}${why.has(n) ? "*" : ""}`)))));
}

// ------------------------------------------------------------------ tasks list

function robotsOf(t) {  // the plan's robots; while a plan waits for approval, the robots it would use
  const subs = t.subtasks?.length ? t.subtasks : t.pending_approval?.plan?.subtasks || [];
  return [...new Set(subs.map((s) => s.robot))];
}
function duration(t) { return (TERMINAL.has(t.status) ? t.updated_at : nowS()) - t.created_at; }

function renderTasks() {
  // Each task keeps its row, updated in place: the list is redrawn every second (ages move on), and a
  // row replaced between a press and its release would swallow the click that selects it.
  const list = [...state.tasks.values()].sort((a, b) => b.created_at - a.created_at);
  const waiting = list.filter((t) => t.status === "awaiting_approval").length;
  $("task-count").textContent = list.length ? `(${list.length}${waiting ? ` · ${waiting} awaiting approval` : ""})` : "";
  if (!list.length) return;
  const box = $("tasks"), rows = new Map();
  for (const el of [...box.children]) if (el.dataset.id && state.tasks.has(el.dataset.id)) rows.set(el.dataset.id, el); else el.remove();
  list.forEach((t, i) => {
    const row = rows.get(t.id) || taskRow(t);
    fillRow(row, t);
    if (box.children[i] !== row) box.insertBefore(row, box.children[i] || null);
  });
}
function taskRow(t) {
  return h("div", {class: "task", "data-id": t.id, onclick: () => select(t.id)},
    h("span", {class: "badge"}), h("div", {class: "text"}),
    h("div", {class: "meta"}, h("span", {class: "robots"}), h("span", {class: "age"}), h("span", {class: "took"}),
      h("span", {class: "replans"})));
}
function fillRow(row, t) {
  const set = (sel, text) => { const el = row.querySelector(sel); if (el.textContent !== text) el.textContent = text; return el; };
  row.className = `task${t.id === state.selected ? " selected" : ""}${t.status === "awaiting_approval" ? " attention" : ""}`;
  row.dataset.status = t.status;
  const b = set(".badge", (STATUS[t.status] || [t.status])[0]);
  b.className = `badge ${t.status}`;
  b.title = (STATUS[t.status] || [])[1] || "";
  set(".text", t.instruction).title = t.instruction;
  set(".robots", robotsOf(t).join(", ") || "no robot yet");
  set(".age", `${fmtAge(nowS() - t.created_at)} ago`);
  set(".took", `${TERMINAL.has(t.status) ? "took" : "running for"} ${fmtAge(duration(t))}`);
  set(".replans", t.replans ? `${t.replans} replan(s)` : "").hidden = !t.replans;
}

function onTask(t) {
  const before = state.tasks.get(t.id);
  state.tasks.set(t.id, t);
  for (const s of t.subtasks || []) if (s.status === "failed") markFailure(t, s);
  renderTasks();
  if (t.id === state.selected) renderDetail();
  if (before && before.status !== t.status && t.id === state.selected) renderDetail();
}

// ------------------------------------------------------------------ task detail

function select(id) {
  state.selected = id; state.events = []; state.actorFilter = null;
  if (state.eventSource) state.eventSource.close();
  state.eventSource = new EventSource(`/tasks/${encodeURIComponent(id)}/events`);
  const add = (e) => {
    const d = parse(e.data);
    if (e.type === "end") { state.eventSource.close(); return; }
    state.events.push(d);
    scheduleDetail();
  };
  for (const k of ["status", "control", "preempt", "perceive", "plan", "plan_valid", "plan_invalid", "plan_failed",
                   "constitution", "approval_requested", "approval", "dispatch", "thought", "action", "observation",
                   "vision", "result", "replan", "goals_met", "finished", "model_call", "end"])
    state.eventSource.addEventListener(k, add);
  state.eventSource.onmessage = add;
  show("task");
  renderTasks(); renderDetail();
}

let detailPending = false;
function scheduleDetail() {
  if (detailPending) return;
  detailPending = true;
  requestAnimationFrame(() => { detailPending = false; renderDetail(); });
}

function renderDetail() {
  const t = state.tasks.get(state.selected);
  if (!t) return;
  const box = $("detail");
  if (box.dataset.task !== t.id) {  // built once per task: its buttons and the reason field survive the redraws
    box.dataset.task = t.id;
    box.replaceChildren(
      h("div", {class: "detailhead"}, h("div", {id: "detail-head"}),
        h("div", {class: "actions", id: "actions"}, ACTIONS.map((a) => h("button", {
          id: a.id, type: "button", class: a.danger ? "danger" : null, onclick: () => act(a.id)}, a.label)))),
      h("div", {id: "action-error", class: "err", role: "alert"}),
      h("div", {id: "approval-box"}),
      h("div", {id: "detail-body"}));
  }
  updateActions(t);
  renderApproval(t);
  const planEvent = [...state.events].reverse().find((e) => e.kind === "plan");
  const keepScroll = $("timeline-body")?.parentElement?.scrollTop;
  $("detail-head").replaceChildren(
    h("p", {class: "instruction", id: "detail-instruction"}, t.instruction),
    h("div", {class: "facts"},
      badge(t.status, {id: "detail-status"}),
      h("span", {}, `id ${t.id}`),
      h("span", {}, `submitted ${fmtTime(t.created_at)}`),
      h("span", {}, `${TERMINAL.has(t.status) ? "took" : "running for"} ${fmtAge(duration(t))}`),
      h("span", {}, `robots: ${robotsOf(t).join(", ") || "none yet"}`),
      t.replans ? h("span", {}, `${t.replans} replan(s)`) : null,
      t.metrics?.planner ? h("span", {}, `planner: ${t.metrics.planner}`) : null,
      interruptAsked(t) ? h("span", {id: "interrupt-asked"}, `interrupt asked by ${interruptAsked(t)}: the robots finish their step`) : null));
  $("detail-body").replaceChildren(...[
    t.reason ? h("div", {class: `reason${t.status === "interrupted" ? " hold" : ""}`, id: "detail-reason"},
                 h("b", {}, t.status === "succeeded" || t.status === "interrupted" ? "Note: " : "Why: "), t.reason) : null,
    h("h3", {}, t.status === "awaiting_approval" ? "Plan (waiting for approval)" : "Plan"),
    dag(t),
    reports(planEvent),
    thinking(planEvent),
    h("h3", {}, `Timeline (${state.events.length} events)`),
    timeline(t)].filter(Boolean));
  if (keepScroll !== undefined && $("timeline-body")) $("timeline-body").parentElement.scrollTop = keepScroll;
}

function interruptAsked(t) {  // who asked to interrupt a task still planning or running, else ""
  if (t.status !== "planning" && t.status !== "running") return "";
  const last = [...state.events].reverse().find((e) => e.kind === "status" || e.kind === "control");
  return last && last.kind === "control" && last.data?.action === "interrupt" ? (last.actor || "an operator") : "";
}

function updateActions(t) {  // each button enabled in the statuses that allow it, with why not on hover
  for (const a of ACTIONS) {
    const b = $(a.id), allowed = a.when ? a.when.includes(t.status) : !TERMINAL.has(t.status);
    const asked = a.id === "interrupt" && interruptAsked(t);
    b.disabled = !allowed || !!asked || !canOperate();
    b.title = TERMINAL.has(t.status) ? `already ${t.status}` : !allowed ? a.not : asked ? "interrupt already asked"
      : !canOperate() ? VIEWER : a.does;
  }
}

function renderApproval(t) {  // the plan's approval: why it waits, a reason, Approve and Reject
  const box = $("approval-box"), p = t.pending_approval;
  const key = t.status === "awaiting_approval" && p ? `${t.id}:${p.round}` : "";
  if (box.dataset.key !== key) {  // rebuilt only for a new round: what is typed in the reason field stays
    box.dataset.key = key;
    if (!key) { box.replaceChildren(); return; }
    const found = new Map();
    for (const v of p.violations || []) found.set(v.rule, [...(found.get(v.rule) || []), v.message]);
    const why = (r) => r === "task" ? "the task asked for an operator's approval"
      : r === "deployment" ? "this deployment has every plan approved (approve_all_plans)"
      : r.startsWith("rule:") ? `safety rule ${r.slice(5)}: ${(found.get(r.slice(5)) || []).join("; ")}` : r;
    box.replaceChildren(h("div", {class: "approval", id: "approval", "data-round": p.round},
      h("b", {}, `The plan below waits for an operator (round ${p.round})`),
      h("ul", {class: "reports", id: "approval-reasons"}, (p.reasons || []).map((r) => h("li", {}, why(r)))),
      h("div", {class: "approval-form"},
        h("label", {for: "approval-reason", class: "sr"}, "Reason"),
        h("input", {id: "approval-reason", maxlength: 2000, placeholder: "reason (needed to reject; kept on the task)"}),
        h("button", {id: "approve", type: "button", onclick: () => decide("approve")}, "Approve plan"),
        h("button", {id: "reject", type: "button", class: "danger", onclick: () => decide("reject")}, "Reject")),
      h("div", {class: "hint", id: "approval-note"}, "Approve dispatches the plan as it is; Reject fails the task with the reason.")));
  }
  if (!key) return;
  const decided = state.decided === key;
  for (const id of ["approve", "reject"]) {
    $(id).disabled = decided || !canOperate();
    $(id).title = decided ? "decided: the brain acts on it" : !canOperate() ? VIEWER : "";
  }
}

function dag(t) {
  const waiting = t.status === "awaiting_approval" ? t.pending_approval?.plan?.subtasks || [] : [];
  const subs = t.subtasks?.length ? t.subtasks
    : waiting.map((s) => ({...s, depends_on: s.depends_on || [], status: "waiting"}));
  if (!subs.length) return h("p", {class: "hint"}, TERMINAL.has(t.status) ? "No plan was made." : "Planning…");
  const byId = Object.fromEntries(subs.map((s) => [s.id, s])), depth = {};
  const depthOf = (id, seen = new Set()) => {
    if (depth[id] !== undefined) return depth[id];
    if (seen.has(id) || !byId[id]) return 0;
    seen.add(id);
    return (depth[id] = Math.max(-1, ...byId[id].depends_on.map((d) => depthOf(d, seen))) + 1);
  };
  subs.forEach((s) => depthOf(s.id));
  const columns = [];
  for (const s of subs) (columns[depth[s.id]] = columns[depth[s.id]] || []).push(s);
  const W = 230, H = 64, GX = 50, GY = 14;
  const pos = {};
  columns.forEach((col, c) => col.forEach((s, r) => { pos[s.id] = [10 + c * (W + GX), 10 + r * (H + GY)]; }));
  const long = subs.some((s) => s.depends_on.some((d) => byId[d] && depth[s.id] - depth[d] > 1));
  const rowsH = 20 + Math.max(...columns.map((c) => c.length)) * (H + GY) - GY;
  const width = 20 + columns.length * (W + GX) - GX, height = rowsH + (long ? 34 : 0);
  const fill = {waiting: "#eef0f3", dispatched: "#dbe9fb", succeeded: "#dff1e1", failed: "#fbe0de", cancelled: "#e6e8ec"};
  const stroke = {waiting: "#8a94a6", dispatched: "#1565c0", succeeded: "#2e7d32", failed: "#c62828", cancelled: "#616a78"};
  const el = svg("svg", {class: "dag", id: "dag", width, height, viewBox: `0 0 ${width} ${height}`});
  el.append(svg("defs", {}, svg("marker", {id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto"},
    svg("path", {d: "M0,0 L10,5 L0,10 z", fill: "#8a94a6"}))));
  for (const s of subs) for (const d of s.depends_on) if (pos[d]) {
    const [x0, y0] = pos[d], [x1, y1] = pos[s.id];
    // the next column: straight across; further: under the boxes in between, into the target's bottom
    const path = depth[s.id] - depth[d] > 1
      ? `M${x0 + W / 2},${y0 + H} C${x0 + W / 2},${rowsH + 26} ${x1 + W / 2},${rowsH + 26} ${x1 + W / 2},${y1 + H + 1}`
      : `M${x0 + W},${y0 + H / 2} C${x0 + W + GX / 2},${y0 + H / 2} ${x1 - GX / 2},${y1 + H / 2} ${x1},${y1 + H / 2}`;
    el.append(svg("path", {d: path, fill: "none", stroke: "#8a94a6", "stroke-width": 1.5, "marker-end": "url(#arrow)"}));
  }
  for (const s of subs) {
    const [x, y] = pos[s.id], desc = s.description.length > 34 ? s.description.slice(0, 33) + "…" : s.description;
    const g = svg("g", {"data-subtask": s.id, "data-status": s.status},
      svg("title", {}, `${s.id} → ${s.robot}: ${s.description} (${s.status}${s.error ? ": " + s.error : ""})`),
      svg("rect", {x, y, width: W, height: H, rx: 7, fill: fill[s.status] || "#fff", stroke: stroke[s.status] || "#999", "stroke-width": 2}),
      svg("circle", {cx: x + 14, cy: y + 16, r: 6, fill: colourOf(s.robot)}),
      svg("text", {x: x + 26, y: y + 20, "font-size": 13, "font-weight": 600, fill: "#1d2430"}, `${s.id} · ${s.robot}`),
      svg("text", {x: x + W - 8, y: y + 20, "font-size": 11, "text-anchor": "end", fill: stroke[s.status] || "#999"}, s.status),
      svg("text", {x: x + 10, y: y + 39, "font-size": 12, fill: "#1d2430"}, desc),
      s.error ? svg("text", {x: x + 10, y: y + 56, "font-size": 11.5, fill: "#c62828"},
                    s.error.length > 36 ? s.error.slice(0, 35) + "…" : s.error) : svg("g", {}));
    el.append(g);
  }
  return h("div", {style: "overflow:auto"}, el);
}

function reports(planEvent) {
  const list = planEvent?.data?.reports || [];
  if (!list.length) return null;
  return h("ul", {class: "reports"}, list.map((r) => h("li", {},
    h("b", {}, r.status.replace("_", " ")), ": ", typeof r.goal === "object" ? describeGoal(r.goal) : String(r.goal),
    r.reason ? ` — ${r.reason}` : "")));
}
function describeGoal(g) {  // the goal language (brain/goal_language.py): subject + condition, compact form too
  if (g.object && g.relation) return `${g.object} ${g.relation} ${g.target}`;
  if (g.object && g.state) return `${g.object} ${g.state}=${g.value}`;
  const name = (sel) => sel ? (sel.id || sel.type || sel.category || "?") : "?";
  const c = g.condition || {};
  if (c.relation) return `${name(g.subject)} ${c.relation} ${name(c.target)}`;
  if (c.state) return `${name(g.subject)} ${c.state} = ${c.value}`;
  if (c.held) return `${name(g.subject)} held`;
  return name(g.subject);
}
function thinking(planEvent) {
  const text = planEvent?.data?.thinking;
  if (!text) return null;
  return h("details", {open: true}, h("summary", {}, "The model's thinking"), h("pre", {class: "thinking", id: "thinking"}, text));
}

function actorOf(e) { return e.robot || "brain"; }
function timeline(t) {
  const actors = [...new Set(state.events.map(actorOf))];
  const filters = h("div", {class: "filters"},
    ["all", ...actors].map((a) => h("button", {type: "button", class: (state.actorFilter || "all") === a ? "on" : "",
      onclick: () => { state.actorFilter = a === "all" ? null : a; renderDetail(); }}, a)));
  const shown = state.events.filter((e) => !state.actorFilter || actorOf(e) === state.actorFilter);
  if (!state.events.length) return h("div", {}, h("p", {class: "hint"}, "Waiting for the task's first event…"));
  const start = t.created_at, runs = [];
  for (const e of shown) {  // consecutive repeats (MoveAhead, MoveAhead, …) in one row
    const last = runs[runs.length - 1];
    if (last && last.e.kind === e.kind && actorOf(last.e) === actorOf(e) && last.e.message === e.message && e.kind === "action")
      last.n += 1;
    else runs.push({e, n: 1});
  }
  const rows = runs.map(({e, n}) => {
    const failed = e.kind.includes("fail") || e.kind === "plan_invalid" || e.data?.success === false;
    return h("tr", {"data-kind": e.kind},
      h("td", {class: "when", title: fmtTime(e.at)}, `+${(e.at - start).toFixed(1)} s`),
      h("td", {}, h("span", {class: "actor", style: `--c: ${e.robot ? colourOf(e.robot) : "#667085"}`}, actorOf(e))),
      h("td", {class: `kind${failed ? " fail" : ""}`}, e.kind),
      h("td", {class: "msg"}, e.message || (e.data?.status ? `${e.data.from} → ${e.data.status}` : ""),
        n > 1 ? h("span", {class: "times"}, ` ×${n}`) : null));
  });
  return h("div", {}, filters, h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "when"), h("th", {}, "who"),
    h("th", {}, "what"), h("th", {}, "message"))), h("tbody", {id: "timeline-body"}, rows)));
}

// ------------------------------------------------------------------ the scene graph, live and in the past

function applyPatches(nodes, patches) {  // as memory/scene_graph.py apply_patches does
  for (const p of patches) {
    if (p.remove) { delete nodes[p.id]; if (!Object.keys(p.set || {}).length) continue; }
    const node = nodes[p.id] || (nodes[p.id] = {id: p.id});
    for (const [k, v] of Object.entries(p.set || {})) if (k !== "id") node[k] = v;
  }
}

function trackRobots(nodes, change) {  // trails and pick/put markers from what the change says about robots
  for (const p of change.patches) {
    const before = nodes[p.id], set = p.set || {};
    const kind = set.kind || before?.kind;
    if (kind !== "robot") continue;
    const pos = set.position || before?.position;
    if (pos) {
      const trail = state.trails[p.id] || (state.trails[p.id] = []);
      const last = trail[trail.length - 1];
      if (!last || Math.hypot(last[0] - pos.x, last[1] - pos.z) > 0.01) trail.push([pos.x, pos.z]);
    }
    if ("holding" in set && pos) {
      const was = before?.holding || null, now = set.holding || null;
      if (was && was !== now) state.markers.push({kind: "put", x: pos.x, z: pos.z, robot: p.id, what: short(was), rev: change.rev});
      if (now && was !== now) state.markers.push({kind: "pick", x: pos.x, z: pos.z, robot: p.id, what: short(now), rev: change.rev});
    }
  }
}

function markFailure(task, s) {
  const key = `${task.id}:${s.id}:${s.attempt}`;
  const pos = state.scene.nodes[s.robot]?.position;
  if (state.failuresSeen.has(key) || !pos) return;  // without a position yet: again when the graph arrives
  state.failuresSeen.add(key);
  state.markers.push({kind: "fail", x: pos.x, z: pos.z, robot: s.robot,
                               what: s.failure?.code || "failed", detail: s.error || "", rev: state.scene.rev});
}

function onSnapshot(snap) {
  const resent = state.scene.rev > 0;  // the stream skipped changes (trimmed log): rebuild trails and markers
  state.scene = {rev: snap.rev, nodes: snap.nodes};
  if (resent) loadHistory();
  $("rev").textContent = snap.rev;
  for (const t of state.tasks.values()) for (const s of t.subtasks || []) if (s.status === "failed") markFailure(t, s);
  sceneChanged(true);
}
function onChange(change) {
  trackRobots(state.scene.nodes, change);
  applyPatches(state.scene.nodes, change.patches);
  state.scene.rev = change.rev;
  if (!state.history.length || state.history[state.history.length - 1].rev < change.rev) state.history.push(change);
  $("rev").textContent = change.rev;
  sceneChanged(false);
}

let scenePending = false;
function sceneChanged() {
  if (scenePending) return;
  scenePending = true;
  requestAnimationFrame(() => {
    scenePending = false;
    drawMap(); renderRobots(); updateSlider();
    if (state.view === "scene" && $("follow-live").checked) renderInspector();
  });
}

async function loadHistory() {
  // The whole kept change log: the map's trails and markers, and the inspector's time travel.
  const r = await fetch("/scene/changes?since=0&limit=100000");
  if (r.ok) {
    const changes = parse(await r.text()), nodes = {};
    state.history = changes.concat(state.history.filter((c) => c.rev > (changes.at(-1)?.rev ?? 0)));
    state.base = {rev: 0, nodes: {}};
    state.trails = {}; state.markers = state.markers.filter((m) => m.kind === "fail");
    for (const c of state.history) { trackRobots(nodes, c); applyPatches(nodes, c.patches); }
  } else {  // trimmed: time travel starts at the graph as it is now
    state.base = {rev: state.scene.rev, nodes: structuredClone(state.scene.nodes)};
    state.history = state.history.filter((c) => c.rev > state.base.rev);
    state.historyNote = "Older revisions were trimmed from the change log: time travel starts at the revision the console opened on.";
  }
  $("travel-note").textContent = state.historyNote;
  sceneChanged();
}

function graphAt(rev) {
  if (rev >= state.scene.rev) return state.scene.nodes;
  const nodes = structuredClone(state.base.nodes);
  for (const c of state.history) { if (c.rev > rev) break; if (c.rev > state.base.rev) applyPatches(nodes, c.patches); }
  return nodes;
}

// ------------------------------------------------------------------ the map

const canvas = $("map"), ctx = canvas.getContext("2d");
let mapHits = [];
function bounds() {
  const pts = [];
  if (state.floor) {
    for (const [x, z] of state.floor.reachable) pts.push([x, z]);
    for (const f of state.floor.furniture) pts.push([f.x - f.size_x / 2, f.z - f.size_z / 2], [f.x + f.size_x / 2, f.z + f.size_z / 2]);
  }
  for (const n of Object.values(state.scene.nodes)) if (n.position) pts.push([n.position.x, n.position.z]);
  if (!pts.length) return null;
  const xs = pts.map((p) => p[0]), zs = pts.map((p) => p[1]);
  return [Math.min(...xs) - .4, Math.min(...zs) - .4, Math.max(...xs) + .4, Math.max(...zs) + .4];
}

function drawMap() {
  const b = bounds(), dpr = window.devicePixelRatio || 1;
  const cssW = canvas.clientWidth || 800;
  if (!b) { canvas.style.height = "200px"; return; }
  const [x0, z0, x1, z1] = b;
  const room = $("view-map").clientHeight > 250 ? $("view-map").clientHeight - 60 : window.innerHeight - 190;
  const s = Math.min(cssW / (x1 - x0), (room - 34) / (z1 - z0), 140);
  const cssH = Math.max(200, (z1 - z0) * s + 34);
  canvas.style.height = `${cssH}px`;
  canvas.width = cssW * dpr; canvas.height = cssH * dpr;
  const g = ctx; g.setTransform(dpr, 0, 0, dpr, 0, 0); g.clearRect(0, 0, cssW, cssH);
  const ox = (cssW - (x1 - x0) * s) / 2;
  const P = (x, z) => [ox + (x - x0) * s, (z1 - z) * s];
  mapHits = [];
  const labels = [];
  if (state.floor) {  // reachable floor, then furniture footprints (largest first)
    const half = state.floor.grid * s / 2;
    g.fillStyle = "#e6e9ee";
    for (const [x, z] of state.floor.reachable) { const [cx, cy] = P(x, z); g.fillRect(cx - half, cy - half, 2 * half + .5, 2 * half + .5); }
    const furniture = [...state.floor.furniture].sort((a, b) => b.size_x * b.size_z - a.size_x * a.size_z);
    for (const f of furniture) {
      const [fx0, fy0] = P(f.x - f.size_x / 2, f.z + f.size_z / 2), w = Math.max(2, f.size_x * s), hgt = Math.max(2, f.size_z * s);
      g.fillStyle = "#cfd5dd"; g.strokeStyle = "#8a94a6"; g.lineWidth = 1;
      g.fillRect(fx0, fy0, w, hgt); g.strokeRect(fx0 + .5, fy0 + .5, w - 1, hgt - 1);
      mapHits.push({x: fx0 + w / 2, y: fy0 + hgt / 2, r: Math.max(8, Math.min(w, hgt) / 2), text: `${f.type}\n${f.id}`});
    }
  }
  const nodes = Object.values(state.scene.nodes).filter((n) => n.position);
  const named = new Set(state.markers.map((m) => m.what));
  for (const n of nodes) {
    if (n.kind === "robot" || n.objectType === "Floor") continue;
    const [x, y] = P(n.position.x, n.position.z);
    if (n.pickupable) {
      g.fillStyle = "#2f6fb5"; g.beginPath(); g.arc(x, y, 3.5, 0, 2 * Math.PI); g.fill();
      const st = stateWords(n);
      labels.push({x, y, text: n.objectType + (st ? ` (${st})` : ""), prio: named.has(n.objectType) ? 2 : 4, colour: "#2f4d75"});
    } else if (n.receptacle || n.toggleable || n.openable) {
      const st = stateWords(n);
      labels.push({x, y, text: n.objectType + (st ? ` (${st})` : ""), prio: 3, colour: "#4a5261"});
    }
    mapHits.push({x, y, r: 7, text: `${n.objectType}${stateWords(n) ? " (" + stateWords(n) + ")" : ""}\n${n.id}` +
                   (n.relations?.length ? "\n" + n.relations.map((r) => `${r.rel} ${short(r.target)}`).join(", ") : "")});
  }
  for (const [robot, trail] of Object.entries(state.trails)) {  // trails
    if (trail.length < 2) continue;
    g.strokeStyle = colourOf(robot); g.globalAlpha = .55; g.lineWidth = 3; g.lineJoin = "round";
    g.beginPath(); trail.forEach(([x, z], i) => { const [px, py] = P(x, z); i ? g.lineTo(px, py) : g.moveTo(px, py); }); g.stroke();
    g.globalAlpha = 1;
  }
  const stacked = {}, pins = [], blocked = [];
  for (const m of state.markers) {  // pick ▲, put ▼, failure ✕: a pin above the spot, several side by side
    const [mx, my] = P(m.x, m.z), key = `${Math.round(mx / 6)}:${Math.round(my / 6)}`;
    const nth = stacked[key] = (stacked[key] ?? -1) + 1;
    pins.push([m, mx, my, mx + nth * 16, my - 22]);
  }
  for (const [m, mx, my, x, y] of pins) {
    g.strokeStyle = "#8a94a6"; g.lineWidth = 1; g.beginPath(); g.moveTo(mx, my); g.lineTo(x, y + 6); g.stroke();
    marker(g, m.kind, x, y, colourOf(m.robot));
    blocked.push({x: x - 8, y: y - 9, w: 16, h: 18});
    labels.push({x, y, text: `${m.kind} ${m.what}`, prio: 1, pad: 10, colour: m.kind === "fail" ? "#c62828" : "#1d2430"});
    mapHits.push({x, y, r: 8, text: `${m.robot}: ${m.kind} ${m.what}${m.detail ? "\n" + m.detail : ""}\nrev ${m.rev}`});
  }
  const offline = new Set(state.robots.filter((r) => r.status === "offline").map((r) => r.profile.name));
  for (const n of nodes.filter((n) => n.kind === "robot")) {  // robots on top
    const [x, y] = P(n.position.x, n.position.z), off = offline.has(n.id);
    g.fillStyle = off ? "#b0b7c3" : colourOf(n.id); g.strokeStyle = "#fff"; g.lineWidth = 2;
    g.beginPath(); g.arc(x, y, 9, 0, 2 * Math.PI); g.fill(); g.stroke();
    if (typeof n.rotation === "number") {  // heading: AI2-THOR's yaw, 0 = +z (up the map), clockwise
      const a = n.rotation * Math.PI / 180;
      g.strokeStyle = "#fff"; g.beginPath(); g.moveTo(x, y); g.lineTo(x + 8 * Math.sin(a), y - 8 * Math.cos(a)); g.stroke();
    }
    labels.push({x, y, text: n.id + (off ? " (offline)" : "") + (n.holding ? ` holds ${short(n.holding)}` : ""), prio: 0,
                 colour: off ? "#8a94a6" : colourOf(n.id), bold: true, pad: 11});
    mapHits.push({x, y, r: 11, text: `${n.id}${off ? " (offline)" : ""}\nholding ${n.holding ? n.holding : "nothing"}`});
  }
  placeLabels(g, labels, cssW, cssH, blocked);
  scaleBar(g, s, cssH);
  renderLegend();
}

function stateWords(n) {
  return [n.isOpen ? "open" : "", n.isToggled ? "on" : "", n.isSliced ? "sliced" : "", n.isCooked ? "cooked" : "",
          n.isBroken ? "broken" : "", n.isDirty ? "dirty" : ""].filter(Boolean).join(", ");
}

function marker(g, kind, x, y, colour) {
  g.lineWidth = 2; g.strokeStyle = "#fff";
  if (kind === "fail") {
    g.strokeStyle = "#c62828"; g.lineWidth = 3;
    g.beginPath(); g.moveTo(x - 6, y - 6); g.lineTo(x + 6, y + 6); g.moveTo(x + 6, y - 6); g.lineTo(x - 6, y + 6); g.stroke();
    return;
  }
  g.fillStyle = colour; g.beginPath();
  if (kind === "pick") { g.moveTo(x, y - 8); g.lineTo(x + 7, y + 5); g.lineTo(x - 7, y + 5); }
  else { g.moveTo(x, y + 8); g.lineTo(x + 7, y - 5); g.lineTo(x - 7, y - 5); }
  g.closePath(); g.fill(); g.stroke();
}

function placeLabels(g, labels, W, H, blocked) {
  // Greedy, most important first: each label takes the first of eight places around its point that
  // overlaps no label placed before; a label with no free place is left to the hover tip.
  labels.sort((a, b) => a.prio - b.prio);
  const boxes = [...blocked];
  state.labelBoxes = [];
  const free = (r) => r.x >= 0 && r.y >= 0 && r.x + r.w <= W && r.y + r.h <= H &&
    !boxes.some((b) => r.x < b.x + b.w && b.x < r.x + r.w && r.y < b.y + b.h && b.y < r.y + r.h);
  for (const l of labels) {
    g.font = `${l.bold ? "600 " : ""}12px system-ui, sans-serif`;
    const w = g.measureText(l.text).width + 4, hgt = 15, d = l.pad || 6;
    const spots = [[d, -hgt / 2], [-d - w, -hgt / 2], [-w / 2, -d - hgt], [-w / 2, d], [d, -hgt - 2], [d, 2], [-d - w, -hgt - 2], [-d - w, 2]];
    for (const [dx, dy] of spots) {
      const r = {x: l.x + dx, y: l.y + dy, w, h: hgt};
      if (!free(r)) continue;
      boxes.push(r); state.labelBoxes.push({...r, text: l.text});
      g.fillStyle = "rgba(255,255,255,.82)"; g.fillRect(r.x, r.y, r.w, r.h);
      g.fillStyle = l.colour; g.textBaseline = "middle"; g.fillText(l.text, r.x + 2, r.y + hgt / 2 + .5);
      break;
    }
  }
}

function scaleBar(g, s, H) {
  const metres = [0.25, 0.5, 1, 2, 5].find((m) => m * s >= 70) || 5, w = metres * s, x = 12, y = H - 14;
  g.fillStyle = "rgba(255,255,255,.85)"; g.fillRect(x - 6, y - 18, w + 60, 26);
  g.strokeStyle = "#1d2430"; g.lineWidth = 2;
  g.beginPath(); g.moveTo(x, y - 5); g.lineTo(x, y); g.lineTo(x + w, y); g.lineTo(x + w, y - 5); g.stroke();
  g.fillStyle = "#1d2430"; g.font = "12px system-ui, sans-serif"; g.textBaseline = "alphabetic";
  g.fillText(`${metres} m`, x + w + 6, y + 1);
}

function renderLegend() {
  const item = (style, text) => h("span", {}, h("i", {style}), text);
  $("legend").replaceChildren(
    item("background:#e6e9ee", "reachable floor"), item("background:#cfd5dd;border:1px solid #8a94a6", "furniture"),
    item("background:#2f6fb5;border-radius:50%", "object"), h("span", {}, "▲ pick"), h("span", {}, "▼ put"),
    h("span", {style: "color:#c62828"}, "✕ failure"),
    ...Object.keys(state.trails).sort().map((r) => item(`background:${colourOf(r)};border-radius:50%`, `${r} (trail)`)),
    h("span", {}, "hover for names that do not fit"));
}

canvas.addEventListener("mousemove", (e) => {
  const r = canvas.getBoundingClientRect(), x = e.clientX - r.left, y = e.clientY - r.top;
  let best = null, bestD = Infinity;
  for (const hit of mapHits) { const d = Math.hypot(hit.x - x, hit.y - y); if (d <= hit.r && d < bestD) { best = hit; bestD = d; } }
  const tip = $("tip");
  if (!best) { tip.hidden = true; return; }
  tip.hidden = false; tip.textContent = best.text;
  tip.style.left = `${Math.min(x + 14, r.width - 240)}px`; tip.style.top = `${y + 14}px`;
});
canvas.addEventListener("mouseleave", () => { $("tip").hidden = true; });
window.addEventListener("resize", () => drawMap());

// ------------------------------------------------------------------ the inspector

function updateSlider() {
  const slider = $("rev-slider");
  slider.min = state.base.rev || (state.history[0]?.rev ?? 0); slider.max = state.scene.rev;
  if ($("follow-live").checked) slider.value = state.scene.rev;
  $("diff-rev").max = state.scene.rev;
  revLabel();
}
function revLabel() {
  const rev = Number($("rev-slider").value), c = state.history.find((x) => x.rev === rev);
  $("rev-label").textContent = `rev ${rev} of ${state.scene.rev}` + (c ? ` · ${fmtTime(c.at)} · by ${c.source}` : "");
}
$("rev-slider").addEventListener("input", () => { $("follow-live").checked = Number($("rev-slider").value) >= state.scene.rev; revLabel(); scheduleInspector(); });
$("follow-live").addEventListener("change", () => { updateSlider(); renderInspector(); });
$("search").addEventListener("input", () => scheduleInspector());
$("diff-button").addEventListener("click", () => renderDiff());

let inspectorPending = false;
function scheduleInspector() {
  if (inspectorPending) return;
  inspectorPending = true;
  requestAnimationFrame(() => { inspectorPending = false; renderInspector(); });
}

function renderInspector() {
  const rev = Number($("rev-slider").value), nodes = graphAt(rev);
  renderTree(nodes);
  renderNode(nodes);
}

function renderTree(nodes) {
  const kids = {}, hasParent = new Set();
  for (const n of Object.values(nodes)) for (const r of n.relations || [])
    if (["in", "on", "holding"].includes(r.rel) && nodes[r.target]) {
      const [p, c] = r.rel === "holding" ? [n.id, r.target] : [r.target, n.id];
      (kids[p] = kids[p] || []).push([r.rel === "holding" ? "holds" : r.rel, c]); hasParent.add(c);
    }
  const q = $("search").value.trim().toLowerCase();
  const matches = (n) => !q || [n.id, n.objectType, stateWords(n), n.kind].some((v) => String(v ?? "").toLowerCase().includes(q));
  const keep = new Set();  // matching nodes and everything above them
  const visit = (id, path) => {
    const hit = matches(nodes[id]);
    let below = false;
    for (const [, c] of kids[id] || []) if (!path.has(c)) below = visit(c, new Set([...path, c])) || below;
    if (hit || below) keep.add(id);
    return hit || below;
  };
  const roots = Object.keys(nodes).filter((id) => !hasParent.has(id));
  roots.sort((a, b) => (nodes[b].kind === "robot") - (nodes[a].kind === "robot") || (kids[b] ? 1 : 0) - (kids[a] ? 1 : 0) || a.localeCompare(b));
  roots.forEach((id) => visit(id, new Set([id])));
  const rows = [];
  const walk = (id, depth, rel, path) => {
    if (!keep.has(id)) return;
    const n = nodes[id], flags = FLAGS.filter((f) => n[f]).map((f) => f.slice(2).toLowerCase());
    rows.push(h("div", {class: (id === state.selectedNode ? "sel" : "") + (q && matches(n) ? " match" : ""), "data-node": id,
                         style: `padding-left:${depth * 16 + 3}px`, onclick: () => { state.selectedNode = id; renderInspector(); }},
      rel ? h("span", {class: "rel"}, rel + " ") : null,
      h("span", {class: n.kind === "robot" ? "robotnode" : ""}, n.kind === "robot" ? n.id : (n.objectType || n.id)),
      n.kind !== "robot" ? h("span", {class: "rel"}, ` ${id.split("|").slice(1).join("|")}`) : null,
      flags.length ? h("span", {class: "flag"}, " " + flags.join(" ")) : null));
    for (const [r, c] of kids[id] || []) if (!path.has(c)) walk(c, depth + 1, r, new Set([...path, c]));
  };
  roots.forEach((id) => walk(id, 0, "", new Set([id])));
  $("tree").replaceChildren(...(rows.length ? rows : [h("p", {class: "hint"}, q ? `Nothing matches “${q}”.` : "The scene graph is empty.")]));
}

function renderNode(nodes) {
  const id = state.selectedNode, box = $("node-detail");
  if (!id) return;
  const n = nodes[id];
  if (!n) { box.replaceChildren(h("p", {class: "hint"}, `${id} does not exist at this revision.`)); return; }
  const rows = Object.keys(n).sort((a, b) => (a === "id" ? -1 : b === "id" ? 1 : a.localeCompare(b)))
    .map((k) => h("tr", {}, h("td", {}, k), h("td", {}, typeof n[k] === "string" ? n[k] : JSON.stringify(n[k]))));
  box.replaceChildren(h("h3", {id: "node-title"}, `${n.objectType || n.kind} ${id}`), h("table", {}, h("tbody", {}, rows)));
}

function renderDiff() {
  const a = Number($("diff-rev").value), b = Number($("rev-slider").value);
  const [lo, hi] = a <= b ? [a, b] : [b, a], A = graphAt(lo), B = graphAt(hi), lines = [];
  for (const id of new Set([...Object.keys(A), ...Object.keys(B)])) {
    if (!A[id]) { lines.push(h("div", {class: "add"}, `+ ${id}`)); continue; }
    if (!B[id]) { lines.push(h("div", {class: "del"}, `− ${id}`)); continue; }
    for (const k of new Set([...Object.keys(A[id]), ...Object.keys(B[id])])) {
      const x = JSON.stringify(A[id][k]), y = JSON.stringify(B[id][k]);
      if (x !== y) lines.push(h("div", {class: "chg"}, `~ ${id}.${k}: ${x ?? "–"} → ${y ?? "–"}`));
    }
  }
  $("diff").replaceChildren(...[h("b", {}, `Changes from rev ${lo} to rev ${hi}: ${lines.length}`), ...lines.slice(0, 400),
    lines.length > 400 ? h("div", {}, `… and ${lines.length - 400} more`) : null].filter(Boolean));
}

// ------------------------------------------------------------------ views, clock, start

function show(view) {
  state.view = view;
  for (const b of document.querySelectorAll(".tabs button")) b.classList.toggle("on", b.dataset.view === view);
  for (const v of document.querySelectorAll(".view")) v.classList.toggle("on", v.id === `view-${view}`);
  if (view === "map") drawMap();
  if (view === "scene") { updateSlider(); renderInspector(); }
}
for (const b of document.querySelectorAll(".tabs button")) b.addEventListener("click", () => show(b.dataset.view));

setInterval(() => {  // ages and durations move on between events
  renderRobots(); renderTasks();
  const t = state.tasks.get(state.selected);
  if (t && !TERMINAL.has(t.status) && state.view === "task") scheduleDetail();
}, 1000);

// ------------------------------------------------------------------ access (API keys)
// With API keys on the service, the console asks for one; POST /auth/login keeps it in an HttpOnly,
// SameSite=Strict cookie, which every request and event stream of this page then carries.

async function whoami() {
  const r = await fetch("/auth/me").catch(() => null);
  if (!r) return null;
  if (r.status === 401) return {signedOut: true};
  return r.ok ? r.json() : null;
}
function showWho(me) {
  const signedOut = !!(me && me.signedOut);
  state.me = signedOut ? null : me;
  if (state.selected) renderDetail();
  $("login").hidden = !signedOut;
  $("logout").hidden = signedOut || !me || me.open;
  $("who").textContent = !me ? "" : signedOut ? "sign in to see the fleet" : me.open ? "open: no API keys"
    : `${me.name} (${me.role})`;
  if (signedOut) $("api-key").focus();
}
$("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("login-error").textContent = "";
  const r = await fetch("/auth/login", {method: "POST", headers: {"content-type": "application/json"},
                                        body: JSON.stringify({key: $("api-key").value.trim()})}).catch(() => null);
  if (!r || !r.ok) {
    const body = r ? await r.json().catch(() => ({})) : {};
    $("login-error").textContent = body.detail || "could not reach the service";
    return;
  }
  $("api-key").value = "";
  showWho(await r.json());
  connect();
});
$("logout").addEventListener("click", async () => {
  await fetch("/auth/logout", {method: "POST", headers: {"content-type": "application/json"}}).catch(() => null);
  location.reload();
});

async function start() {
  const me = await whoami();
  showWho(me);
  if (me && me.signedOut) return;  // the streams start once a key is accepted
  connect();
}

async function connect() {
  const floor = await fetch("/scene/floor").catch(() => null);
  if (floor && floor.ok) { state.floor = await floor.json(); $("scene-name").textContent = state.floor.scene; }
  stream("live", "/events", {
    task: onTask,
    robots: (u) => { state.robots = u.robots; state.robotsAt = u.at; state.robotsReceived = nowS(); renderRobots(); drawMap(); },
  });
  stream("scene", "/scene/events", {snapshot: onSnapshot, change: onChange});
  loadHistory();
}
start();
