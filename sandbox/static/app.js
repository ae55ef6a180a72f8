// paicha sandbox: the web chat page. Plain JavaScript, no build step, nothing from the network.
// Everything shown is built with DOM calls and textContent; nothing typed by anyone (or sent
// by the bot) is ever parsed as HTML: bot formatting is rebuilt from the message entities.
"use strict";

const API = "/sandbox/api";
const VISIBLE_KEY = "paicha-sandbox-visible";
const DEFAULT_VISIBLE = ["resident1", "resident2", "resident_en", "neighbour", "leaders"];
const DEFAULT_ROLES_VISIBLE = new Set(["leader"]);

let world = null;
let epoch = 0;
let versions = {};        // chat id -> version drawn
let logVersion = -1;
let clockInfo = null;
const columns = new Map(); // chat id -> column state

const $ = (sel, root = document) => root.querySelector(sel);
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

// ------------------------------------------------------------------ API
async function api(path, body, method) {
  const init = { method: method || (body === undefined ? "GET" : "POST"), headers: {} };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(API + path, init);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const problems = data.problems ? "\n" + data.problems.join("\n") : "";
    throw new Error((data.error || response.statusText) + problems);
  }
  return data;
}

function toast(text, kind = "") {
  const node = el("div", { class: "toast " + kind, text });
  $("#toasts").append(node);
  const ms = kind === "alert" ? 6000 : kind === "error" ? 8000 : 2500;
  setTimeout(() => node.remove(), ms);
  if (kind === "alert") node.addEventListener("click", () => node.remove());
}

function guard(fn) {
  return async (...args) => {
    try { await fn(...args); } catch (err) { toast(String(err.message || err), "error"); }
  };
}

// ------------------------------------------------------------------ formatting
const SAFE_URL = /^(https?:|tg:|mailto:)/i;

function entityNode(entity, text) {
  switch (entity.type) {
    case "bold": return el("b");
    case "italic": return el("i");
    case "underline": return el("u");
    case "strikethrough": return el("s");
    case "code": return el("code");
    case "pre": return el("pre");
    case "blockquote": case "expandable_blockquote": return el("blockquote");
    case "spoiler": {
      const node = el("span", { class: "spoiler", title: "点击显示" });
      node.addEventListener("click", () => node.classList.add("shown"));
      return node;
    }
    case "text_link": case "url": {
      const href = entity.type === "url" ? text : entity.url || "";
      const a = el("a", { target: "_blank", rel: "noopener noreferrer" });
      if (SAFE_URL.test(href)) a.href = href;
      return a;
    }
    case "bot_command": return el("span", { class: "cmd", "data-command": text });
    default: return el("span", { class: "ent-" + entity.type });
  }
}

// text + entities (UTF-16 offsets, which are JavaScript string indices) -> DOM nodes
function renderEntities(parent, text, entities) {
  const list = (entities || []).slice().sort((a, b) => a.offset - b.offset || b.length - a.length);
  function build(into, start, end, items) {
    let pos = start;
    let i = 0;
    while (i < items.length) {
      const e = items[i];
      const eStart = Math.max(e.offset, pos);
      const eEnd = Math.min(e.offset + e.length, end);
      const inner = [];
      let j = i + 1;
      while (j < items.length && items[j].offset < e.offset + e.length) { inner.push(items[j]); j++; }
      if (eStart > pos) into.append(text.slice(pos, eStart));
      if (eEnd > eStart) {
        const node = entityNode(e, text.slice(eStart, eEnd));
        build(node, eStart, eEnd, inner);
        into.append(node);
        pos = eEnd;
      }
      i = j;
    }
    if (pos < end) into.append(text.slice(pos, end));
  }
  build(parent, 0, text.length, list);
}

