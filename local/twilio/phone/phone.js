// The phone page: every emulated phone's threads, kept live from GET /emulator/events.
// Plain browser JavaScript on purpose: the emulator serves it as is, no build step.

const state = {
  messages: new Map(), // sid -> message (control API shape)
  numbers: new Map(), // Twilio number -> {phoneNumber, smsUrl, advancedOptOut, ...}
  phones: new Map(), // phone -> {phone, lineType, label?}
  faults: [], // active fault rules
  failures: [], // failed webhook attempts, newest last
  open: [], // phones shown as handsets, most recently opened first
};
const handsets = new Map(); // phone -> handset view
const MAX_OPEN = 3;
const MAX_FAILURES = 8;
const e164 = /^\+[1-9]\d{1,14}$/;

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `${method} ${path} answered ${response.status}`);
  return data;
}

// ------------------------------------------------------------------ formatting

function timeOf(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
}
function dayOf(iso) {
  return new Date(iso).toLocaleDateString([], { weekday: "short", month: "short", day: "numeric" });
}
function phoneName(phone) {
  const number = state.numbers.get(phone);
  if (number) return number.friendlyName && number.friendlyName !== phone ? number.friendlyName : `Twilio ${phone}`;
  return state.phones.get(phone)?.label || phone;
}
function initials(phone) {
  const name = phoneName(phone);
  if (name.startsWith("+")) return "#" + phone.slice(-2);
  if (name.startsWith("Twilio")) return "TW";
  return name.split(/\s+/).map((w) => w[0]).join("").slice(0, 2).toUpperCase();
}
function isOwner(phone) {
  return /owner/i.test(state.phones.get(phone)?.label || "");
}

/** What the person holding `phone` sees under a bubble. */
function deliveryText(message, phone) {
  if (message.from === phone) {
    const hook = message.webhook;
    const parts = [];
    const tries = hook?.attempts > 1 ? ` after ${hook.attempts} tries` : "";
    if (!hook || hook.state === "pending") parts.push({ text: "Received · calling webhook…", kind: "" });
    else if (hook.state === "delivered") parts.push({ text: `Received · webhook ${hook.httpStatus}${tries}`, kind: "good" });
    else parts.push({ text: `Webhook failed${hook.errorCode ? " " + hook.errorCode : ""}${tries}: ${hook.error || ""}`, kind: "bad" });
    if (hook?.state === "delivered" && hook.error) parts.push({ text: hook.error, kind: "bad" });
    const fallback = hook?.fallback;
    if (fallback) {
      parts.push(fallback.state === "delivered"
        ? { text: `fallback ${fallback.httpStatus}`, kind: "good" }
        : { text: `fallback failed${fallback.errorCode ? " " + fallback.errorCode : ""}: ${fallback.error || ""}`, kind: "bad" });
    }
    return parts;
  }
  const labels = { accepted: "Accepted", queued: "Queued", sending: "Sending", sent: "Sent", delivered: "Delivered" };
  if (message.status === "undelivered" || message.status === "failed") {
    const label = message.status === "failed" ? "Failed" : "Not delivered";
    return [{ text: `${label}${message.errorCode ? ` · ${message.errorCode} ${message.errorMessage || ""}` : ""}`, kind: "bad" }];
  }
  return [{ text: labels[message.status] || message.status, kind: message.status === "delivered" ? "good" : "" }];
}

// ------------------------------------------------------------------ data

function upsertMessage(message) {
  const known = state.messages.get(message.sid);
  if (known && known.dateUpdated > message.dateUpdated) return;
  state.messages.set(message.sid, message);
  for (const phone of [message.from, message.to]) {
    if (!state.numbers.has(phone) && !state.phones.has(phone)) state.phones.set(phone, { phone, lineType: "mobile" });
  }
}

function messagesOf(phone) {
  return [...state.messages.values()]
    .filter((m) => m.from === phone || m.to === phone)
    .sort((a, b) => a.dateCreated.localeCompare(b.dateCreated));
}

function threadsOf(phone) {
  const threads = new Map();
  for (const m of messagesOf(phone)) {
    const other = m.from === phone ? m.to : m.from;
    threads.set(other, m); // sorted ascending, so the last one wins
  }
  return [...threads.entries()].sort((a, b) => b[1].dateCreated.localeCompare(a[1].dateCreated));
}

