/* Pacte chat widget, for an organization's own product (docs/CHAT-WIDGET.md):
 *
 *   <script src="https://support.example.com/static/js/widget.js" async
 *           data-organization="acme" data-token="<JWT signed by your server>"></script>
 *
 * or data-token-url="/support/chat-token" instead of data-token: the widget fetches a fresh
 * token there (with the page's cookies) each time the chat opens. It adds a button at the
 * bottom right; the conversation itself runs in a frame served by Pacte, so nothing the host
 * page does reaches it and nothing typed in it is ever handled by the host page.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.PacteChat) return;
  var base = (script.getAttribute("data-pacte-url") ||
    script.src.replace(/\/static\/js\/widget(\.[0-9a-f]+)?\.js([?#].*)?$/, "")).replace(/\/$/, "");
  var origin = new URL(base, location.href).origin;
  var lang = (script.getAttribute("data-language") || document.documentElement.lang ||
    navigator.language || "en").slice(0, 2).toLowerCase();
  var labels = {
    en: { open: "Chat with support", close: "Close the chat", unread: "New message" },
    fr: { open: "Discuter avec le support", close: "Fermer la discussion", unread: "Nouveau message" }
  };
  var label = labels[lang] || labels.en;
  var remember = "pacte-chat-open:" + origin;

  var host = document.createElement("div");
  host.setAttribute("data-pacte-chat", "");
  var root = host.attachShadow({ mode: "open" });
  var css = [
    ":host { all: initial; }",
    ".launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483646; width: 56px;",
    "  height: 56px; border-radius: 50%; border: 0; cursor: pointer; background: #1f4e8c;",
    "  color: #fff; box-shadow: 0 4px 14px rgba(0,0,0,.25); display: grid; place-items: center; }",
    ".launcher:focus-visible { outline: 3px solid #f0b429; outline-offset: 2px; }",
    ".launcher svg { width: 26px; height: 26px; fill: currentColor; }",
    ".launcher .dot { position: absolute; top: 6px; right: 6px; width: 12px; height: 12px;",
    "  border-radius: 50%; background: #d64545; border: 2px solid #fff; display: none; }",
    ".launcher.unread .dot { display: block; }",
    ".panel { position: fixed; right: 20px; bottom: 88px; z-index: 2147483647;",
    "  width: min(380px, calc(100vw - 40px)); height: min(580px, calc(100vh - 110px));",
    "  border-radius: 12px; overflow: hidden; background: #fff;",
    "  box-shadow: 0 10px 40px rgba(0,0,0,.3); }",
    ".panel[hidden] { display: none; }",
    "iframe { border: 0; width: 100%; height: 100%; display: block; }"
  ].join("\n");
  // A constructed stylesheet, which a page's Content-Security-Policy does not count as an
  // inline style (a <style> element needs 'unsafe-inline'); older browsers get the element.
  if ("adoptedStyleSheets" in root && "replaceSync" in CSSStyleSheet.prototype) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } else {
    var style = document.createElement("style");
    style.textContent = css;
    root.appendChild(style);
  }
  var launcher = document.createElement("button");
  launcher.type = "button";
  launcher.className = "launcher";
  launcher.setAttribute("aria-label", label.open);
  launcher.setAttribute("aria-expanded", "false");
  launcher.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 2-2z"/></svg><span class="dot"></span>';
  var panel = document.createElement("div");
  panel.className = "panel";
  panel.hidden = true;
  var frameName = "pacte-chat-" + Math.random().toString(36).slice(2);
  var frame = document.createElement("iframe");
  frame.name = frameName;
  frame.title = label.open;
  frame.setAttribute("allow", "autoplay");
  panel.appendChild(frame);
  root.append(panel, launcher);

  var loaded = false;

  function token() {
    var url = script.getAttribute("data-token-url");
    if (!url) return Promise.resolve(script.getAttribute("data-token") || "");
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) return "";
      var json = (response.headers.get("Content-Type") || "").indexOf("json") >= 0;
      return json ? response.json().then(function (data) { return data.token || ""; }) : response.text();
    }).catch(function () { return ""; });
  }

  function load() {
    loaded = true;
    token().then(function (value) {
      // A form posted into the frame: the token never goes into a URL (nor a server's log).
      var form = document.createElement("form");
      form.method = "post";
      form.action = base + "/chat/widget/";
      form.target = frameName;
      form.hidden = true;
      var fields = {
        organization: script.getAttribute("data-organization") || "",
        token: value.trim(),
        tz: (window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone) || ""
      };
      Object.keys(fields).forEach(function (name) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = name;
        input.value = fields[name];
        form.appendChild(input);
      });
      root.appendChild(form);
      form.submit();
      form.remove();
    });
  }

  function open() {
    if (!loaded) load();
    panel.hidden = false;
    launcher.classList.remove("unread");
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", label.close);
    try { sessionStorage.setItem(remember, "1"); } catch (e) { /* storage refused */ }
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", label.open);
    try { sessionStorage.removeItem(remember); } catch (e) { /* storage refused */ }
  }

  launcher.addEventListener("click", function () { if (panel.hidden) open(); else close(); });
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || !event.data || event.data.pacte !== "chat-line") return;
    if (panel.hidden) {
      launcher.classList.add("unread");
      launcher.setAttribute("aria-label", label.open + " · " + label.unread);
    }
  });

  function start() {
    document.body.appendChild(host);
    var reopen = false;
    try { reopen = sessionStorage.getItem(remember) === "1"; } catch (e) { /* storage refused */ }
    if (reopen) open();  // the page was reloaded while the chat was open
  }
  window.PacteChat = { open: open, close: close };
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