// ------------------------------------------------------------------ clock
function zoned(seconds) {
  const tz = (clockInfo && clockInfo.timezone) || undefined;
  try {
    return new Intl.DateTimeFormat("zh-CN", {
      timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
    }).format(new Date(seconds * 1000));
  } catch (_) { return new Date(seconds * 1000).toISOString(); }
}

function virtualNow() {
  if (!clockInfo) return Date.now() / 1000;
  return clockInfo.virtual + (Date.now() / 1000 - clockInfo.real) * clockInfo.speed;
}

function drawClock() {
  if (!clockInfo) return;
  $("#clock").textContent = zoned(virtualNow());
  $("#speed-now").textContent = clockInfo.speed === 1 ? "" : "×" + clockInfo.speed;
}

async function refreshClock() {
  clockInfo = await api("/clock");
  const option = [...$("#speed").options].find((o) => Number(o.value) === clockInfo.speed);
  if (option) $("#speed").value = option.value;
  drawClock();
}

function shortTime(seconds) {
  return zoned(seconds).slice(5, 16);
}

// ------------------------------------------------------------------ columns
function visibleKeys() {
  try {
    const saved = JSON.parse(localStorage.getItem(VISIBLE_KEY) || "null");
    if (Array.isArray(saved)) return new Set(saved);
  } catch (_) { /* ignore */ }
  const keys = new Set(DEFAULT_VISIBLE);
  for (const person of world.people) {
    if (DEFAULT_ROLES_VISIBLE.has(person.role)) keys.add(person.key);
  }
  const worker = world.people.find((p) => p.role === "worker");
  const admin = world.people.find((p) => p.role === "village_admin");
  if (worker) keys.add(worker.key);
  if (admin) keys.add(admin.key);
  return keys;
}

function saveVisible(keys) {
  localStorage.setItem(VISIBLE_KEY, JSON.stringify([...keys]));
}

function drawPeoplePanel() {
  const panel = $("#people-panel");
  panel.replaceChildren();
  const keys = visibleKeys();
  for (const chat of world.chats) {
    const box = el("input", { type: "checkbox" });
    box.checked = keys.has(chat.key);
    box.addEventListener("change", () => {
      const now = visibleKeys();
      if (box.checked) now.add(chat.key); else now.delete(chat.key);
      saveVisible(now);
      buildColumns();
    });
    panel.append(el("label", {}, box, " " + chat.title + " ", el("span", { class: "muted", text: chat.key })));
  }
}

function buildColumns() {
  const main = $("#columns");
  main.replaceChildren();
  columns.clear();
  versions = {};
  const keys = visibleKeys();
  const template = $("#column-template");
  // the group first: it is where a drill's alerts land, and it must not be off-screen
  const ordered = [...world.chats].sort((a, b) => (a.type === "private") - (b.type === "private"));
  for (const chat of ordered) {
    if (!keys.has(chat.key)) continue;
    const node = template.content.firstElementChild.cloneNode(true);
    const col = { chat, node, messages: $(".messages", node), drawn: -1, follow: true };
    followNewMessages(col);
    const person = world.people.find((p) => p.key === chat.key);
    $(".col-title", node).textContent = chat.title;
    $(".col-sub", node).textContent = chat.type === "private"
      ? `${chat.key} · id ${chat.id} · ${person ? person.language : ""}`
      : `${chat.key} · ${chat.id} · 群聊 group`;
    if (chat.type === "private") {
      const select = $(".payload", node);
      select.append(el("option", { value: "", text: "（无深层链接）" }));
      for (const p of world.payloads) select.append(el("option", { value: p.payload, text: `${p.payload} · ${p.label}` }));
      $(".start", node).addEventListener("click", guard(async () => {
        await api("/start", { user_id: chat.id, payload: select.value });
      }));
    } else {
      $(".col-start", node).hidden = true;
      $(".col-sender", node).hidden = false;
      const sender = $(".sender", node);
      for (const m of chat.members) sender.append(el("option", { value: m.id, text: m.label }));
    }
    const form = $(".composer", node);
    const input = $("textarea", form);
    form.addEventListener("submit", guard(async (event) => {
      event.preventDefault();
      const text = input.value;
      if (!text.trim()) return;
      await api("/send", { user_id: senderOf(col), chat_id: chat.id, text });
      input.value = "";
    }));
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    const file = $("input[type=file]", form);
    file.addEventListener("change", guard(async () => {
      if (!file.files.length) return;
      const body = new FormData();
      body.append("user_id", senderOf(col));
      body.append("chat_id", chat.id);
      if (input.value.trim()) body.append("caption", input.value);
      body.append("file", file.files[0]);
      file.value = "";
      await api("/upload", body);
      input.value = "";
    }));
    columns.set(chat.id, col);
    main.append(node);
  }
  if (!columns.size) main.append(el("p", { class: "muted", text: "点“👥 人员”选择要显示的人。" }));
}

