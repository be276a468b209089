/* Who else is on this ticket: a WebSocket to the ticket's presence group. It says when this
 * agent writes a reply (and stops), beats every 20 s, and shows the colleagues viewing the
 * ticket or writing on it. Names are shown with textContent, never as HTML. */
(function () {
  "use strict";
  var root = document.getElementById("presence");
  if (!root || !window.WebSocket) return;
  var list = root.querySelector("ul");
  var reply = document.getElementById(root.getAttribute("data-reply") || "");
  var socket = null, state = "viewing", idle = null, retry = 0, beat = null;

  function t(name) { return root.getAttribute("data-t-" + name) || ""; }

  function send() {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "state", state: state }));
    }
  }

  function setState(next) {
    if (next !== state) { state = next; send(); }
  }

  function show(people) {
    list.textContent = "";
    people.forEach(function (p) {
      var li = document.createElement("li");
      li.className = "presence-" + p.state;
      li.textContent = t(p.state === "typing" ? "typing" : "viewing").replace("%(name)s", p.name);
      list.appendChild(li);
    });
    root.hidden = people.length === 0;
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/tickets/" +
      encodeURIComponent(root.getAttribute("data-ticket")) + "/presence/");
    socket.onopen = function () { retry = 0; send(); };
    socket.onmessage = function (event) {
      var data = JSON.parse(event.data);
      if (data.type === "presence") show(data.people);
    };
    socket.onclose = function (event) {
      if (event.code === 4404) return;  // not this agent's ticket: nothing to show
      setTimeout(connect, Math.min(30000, 1000 * Math.pow(2, retry++)));
    };
  }

  if (reply) {
    reply.addEventListener("input", function () {
      setState("typing");
      clearTimeout(idle);
      idle = setTimeout(function () { setState("viewing"); }, 10000);
    });
  }
  beat = setInterval(send, 20000);
  window.addEventListener("pagehide", function () { clearInterval(beat); if (socket) socket.close(); });
  connect();
})();
