/* 调解室: the chat client of the /room namespace. No inline script (CSP); text is inserted as text.
 *
 * Nothing is lost, doubled or out of order: every stored message carries the room's sequence
 * number; the page keeps the last number it has shown, drops anything at or below it, and after
 * every (re)connect asks for everything after it ("join"), holding live messages back until that
 * backfill has been applied. Messages are sent with a client id and resent with the same id
 * until acknowledged, so a lost acknowledgement never stores a message twice. */
(function () {
  "use strict";

  var root = document.getElementById("room");
  if (!root || typeof io !== "function") return;

  var roomId = parseInt(root.getAttribute("data-room-id"), 10);
  var myId = parseInt(root.getAttribute("data-user-id"), 10);
  var mediatorId = parseInt(root.getAttribute("data-mediator-id"), 10);
  var isMediator = myId === mediatorId;
  var maxChars = parseInt(root.getAttribute("data-max-chars") || "2000", 10);

  var list = document.getElementById("room-messages");
  var form = document.getElementById("room-form");
  var input = document.getElementById("room-text");
  var sendBtn = document.getElementById("room-send");
  var count = document.getElementById("room-count");
  var fieldErr = document.getElementById("room-text-err");
  var roomErr = document.getElementById("room-error");
  var conn = document.getElementById("room-conn");
  var lobby = document.getElementById("room-lobby");
  var banner = document.getElementById("room-caucus-banner");
  var caucusHint = document.getElementById("room-caucus-hint");
  var people = document.getElementById("room-people");
  var caucusEndBtn = document.getElementById("room-caucus-end");
  var endBtn = document.getElementById("room-end");

  var last = 0;            // highest sequence number shown
  var joining = false;     // a join/backfill is in flight: hold live messages
  var held = [];
  var admitted = false;
  var closed = root.getAttribute("data-state") !== "open";
  var outbox = [];         // {id, text, tries}
  var sending = false;
  var presence = null;

  // query.room lets a proxy send every member of a room to the same server process (README: room affinity)
  var socket = io("/room", { auth: { room_id: roomId }, query: { room: String(roomId) }, transports: ["websocket", "polling"] });

  function setStatus(text) { conn.textContent = text; }
  function showRoomError(text) { roomErr.textContent = text || ""; }
  function showFieldError(text) {
    fieldErr.textContent = text || "";
    input.setAttribute("aria-invalid", text ? "true" : "false");
  }

  function setComposer() {
    var on = admitted && !closed;
    input.disabled = !on;
    sendBtn.disabled = !on;
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function render(m) {
    var li = el("li", "msg msg-" + m.kind + (m.caucus ? " msg-caucus" : "") + (m.sender_id === myId ? " msg-mine" : ""));
    li.setAttribute("data-seq", String(m.seq));
    var meta = el("div", "msg-meta");
    if (m.caucus) meta.appendChild(el("span", "msg-tag", "背靠背"));
    meta.appendChild(el("span", "msg-sender", m.sender));
    meta.appendChild(el("time", "msg-time", m.time));
    li.appendChild(meta);
    li.appendChild(el("p", "msg-text", m.text));
    list.appendChild(li);
  }

  function apply(m) {
    if (m.seq <= last) return;   // already shown (backfill and live overlap)
    last = m.seq;
    render(m);
  }

  function scrollDown() { list.scrollTop = list.scrollHeight; }

  function applyMany(msgs) {
    msgs.sort(function (a, b) { return a.seq - b.seq; }).forEach(apply);
    scrollDown();
  }

  function notice(text) {
    var li = el("li", "msg msg-notice", text);
    list.appendChild(li);
    scrollDown();
  }

  function join() {
    if (joining) return;
    joining = true;
    socket.emit("join", { after: last }, function (ack) {
      if (!ack || !ack.ok) {
        joining = false;
        held = [];
        if (ack && ack.code === "waiting") { admitted = false; lobby.hidden = false; setComposer(); }
        else if (ack) showRoomError(ack.error);
        return;
      }
      admitted = true;
      lobby.hidden = true;
      applyMany(ack.messages);
      if (ack.presence) renderPresence(ack.presence);
      backfillRest(ack.more);
    });
  }

  function backfillRest(more) {
    if (more) {
      socket.emit("backfill", { after: last }, function (ack) {
        if (ack && ack.ok) { applyMany(ack.messages); backfillRest(ack.more); }
        else { joining = false; held = []; }
      });
      return;
    }
    joining = false;
    var h = held; held = [];
    applyMany(h);
    setComposer();
    flush();
  }

  /* ---- sending ---- */
  function newId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return "m" + Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function flush() {
    if (sending || !outbox.length || !socket.connected || !admitted || joining) return;
    sending = true;
    var item = outbox[0];
    item.tries += 1;
    socket.timeout(8000).emit("send", { text: item.text, client_msg_id: item.id }, function (err, ack) {
      sending = false;
      if (err) {             // no acknowledgement: resend with the same id (stored at most once)
        if (item.tries < 5) setTimeout(flush, 500); else { outbox.shift(); showFieldError("发送失败，请检查网络后重试"); }
        return;
      }
      outbox.shift();
      if (!ack.ok) { showFieldError(ack.error); if (!input.value) input.value = item.text; updateCount(); }
      flush();
    });
  }

  function updateCount() { count.textContent = String(input.value.length); }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text) { showFieldError("请输入发言内容"); input.focus(); return; }
    if (text.length > maxChars) { showFieldError("发言不能超过" + maxChars + "字"); input.focus(); return; }
    showFieldError("");
    outbox.push({ id: newId(), text: text, tries: 0 });
    input.value = "";
    updateCount();
    flush();
  });
  input.addEventListener("input", updateCount);
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); form.requestSubmit(); }
  });

  /* ---- presence and the mediator's controls ---- */
  function control(label, event, data, cls) {
    var b = el("button", "btn btn-small" + (cls ? " " + cls : ""), label);
    b.type = "button";
    b.addEventListener("click", function () {
      b.disabled = true;
      socket.emit(event, data, function (ack) {
        b.disabled = false;
        showRoomError(ack && !ack.ok ? ack.error : "");
      });
    });
    return b;
  }

  function renderPresence(p) {
    presence = p;
    people.textContent = "";
    var caucusId = p.caucus_party_id;
    p.members.forEach(function (m) {
      var li = el("li", "person person-" + m.status + (m.online ? " person-online" : ""));
      li.setAttribute("data-user-id", String(m.user_id));
      var name = el("span", "person-name", m.label + (m.user_id === myId ? "（我）" : ""));
      li.appendChild(name);
      var state = m.status === "admitted" ? (m.online ? "在线" : "离线") : m.status === "waiting" ? (m.online ? "等候入室" : "未到") : "已移出";
      if (caucusId === m.user_id) state += " · 背靠背调解中";
      li.appendChild(el("span", "person-state", state));
      if (isMediator && !closed && m.user_id !== myId) {
        var box = el("span", "person-actions");
        if (m.status !== "admitted") box.appendChild(control(m.status === "removed" ? "重新准许" : "准许入室", "admit", { user_id: m.user_id }, "btn-primary"));
        if (m.status === "admitted" && m.role === "party" && !caucusId) box.appendChild(control("背靠背调解", "caucus_start", { user_id: m.user_id }));
        if (m.status !== "removed") box.appendChild(control("移出", "remove", { user_id: m.user_id }, "btn-danger"));
        li.appendChild(box);
      }
      people.appendChild(li);
    });
    var inCaucus = caucusId && (myId === caucusId || myId === mediatorId);
    if (caucusId) {
      banner.hidden = false;
      banner.textContent = inCaucus ? "背靠背调解进行中：双方的发言只有调解员和该当事人能看到" : "背靠背调解进行中，请稍候";
    } else {
      banner.hidden = true;
      banner.textContent = "";
    }
    caucusHint.hidden = !inCaucus;
    if (caucusEndBtn) caucusEndBtn.hidden = !caucusId;
    if (p.state !== "open") { closed = true; setComposer(); }
  }

  if (caucusEndBtn) caucusEndBtn.addEventListener("click", function () {
    socket.emit("caucus_end", {}, function (ack) { showRoomError(ack && !ack.ok ? ack.error : ""); });
  });
  if (endBtn) endBtn.addEventListener("click", function () {
    if (!window.confirm("确定结束本次调解吗？结束后不能再发言，调解笔录将归档。")) return;
    socket.emit("end", {}, function (ack) { showRoomError(ack && !ack.ok ? ack.error : ""); });
  });

  /* ---- socket events ---- */
  socket.on("connect", function () { setStatus("已连接"); showRoomError(""); join(); });
  socket.on("disconnect", function () { setStatus("连接已断开，正在重新连接…"); joining = false; held = []; });
  socket.on("connect_error", function (err) {
    setStatus("未连接");
    showRoomError(err && err.message ? err.message : "无法连接调解室");
  });
  socket.on("chat", function (m) { if (joining) held.push(m); else { apply(m); scrollDown(); } });
  socket.on("presence", renderPresence);
  socket.on("notice", function (n) { notice(n.text); });
  socket.on("lobby", function () { admitted = false; lobby.hidden = false; setComposer(); });
  socket.on("admitted", function () { join(); });
  socket.on("removed", function (d) {
    admitted = false; closed = true; setComposer();
    showRoomError(d.message); socket.io.opts.reconnection = false;
  });
  socket.on("ended", function (d) {
    closed = true; setComposer(); notice(d.message);
    if (endBtn) endBtn.hidden = true;
    if (caucusEndBtn) caucusEndBtn.hidden = true;
  });
  socket.on("room_error", function (e) { if (e.code !== "waiting") showRoomError(e.error); });

  setComposer();
  updateCount();
})();