function senderOf(col) {
  if (col.chat.type === "private") return col.chat.id;
  return Number($(".sender", col.node).value);
}

function atBottom(box) {
  return box.scrollHeight - box.scrollTop - box.clientHeight < 40;
}

// A column follows new messages until someone scrolls it up, and keeps following when it
// changes size (the log or people panel opening shrinks every column).
function followNewMessages(col) {
  const box = col.messages;
  box.addEventListener("scroll", () => { col.follow = atBottom(box); });
  new ResizeObserver(() => { if (col.follow) box.scrollTop = box.scrollHeight; }).observe(box);
}

function drawChat(col, data) {
  const box = col.messages;
  box.replaceChildren();
  const byId = new Map(data.messages.map((m) => [m.id, m]));
  const me = col.chat.type === "private" ? col.chat.id : senderOf(col);
  for (const m of data.messages) box.append(...drawMessage(col, m, byId, me));
  const action = $(".action", col.node);
  action.textContent = data.last_action ? `${world.bot.name}: ${data.last_action}…` : "";
  drawReplyKeyboard(col, data.reply_keyboard);
  if (col.follow) box.scrollTop = box.scrollHeight;
  col.drawn = data.version;
}

function drawMessage(col, m, byId, me) {
  const mine = m.from.id === me;
  const bubble = el("div", { class: "msg" + (mine ? " mine" : "") });
  if (col.chat.type !== "private" && !mine) bubble.append(el("div", { class: "who", text: m.from.label }));
  if (m.reply_to && byId.has(m.reply_to)) {
    const replied = byId.get(m.reply_to);
    bubble.append(el("div", { class: "reply", text: (replied.text || replied.caption || "…").slice(0, 80) }));
  }
  if (m.photo) {
    const img = el("img", { alt: "photo", loading: "lazy" });
    img.src = m.photo.url;
    bubble.append(el("a", { href: m.photo.url, target: "_blank", rel: "noopener" }, img));
  }
  if (m.document) {
    const a = el("a", { href: m.document.url, download: m.document.name, text: `📄 ${m.document.name}` });
    bubble.append(el("div", { class: "card" }, a, el("span", { class: "muted", text: ` ${Math.ceil(m.document.size / 1024)} KB` })));
  }
  if (m.contact) {
    const c = m.contact;
    bubble.append(el("div", { class: "card", text: `👤 ${c.first_name}${c.last_name ? " " + c.last_name : ""}\n📱 ${c.phone_number}` }));
  }
  if (m.location) {
    bubble.append(el("div", { class: "card", text: `📍 ${m.location.latitude.toFixed(5)}, ${m.location.longitude.toFixed(5)}` }));
  }
  const text = m.text != null ? m.text : m.caption;
  const entities = m.text != null ? m.entities : m.caption_entities;
  if (text) {
    const body = el("div", { class: "body" });
    renderEntities(body, text, entities);
    for (const cmd of body.querySelectorAll(".cmd")) {
      cmd.addEventListener("click", guard(async () => {
        await api("/send", { user_id: senderOf(col), chat_id: col.chat.id, text: cmd.dataset.command });
      }));
    }
    bubble.append(body);
  }
  bubble.append(el("div", { class: "meta", text: (m.edit_date ? "已编辑 " : "") + shortTime(m.date) }));
  const nodes = [bubble];
  if (m.inline_keyboard) {
    const kb = el("div", { class: "inline-kb" });
    for (const row of m.inline_keyboard) {
      const line = el("div", { class: "row" });
      for (const b of row) {
        const button = el("button", { type: "button", text: b.text + (b.url ? " ↗" : "") });
        button.addEventListener("click", guard(async () => {
          if (b.url) {
            if (SAFE_URL.test(b.url)) window.open(b.url, "_blank", "noopener");
            return;
          }
          if (b.copy_text) { toast("已复制: " + b.copy_text.text); return; }
          if (b.callback_data == null) { toast("这个按钮在沙盒里不能用"); return; }
          button.disabled = true;
          try {
            const res = await api("/press", {
              user_id: senderOf(col), chat_id: col.chat.id, message_id: m.id, callback_data: b.callback_data,
            });
            if (res.answer && res.answer.text) toast(res.answer.text, res.answer.show_alert ? "alert" : "");
            else if (!res.answered) toast("机器人没有回应这个按钮（还在加载？）");
          } finally { button.disabled = false; }
        }));
        line.append(button);
      }
      kb.append(line);
    }
    nodes.push(kb);
  }
  return nodes;
}