function lastActivity(phone) {
  const list = messagesOf(phone);
  return list.length ? list[list.length - 1].dateCreated : "";
}

async function loadAll() {
  const [numbers, phones, messages, faults, webhooks] = await Promise.all([
    api("GET", "/emulator/numbers"),
    api("GET", "/emulator/phones"),
    api("GET", "/emulator/messages"),
    api("GET", "/emulator/faults"),
    api("GET", "/emulator/webhooks"),
  ]);
  state.faults = faults;
  state.failures = webhooks.filter((w) => !w.ok).slice(-MAX_FAILURES);
  state.numbers = new Map(numbers.map((n) => [n.phoneNumber, n]));
  state.phones = new Map(phones.map((p) => [p.phone, p]));
  state.messages = new Map();
  for (const m of messages) upsertMessage(m);
}

// ------------------------------------------------------------------ live updates

function connect() {
  const source = new EventSource("/emulator/events");
  const live = $("live");
  source.onopen = () => {
    live.dataset.state = "open";
    $("live-text").textContent = "live";
    // Anything missed while disconnected comes back with a full reload.
    loadAll().then(renderAll).catch(showLoadError);
  };
  source.onerror = () => {
    live.dataset.state = "closed";
    $("live-text").textContent = "reconnecting…";
  };
  source.onmessage = (frame) => {
    const event = JSON.parse(frame.data);
    if (event.type === "message.created" || event.type === "message.status") {
      upsertMessage(event.message);
      renderSidebar();
      for (const phone of [event.message.from, event.message.to]) handsets.get(phone)?.render();
    } else if (event.type === "number.configured") {
      state.numbers.set(event.number.phoneNumber, event.number);
      state.phones.delete(event.number.phoneNumber);
      renderAll();
    } else if (event.type === "number.released") {
      state.numbers.delete(event.number.phoneNumber);
      renderAll();
    } else if (event.type === "phone.updated") {
      state.phones.set(event.phone.phone, event.phone);
      renderAll();
    } else if (event.type === "webhook") {
      if (!event.webhook.ok) {
        state.failures = [...state.failures, event.webhook].slice(-MAX_FAILURES);
        renderSidebar();
      }
    } else if (event.type === "faults.changed") {
      state.faults = event.faults;
      renderSidebar();
    } else if (event.type === "fault") {
      state.faults = state.faults
        .map((f) => (f.id === event.fault.id ? event.fault : f))
        .filter((f) => f.remaining === null || f.remaining > 0);
      renderSidebar();
    } else if (event.type === "reset") {
      loadAll().then(renderAll).catch(showLoadError);
    }
  };
}

function showLoadError(error) {
  $("live-text").textContent = `load failed: ${error.message}`;
}

// ------------------------------------------------------------------ sidebar

