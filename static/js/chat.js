/* Pacte live chat client: one conversation over a WebSocket.
 *
 * Every line carries the server's id; the client remembers the last id it showed and, after a
 * dropped connection, reconnects with ?after=<id> so that it gets what it missed, once. Lines
 * typed while offline wait in a queue and are sent again with the same key, which the server
 * stores once. Everything a person typed is shown with textContent, never as HTML.
 */
(function () {
  "use strict";
  var root = document.getElementById("chat");
  if (!root) return;
  var role = root.getAttribute("data-role");
  var lines = root.querySelector(".chat-lines");
  var stateLine = root.querySelector(".chat-state");
  var typingLine = root.querySelector(".chat-typing");
  var errorLine = root.querySelector(".chat-error");
  var form = root.querySelector(".chat-form");
  var input = root.querySelector("#chat-text");
  var lastId = 0, socket = null, retry = 0, typingTimer = null, lastTyping = 0;
  var shown = {};     // id -> true: a line is shown once
  var pending = [];   // {key, text} not yet confirmed by the server

  // The lines the page was served with: shown once, the WebSocket asked for later ones only.
  lines.querySelectorAll("li[data-id]").forEach(function (li) {
    var id = parseInt(li.getAttribute("data-id"), 10);
    shown[id] = true;
    lastId = Math.max(lastId, id);
  });

  function t(name) { return root.getAttribute("data-t-" + name) || ""; }
  // Times in the page's language and the user's own time zone (their preference; without
  // one, the browser's), as every other time Pacte shows them.
  var clock = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",  // 14:05, as the page writes times
    timeZone: root.getAttribute("data-time-zone") || undefined,
  });

  function key() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function url() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + location.host + "/ws/chat/" + encodeURIComponent(root.getAttribute("data-url")) + "/?after=" + lastId;
  }

  function addLine(msg) {
    if (shown[msg.id]) return;
    shown[msg.id] = true;
    lastId = Math.max(lastId, msg.id);
    pending = pending.filter(function (p) { return p.key !== msg.key; });
    var waiting = lines.querySelector('[data-key="' + CSS.escape(msg.key || "-") + '"]');
    if (waiting) waiting.remove();
    var li = document.createElement("li");
    li.className = "chat-line from-" + msg.from + (msg.from === role ? " mine" : "");
    li.setAttribute("data-id", msg.id);
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = msg.from === role ? t("you") : msg.author;
    if (msg.from === "outside") who.textContent += " · " + t("outside");  // agents only get these
    var when = document.createElement("time");
    when.dateTime = msg.at;
    when.textContent = clock.format(new Date(msg.at));
    var text = document.createElement("p");
    text.textContent = msg.text;
    li.append(who, " ", when, text);
    lines.appendChild(li);
    li.scrollIntoView({ block: "end" });
  }

  function showPending(item) {
    var li = document.createElement("li");
    li.className = "chat-line mine pending";
    li.setAttribute("data-key", item.key);
    var text = document.createElement("p");
    text.textContent = item.text;
    li.appendChild(text);
    lines.appendChild(li);
  }

  function setState(msg) {
    root.setAttribute("data-state", msg.state);
    var label = msg.state === "active" ? t("active").replace("%(agent)s", msg.agent || "") : t(msg.state);
    stateLine.textContent = label;
    var ended = msg.state === "ended";
    input.disabled = ended;
    form.querySelector("button").disabled = ended;
    var accept = document.querySelector("[data-chat-accept]");
    if (accept) accept.hidden = msg.state !== "waiting";
    var end = document.querySelector("[data-chat-end]");
    if (end) end.hidden = ended;
    var again = document.querySelector("[data-chat-new]");
    if (again) again.hidden = !ended;
  }

  // Inside the embedded widget: tell the host page (no content, only that a line came) so
  // that its launcher can show a dot while the panel is closed.
  function notifyHost(msg) {
    if (window.parent !== window && msg.from !== role) {
      window.parent.postMessage({ pacte: "chat-line" }, "*");
    }
  }

  function send(obj) {
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(obj)); return true; }
    return false;
  }

  // Accept and end clicked while the connection is (re)opening are sent once it is open.
  var controls = [];
  function control(obj) { if (!send(obj)) controls.push(obj); }

  function connect() {
    // The embedded widget has no cookie: it signs in with its credential as a subprotocol.
    var credential = root.getAttribute("data-credential");
    socket = credential ? new WebSocket(url(), ["pacte.widget", credential]) : new WebSocket(url());
    socket.onopen = function () {
      retry = 0;
      root.classList.remove("offline");
      errorLine.textContent = "";
      pending.forEach(function (p) { send({ type: "message", text: p.text, key: p.key }); });
      controls.splice(0).forEach(send);
    };
    socket.onmessage = function (event) {
      var msg = JSON.parse(event.data);
      if (msg.type === "message") {
        if (!shown[msg.id]) notifyHost(msg);
        addLine(msg);
        typingLine.textContent = "";
      }
      else if (msg.type === "state") setState(msg);
      else if (msg.type === "typing") {
        typingLine.textContent = t("typing");
        clearTimeout(typingTimer);
        typingTimer = setTimeout(function () { typingLine.textContent = ""; }, 3000);
      } else if (msg.type === "error") errorLine.textContent = msg.detail;
    };
    socket.onclose = function (event) {
      if (event.code === 4404) return; // not allowed here: do not hammer the server
      root.classList.add("offline");
      stateLine.textContent = t("offline");
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 300 * Math.pow(2, retry - 1));
    };
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    var item = { key: key(), text: text };
    pending.push(item);
    showPending(item);
    send({ type: "message", text: text, key: item.key });
    input.value = "";
    input.focus();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); return; }
    var now = Date.now();
    if (now - lastTyping > 2000) { lastTyping = now; send({ type: "typing" }); }
  });
  document.querySelectorAll("[data-chat-accept]").forEach(function (b) {
    b.addEventListener("click", function () { control({ type: "accept" }); });
  });
  document.querySelectorAll("[data-chat-end]").forEach(function (b) {
    b.addEventListener("click", function () { control({ type: "end" }); });
  });
  // For the browser test: drop the connection as a network failure would.
  window.pacteChatDrop = function () { if (socket) socket.close(); };
  connect();
})();
