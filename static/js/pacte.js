/* Pacte: keyboard shortcuts and small helpers for the agent pages. No framework, no CDN.
 *
 * Queue:   j / k  next / previous ticket    Enter or o  open it    x  select it
 *          /      search
 * Ticket:  j / k  next / previous ticket of the last queue seen
 *          r      reply                     n           internal note
 *          u      back to the queue
 */
(function () {
  "use strict";
  var QUEUE_KEY = "pacte.queue";

  function typing(event) {
    var el = event.target;
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("table.queue tbody tr[data-href]"));
  }

  function current() {
    return document.querySelector("table.queue tbody tr.current");
  }

  function select(row) {
    var was = current();
    if (was) { was.classList.remove("current"); was.removeAttribute("aria-current"); }
    if (!row) return;
    row.classList.add("current");
    row.setAttribute("aria-current", "true");
    var link = row.querySelector("a");
    if (link) link.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function rememberQueue() {
    var list = rows().map(function (row) { return row.getAttribute("data-href"); });
    if (!list.length) return;
    try {
      sessionStorage.setItem(QUEUE_KEY, JSON.stringify({ list: list, back: location.pathname + location.search }));
    } catch (e) { /* private mode: the shortcuts still work on the queue itself */ }
  }

  function queueMemory() {
    try { return JSON.parse(sessionStorage.getItem(QUEUE_KEY) || "null"); } catch (e) { return null; }
  }

  function updateBulkCount() {
    var counter = document.querySelector(".bulk-count");
    if (!counter) return;
    var n = document.querySelectorAll("input[name=tickets][form=bulk]:checked").length;
    counter.textContent = n ? n + " " + counter.getAttribute("data-some") : counter.getAttribute("data-none");
    document.body.classList.toggle("has-selection", n > 0);
    // Nothing to apply to until a ticket is chosen (without a script, the server says so).
    var apply = document.querySelector("#bulk button[type=submit]");
    if (apply) apply.disabled = n === 0;
  }

  function onQueueKey(event) {
    var list = rows();
    var row = current();
    var index = row ? list.indexOf(row) : -1;
    switch (event.key) {
      case "j": select(list[Math.min(index + 1, list.length - 1)]); return true;
      case "k": select(list[Math.max(index - 1, 0)]); return true;
      case "o":
      case "Enter":
        if (row && event.target.tagName !== "A") { location.href = row.getAttribute("data-href"); return true; }
        return false;
      case "x":
        if (row) {
          var box = row.querySelector("input[type=checkbox]");
          box.checked = !box.checked;
          updateBulkCount();
        }
        return true;
      case "/": {
        var search = document.getElementById("id_q");
        if (search) { search.focus(); search.select(); }
        return true;
      }
    }
    return false;
  }

  function onTicketKey(event) {
    var memory = queueMemory();
    var here = location.pathname;
    switch (event.key) {
      case "j":
      case "k": {
        if (!memory) return false;
        var at = memory.list.indexOf(here);
        var next = memory.list[at + (event.key === "j" ? 1 : -1)];
        if (at >= 0 && next) { location.href = next; return true; }
        return false;
      }
      case "r":
      case "n": {
        var body = document.getElementById("id_body");
        var internal = document.getElementById("id_internal");
        if (!body) return false;
        if (internal) internal.checked = event.key === "n";
        body.focus();
        body.scrollIntoView({ block: "center" });
        return true;
      }
      case "u":
        location.href = memory ? memory.back : "/desk/";
        return true;
    }
    return false;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape" && typing(event)) { event.target.blur(); return; }
    if (typing(event)) return;
    var handled = document.querySelector("table.queue") ? onQueueKey(event)
      : document.body.hasAttribute("data-ticket") ? onTicketKey(event) : false;
    if (handled) event.preventDefault();
  });

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.classList && el.classList.contains("select-all")) {
      document.querySelectorAll("input[name=tickets][form=bulk]").forEach(function (box) { box.checked = el.checked; });
    }
    if (el.name === "tickets" || (el.classList && el.classList.contains("select-all"))) updateBulkCount();
    // The language and year choosers: a choice is sent at once (a button under <noscript>).
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) el.form.submit();
    if (el.matches && el.matches("select[data-insert-into]")) {
      // Canned replies: the chosen text goes into the reply at the cursor, then the choice resets.
      var target = document.getElementById(el.getAttribute("data-insert-into"));
      var option = el.options[el.selectedIndex];
      var text = option && option.getAttribute("data-body");
      if (target && text) {
        var start = target.selectionStart || 0, end = target.selectionEnd || 0;
        target.value = target.value.slice(0, start) + text + target.value.slice(end);
        target.focus();
        target.selectionStart = target.selectionEnd = start + text.length;
      }
      el.selectedIndex = 0;
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("button[data-print]")) {
      window.print();
      return;
    }
    var row = event.target.closest && event.target.closest("table.queue tbody tr[data-href]");
    if (row && !event.target.closest("a, input, label, button")) select(row);
  });

  // Waiting chats: a short tone when their number grows (the browser may block sound until
  // the page has been clicked once; the red banner is there either way).
  var waitingChats = null;
  function ring() {
    var box = document.getElementById("chat-waiting");
    if (!box) return;
    var n = parseInt(box.getAttribute("data-count") || "0", 10);
    if (waitingChats !== null && n > waitingChats) {
      try {
        var audio = new (window.AudioContext || window.webkitAudioContext)();
        var tone = audio.createOscillator();
        tone.frequency.value = 880;
        tone.connect(audio.destination);
        tone.start();
        tone.stop(audio.currentTime + 0.2);
      } catch (e) { /* no sound available */ }
    }
    waitingChats = n;
  }

  // A rating chosen in a mail is recorded as its page opens (a script runs in a browser; a
  // mail scanner following the link runs none), once.
  function autosubmit() {
    var form = document.querySelector("form[data-submit-on-load]");
    if (form && !form.dataset.sent) { form.dataset.sent = "1"; form.submit(); }
  }

  // A table of months too wide for the screen opens on the latest ones (the current month).
  function scrollToEnd() {
    document.querySelectorAll("[data-scroll-end]").forEach(function (box) { box.scrollLeft = box.scrollWidth; });
  }

  // On a phone the top navigation scrolls sideways: a link reached with Tab comes into view.
  document.addEventListener("focusin", function (event) {
    var link = event.target;
    if (link && link.closest && link.closest(".topbar nav")) link.scrollIntoView({ block: "nearest", inline: "nearest" });
  });

  function ready() { rememberQueue(); updateBulkCount(); ring(); scrollToEnd(); autosubmit(); }
  document.addEventListener("DOMContentLoaded", ready);
  // The live refresh replaces the table: keep the highlighted row (without taking the focus).
  var kept = null;
  document.addEventListener("htmx:beforeSwap", function () {
    var row = current();
    kept = row ? row.getAttribute("data-href") : null;
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (kept) {
      var row = document.querySelector('table.queue tbody tr[data-href="' + kept + '"]');
      if (row) { row.classList.add("current"); row.setAttribute("aria-current", "true"); }
    }
    ready();
  });
})();