function renderSidebar() {
  const phoneList = $("phone-list");
  const phones = [...state.phones.values()].sort((a, b) => {
    if (isOwner(a.phone) !== isOwner(b.phone)) return isOwner(a.phone) ? -1 : 1;
    return lastActivity(b.phone).localeCompare(lastActivity(a.phone));
  });
  phoneList.replaceChildren(
    ...phones.map((p) => {
      const list = messagesOf(p.phone);
      const last = list[list.length - 1];
      return el(
        "li",
        { class: state.open.includes(p.phone) ? "open" : "", "data-phone": p.phone, onclick: () => openPhone(p.phone) },
        el("div", { class: "title" },
          el("span", { text: p.label ? `${p.label}` : p.phone }),
          isOwner(p.phone) ? el("span", { class: "badge owner", text: "owner" }) : null,
          p.lineType !== "mobile" ? el("span", { class: `badge ${p.lineType}`, text: p.lineType }) : null),
        el("div", { class: "sub", text: p.label ? `${p.phone}${last ? " · " + last.body : ""}` : last ? last.body : "no messages yet" }),
      );
    }),
  );
  $("no-phones").hidden = phones.length > 0;

  const numberList = $("number-list");
  numberList.replaceChildren(
    ...[...state.numbers.values()].map((n) => {
      const named = n.friendlyName && n.friendlyName !== n.phoneNumber && !n.friendlyName.startsWith("(");
      return el("li", { "data-number": n.phoneNumber },
        el("div", { class: "title" },
          el("span", { text: named ? `${n.friendlyName} ${n.phoneNumber}` : n.phoneNumber }),
          el("span", { class: "badges" },
            el("span", { class: "badge", title: n.origin === "twilio" ? "bought through IncomingPhoneNumbers" : "added with POST /emulator/numbers", text: n.origin === "twilio" ? "bought" : "hosted" }),
            n.capabilities && !n.capabilities.sms ? el("span", { class: "badge bad", text: "voice only" }) : null,
            n.advancedOptOut ? el("span", { class: "badge", text: "adv. opt-out" }) : null)),
        webhookLine("SMS", n.smsUrl, n.smsMethod),
        n.smsFallbackUrl ? webhookLine("Fallback", n.smsFallbackUrl, n.smsFallbackMethod) : null);
    }),
  );
  $("no-numbers").hidden = state.numbers.size > 0;

  $("fault-list").replaceChildren(
    ...state.faults.map((f) =>
      el("li", {},
        el("div", { class: "title" }, el("span", { text: f.mode + (f.code ? ` ${f.code}` : "") }), el("span", { class: "badge bad", text: `hit ${f.triggered}` })),
        el("div", { class: "sub", text: [f.remaining !== null ? `${f.remaining} left` : "until cleared", f.rate < 1 ? `rate ${f.rate}` : ""].filter(Boolean).join(" · ") })),
    ),
  );
  $("no-faults").hidden = state.faults.length > 0;
  $("clear-faults").hidden = state.faults.length === 0;

  $("failure-list").replaceChildren(
    ...[...state.failures].reverse().map((w) =>
      el("li", { title: w.error || "" },
        el("div", { class: "title" }, el("span", { text: (w.kind === "inbound" ? (w.fallback ? "Fallback SMS webhook" : "Inbound SMS webhook") : `Status callback (${w.params?.MessageStatus || "?"})`) + (w.attempt > 1 ? ` · try ${w.attempt}` : "") }), el("span", { class: "badge bad", text: w.httpStatus ? `HTTP ${w.httpStatus}` : String(w.errorCode || "error") })),
        el("div", { class: "sub", text: `${timeOf(w.at)} · ${w.error || w.url}` })),
    ),
  );
  $("no-failures").hidden = state.failures.length > 0;
}

/** One webhook setting of a number: where it goes, and its connection overrides (the URL fragment). */
function webhookLine(label, url, method) {
  if (!url) return el("div", { class: "sub", text: `${label}: no webhook` });
  const [target, overrides] = url.split("#");
  return el("div", { class: "sub webhook", title: url },
    el("span", { text: `${label} ${method && method !== "POST" ? method + " " : ""}→ ${target}` }),
    overrides ? el("span", { class: "overrides", text: ` #${overrides}` }) : null);
}

// ------------------------------------------------------------------ handsets

function openPhone(phone) {
  if (!state.phones.has(phone) && !state.numbers.has(phone)) state.phones.set(phone, { phone, lineType: "mobile" });
  state.open = [phone, ...state.open.filter((p) => p !== phone)];
  // Keep the owner's phone on screen when room runs out: drop the oldest non-owner phone.
  while (state.open.length > MAX_OPEN) {
    const dropIndex = [...state.open].reverse().findIndex((p) => !isOwner(p) && p !== phone);
    const index = dropIndex === -1 ? state.open.length - 1 : state.open.length - 1 - dropIndex;
    state.open.splice(index, 1);
  }
  saveOpen();
  renderAll();
}

function closePhone(phone) {
  state.open = state.open.filter((p) => p !== phone);
  saveOpen();
  renderAll();
}

function saveOpen() {
  history.replaceState(null, "", `#open=${state.open.map(encodeURIComponent).join(",")}`);
}

function renderAll() {
  renderSidebar();
  const container = $("phones");
  for (const [phone, handset] of handsets) {
    if (!state.open.includes(phone)) {
      handset.root.remove();
      handsets.delete(phone);
    }
  }
  const ordered = [...state.open].sort((a, b) => (isOwner(a) === isOwner(b) ? 0 : isOwner(a) ? 1 : -1));
  for (const phone of ordered) {
    let handset = handsets.get(phone);
    if (!handset) {
      handset = createHandset(phone);
      handsets.set(phone, handset);
    }
    container.append(handset.root); // re-appending keeps the element (and its draft), only moves it
    handset.render();
  }
  $("phones-empty").hidden = state.open.length > 0;
}