function drawReplyKeyboard(col, markup) {
  const area = $(".reply-keyboard", col.node);
  area.replaceChildren();
  if (!markup || !markup.keyboard) return;
  for (const row of markup.keyboard) {
    const line = el("div", { class: "row" });
    for (const raw of row) {
      const b = typeof raw === "string" ? { text: raw } : raw;
      const button = el("button", { type: "button", text: b.text });
      button.addEventListener("click", guard(async () => {
        const who = senderOf(col);
        if (b.request_contact) {
          const person = world.people.find((p) => p.id === who);
          const phone = window.prompt("分享的手机号 phone to share", person ? person.phone : "");
          if (phone) await api("/contact", { user_id: who, chat_id: col.chat.id, phone });
        } else if (b.request_location) {
          const where = window.prompt("分享的位置 latitude,longitude", world.location.join(","));
          if (where) {
            const [latitude, longitude] = where.split(",").map(Number);
            await api("/location", { user_id: who, chat_id: col.chat.id, latitude, longitude });
          }
        } else {
          await api("/send", { user_id: who, chat_id: col.chat.id, text: b.text });
        }
      }));
      line.append(button);
    }
    area.append(line);
  }
}

async function refreshChat(col) {
  const data = await api(`/chats/${col.chat.id}`);
  drawChat(col, data);
  versions[col.chat.id] = data.version;
}

// ------------------------------------------------------------------ drills and log
async function refreshScenarios() {
  const data = await api("/scenarios");
  const select = $("#scenario");
  const current = select.value;
  select.replaceChildren();
  if (!data.scenarios.length) select.append(el("option", { value: "", text: "（scenarios/ 里没有演练）" }));
  for (const name of data.scenarios) select.append(el("option", { value: name, text: name }));
  select.value = current || data.default || select.value;
}

async function refreshLog() {
  const data = await api("/log");
  $("#log").textContent = data.lines.join("\n");
  logVersion = data.version;
  $("#stop-drill").disabled = !data.running;
  $("#play").textContent = data.running ? "▶ 演练中…" : "▶ 演练";
}

const RISK = { high: "高风险", medium: "中风险" };