function createHandset(phone) {
  // `listChosen` remembers that the person went back to the thread list on purpose.
  const view = { thread: null, listChosen: false };
  const clock = el("span", { text: new Date().toLocaleTimeString([], { hour: "numeric", minute: "2-digit" }) });
  const appbar = el("div", { class: "appbar" });
  const content = el("div", { class: "content" }); // thread list or one conversation
  const draft = el("textarea", { rows: "1", placeholder: "Text message", "aria-label": "Message" });
  const sendButton = el("button", { type: "submit", title: "Send", "aria-label": "Send", text: "↑" });
  const info = el("div", { class: "compose-info" });
  const compose = el("form", { class: "compose" }, draft, sendButton);
  const composeArea = el("div", {}, info, compose);
  const screen = el("div", { class: "screen" },
    el("div", { class: "notch" }),
    el("div", { class: "statusbar" }, clock, el("span", { text: "5G ▮▮▮" })),
    appbar, content, composeArea);
  const caption = el("div", { class: "caption" });
  const root = el("div", { class: "handset-wrap" }, caption, el("section", { class: "handset", "data-phone": phone, "aria-label": `Phone ${phone}` }, screen));
  setInterval(() => (clock.textContent = new Date().toLocaleTimeString([], { hour: "numeric", minute: "2-digit" })), 30_000);

  draft.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      compose.requestSubmit();
    }
  });
  draft.addEventListener("input", () => {
    info.classList.remove("error");
    info.textContent = draft.value ? `${draft.value.length} chars` : "";
  });
  compose.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = draft.value;
    if (!text.trim() || !view.thread) return;
    sendButton.disabled = true;
    try {
      await api("POST", "/emulator/inbound", { from: phone, to: view.thread, body: text });
      draft.value = "";
      info.textContent = "";
    } catch (error) {
      info.classList.add("error");
      info.textContent = error.message;
    } finally {
      sendButton.disabled = false;
      draft.focus();
    }
  });

  function renderAppbar() {
    const setting = state.phones.get(phone) || { lineType: "mobile" };
    if (view.thread) {
      appbar.replaceChildren(
        el("button", { class: "back", title: "All threads", "aria-label": "Back", text: "‹", onclick: () => { view.thread = null; view.listChosen = true; render(); } }),
        el("div", { class: "avatar", text: initials(view.thread) }),
        el("div", { class: "who" }, el("div", { class: "name", text: phoneName(view.thread) }), el("div", { class: "number", text: `${view.thread} · you are ${phone}` })),
      );
      return;
    }
    const lineSelect = el("select", {
      title: "How the carrier treats this phone",
      "aria-label": "Line type",
      onchange: (event) => api("POST", "/emulator/phones", { phone, lineType: event.target.value }).catch((e) => alert(e.message)),
    }, ...["mobile", "landline", "unreachable"].map((t) => el("option", { value: t, selected: setting.lineType === t, text: t })));
    appbar.replaceChildren(
      el("div", { class: "who" }, el("div", { class: "name", text: setting.label || "Messages" }), el("div", { class: "number", text: phone })),
      lineSelect,
      el("button", { class: "close", title: "Close this phone", "aria-label": "Close", text: "✕", onclick: () => closePhone(phone) }),
    );
  }

  function renderThreads() {
    const threads = threadsOf(phone);
    const list = el("div", { class: "threads" });
    if (threads.length === 0) list.append(el("div", { class: "no-threads", text: "No messages yet. Pick a Twilio number below and text it." }));
    for (const [other, last] of threads) {
      list.append(
        el("div", { class: "thread", "data-thread": other, onclick: () => { view.thread = other; render(); draft.focus(); } },
          el("div", { class: "avatar", text: initials(other) }),
          el("div", { class: "text" },
            el("div", { class: "top" }, el("span", { text: phoneName(other) }), el("time", { text: timeOf(last.dateCreated) })),
            el("div", { class: "preview", text: (last.from === phone ? "You: " : "") + last.body }))),
      );
    }
    const numbers = [...state.numbers.keys()];
    const picker = el("select", { "aria-label": "Twilio number to text" },
      ...numbers.map((n) => el("option", { value: n, text: phoneName(n).includes(n) ? `To ${n}` : `To ${phoneName(n)} ${n}` })));
    const start = el("form", {
      class: "new-thread",
      onsubmit: (event) => {
        event.preventDefault();
        if (!picker.value) return;
        view.thread = picker.value;
        render();
        draft.focus();
      },
    }, picker, el("button", { type: "submit", disabled: numbers.length === 0, text: "New message" }));
    content.replaceChildren(list, start);
    composeArea.hidden = true;
  }

  function renderConversation() {
    const previous = content.querySelector(".conversation");
    const wasAtBottom = !previous || previous.scrollHeight - previous.scrollTop - previous.clientHeight < 40;
    const conversation = el("div", { class: "conversation", "aria-live": "polite" });
    let lastDay = "";
    for (const m of messagesOf(phone).filter((x) => x.from === view.thread || x.to === view.thread)) {
      const day = dayOf(m.dateCreated);
      if (day !== lastDay) conversation.append(el("div", { class: "day", text: day }));
      lastDay = day;
      const mine = m.from === phone;
      const states = deliveryText(m, phone);
      const problem = states.some((s) => s.kind === "bad");
      conversation.append(
        el("div", { class: `bubble-row ${mine ? "mine" : "theirs"}${problem ? " problem" : ""}`, "data-sid": m.sid, "data-status": m.status },
          el("div", { class: "bubble", text: m.body }),
          el("div", { class: "meta" },
            el("span", { text: timeOf(m.dateCreated) }),
            m.optOutType ? el("span", { class: "tag", text: m.optOutType }) : null,
            m.numSegments > 1 ? el("span", { text: `${m.numSegments} segments` }) : null,
            ...states.map((s) => el("span", { class: `state ${s.kind}`, text: s.text })))),
      );
    }
    const oldScroll = previous?.scrollTop ?? 0;
    content.replaceChildren(conversation);
    conversation.scrollTop = wasAtBottom ? conversation.scrollHeight : oldScroll;
    // Only Twilio numbers answer texts; a phone-to-phone thread is read-only.
    composeArea.hidden = !state.numbers.has(view.thread);
  }

  function render() {
    const label = state.phones.get(phone)?.label;
    caption.replaceChildren(el("strong", { text: label || "Lead's phone" }), el("span", { text: ` ${phone}` }));
    const threads = threadsOf(phone);
    if (!view.thread && !view.listChosen && threads.length === 1) view.thread = threads[0][0];
    renderAppbar();
    if (view.thread) renderConversation();
    else renderThreads();
  }

  return { root, render };
}

// ------------------------------------------------------------------ start

$("open-phone").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("open-phone-input");
  const phone = input.value.replace(/[\s()-]/g, "");
  if (!e164.test(phone)) {
    input.setCustomValidity("Use E.164, like +15551234567");
    input.reportValidity();
    return;
  }
  if (state.numbers.has(phone)) {
    input.setCustomValidity("That is a Twilio number; open a phone that texts it instead");
    input.reportValidity();
    return;
  }
  input.setCustomValidity("");
  input.value = "";
  openPhone(phone);
});
$("clear-faults").addEventListener("click", () => api("DELETE", "/emulator/faults").catch((e) => alert(e.message)));
$("open-phone-input").addEventListener("input", (event) => event.target.setCustomValidity(""));

const fromHash = new URLSearchParams(location.hash.slice(1)).get("open");
loadAll()
  .then(() => {
    if (fromHash) {
      state.open = fromHash.split(",").filter((p) => e164.test(p)).slice(0, MAX_OPEN);
    } else {
      const owners = [...state.phones.keys()].filter(isOwner);
      const lead = [...state.phones.keys()].filter((p) => !isOwner(p)).sort((a, b) => lastActivity(b).localeCompare(lastActivity(a)))[0];
      state.open = [...(lead ? [lead] : []), ...owners].slice(0, MAX_OPEN);
    }
    renderAll();
  })
  .catch(showLoadError)
  .finally(connect);