// which key-regions list the bot uses, and the regions in force at the drill clock's start
function drawRegions(info) {
  const node = $("#regions");
  node.hidden = !info;
  if (!info) return;
  node.title = info.file;
  if (info.error) { node.textContent = "⚠ 重点地区名单有误：" + info.error; return; }
  const which = info.demo ? "演示用重点地区名单" : "重点地区名单";
  const items = info.regions.map((r) => `${r.label} ${RISK[r.risk] || r.risk}（自${r.from}起${r.until ? "，至" + r.until : ""}）`);
  node.textContent = `${which}：${items.length ? items.join("、") : "目前没有重点地区"}`;
}

function drawBotStatus(status) {
  if (!status) return;
  const text = status.state === "running" ? `🤖 bot pid ${status.pid}`
    : status.state === "external" ? "🤖 bot: 外部" : `🤖 bot stopped (${status.exit_code ?? "-"})`;
  $("#bot-status").textContent = text;
  $("#bot-status").title = status.log || "";
}

// ------------------------------------------------------------------ the loop
async function loadWorld() {
  world = await api("/world");
  epoch = world.epoch;
  clockInfo = world.clock;
  $("#town").textContent = `paicha 沙盒 · ${world.town} · @${world.bot.username}`;
  drawBotStatus(world.bot_process);
  drawRegions(world.regions);
  drawPeoplePanel();
  buildColumns();
  await Promise.all([...columns.values()].map(refreshChat));
  await refreshLog();
  await refreshClock();
}

async function pollLoop() {
  for (;;) {
    try {
      // every chat whose version we know (shown or not); unknown ones answer at once
      const known = { ...versions };
      for (const id of columns.keys()) if (!(id in known)) known[id] = -1;
      const list = Object.entries(known).map(([id, v]) => `${id}:${v}`).join(",");
      const data = await api(`/changes?epoch=${epoch}&log=${logVersion}&versions=${encodeURIComponent(list)}&timeout=25`);
      drawBotStatus(data.bot_process);
      if (data.epoch !== epoch) {
        await loadWorld();
        continue;
      }
      for (const [id, col] of columns) {
        if (data.versions[id] !== versions[id]) await refreshChat(col);
      }
      // chats not shown: remember their versions so they do not wake us again
      for (const [id, version] of Object.entries(data.versions)) {
        if (!columns.has(Number(id))) versions[id] = version;
      }
      if (data.log !== logVersion) await refreshLog();
      await refreshClock();
    } catch (err) {
      $("#bot-status").textContent = "⚠ 沙盒连接中断，重试中…";
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

function wireBar() {
  $("#speed").addEventListener("change", guard(async () => {
    clockInfo = await api("/clock", { speed: Number($("#speed").value) });
    drawClock();
  }));
  for (const button of document.querySelectorAll("[data-jump]")) {
    button.addEventListener("click", guard(async () => {
      clockInfo = await api("/clock", { jump_minutes: Number(button.dataset.jump) });
      drawClock();
    }));
  }
  $("#reset").addEventListener("click", guard(async () => {
    if (!window.confirm("清空所有聊天和沙盒数据库，并重启机器人？")) return;
    $("#reset").disabled = true;
    try { await api("/reset", {}); } finally { $("#reset").disabled = false; }
  }));
  $("#play").addEventListener("click", guard(async () => {
    const name = $("#scenario").value;
    if (!name) return;
    $("#log-panel").hidden = false;
    await api("/scenarios/play", { name, fresh: $("#fresh").checked });
  }));
  $("#stop-drill").addEventListener("click", guard(async () => { await api("/scenarios/stop", {}); }));
  $("#people-toggle").addEventListener("click", () => { $("#people-panel").hidden = !$("#people-panel").hidden; });
  $("#log-toggle").addEventListener("click", () => { $("#log-panel").hidden = !$("#log-panel").hidden; });
  setInterval(drawClock, 250);
}

(async function main() {
  wireBar();
  try {
    await loadWorld();
    await refreshScenarios();
  } catch (err) {
    toast("无法连接沙盒: " + err.message, "error");
  }
  pollLoop();
})();
