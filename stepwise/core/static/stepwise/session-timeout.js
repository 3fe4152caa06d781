// Warns before the idle sign-out and offers to stay signed in. The server decides
// when a session ends (from the session's own timestamps); this script only warns,
// so nothing depends on its timers. The times come from data- attributes of
// #session-timeout (no inline script: the Content-Security-Policy forbids it).
(function () {
  "use strict";

  var box = document.getElementById("session-timeout");
  if (!box) {
    return;
  }
  var form = box.querySelector("form[data-keep-alive]");
  var idleNote = box.querySelector("[data-idle-note]");
  var limitNote = box.querySelector("[data-limit-note]");
  var countdowns = box.querySelectorAll("[data-countdown]");
  var warnMs = Number(box.dataset.warnSeconds) * 1000;
  var statusUrl = box.dataset.statusUrl;
  var idleEnd = 0;
  var absoluteEnd = 0;
  var timer = 0;
  var ticker = 0;

  // Seconds left, not clock times: the browser's clock may differ from the server's.
  function schedule(idleSeconds, absoluteSeconds) {
    var now = Date.now();
    idleEnd = now + idleSeconds * 1000;
    absoluteEnd = now + absoluteSeconds * 1000;
    hide();
    window.clearTimeout(timer);
    timer = window.setTimeout(check, Math.max(0, Math.min(idleEnd, absoluteEnd) - warnMs - now));
  }

  function reloadSignedOut() {
    // The server has ended the session: a fresh GET shows the sign-in page and why.
    window.location.assign(window.location.pathname + window.location.search);
  }

  function readJson(response) {
    var type = response.headers.get("Content-Type") || "";
    if (!response.ok || type.indexOf("application/json") === -1) {
      throw new Error("signed out");
    }
    return response.json();
  }

  // Another tab may have kept the session alive: ask before warning.
  function check() {
    fetch(statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(readJson)
      .then(function (state) {
        var left = Math.min(state.idle_seconds, state.absolute_seconds) * 1000;
        if (left > warnMs) {
          schedule(state.idle_seconds, state.absolute_seconds);
        } else {
          idleEnd = Date.now() + state.idle_seconds * 1000;
          absoluteEnd = Date.now() + state.absolute_seconds * 1000;
          show();
        }
      })
      .catch(reloadSignedOut);
  }

  function formatLeft(ms) {
    var seconds = Math.max(0, Math.ceil(ms / 1000));
    var minutes = Math.floor(seconds / 60);
    var rest = seconds % 60;
    return minutes + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function tick() {
    var end = Math.min(idleEnd, absoluteEnd);
    var left = end - Date.now();
    countdowns.forEach(function (node) {
      node.textContent = formatLeft(left);
    });
    if (left <= 0) {
      window.clearInterval(ticker);
      reloadSignedOut();
    }
  }

  function show() {
    var limitFirst = absoluteEnd <= idleEnd;
    // Staying signed in cannot move the time limit: only the idle warning offers it.
    idleNote.hidden = limitFirst;
    limitNote.hidden = !limitFirst;
    form.hidden = limitFirst;
    box.hidden = false;
    tick();
    window.clearInterval(ticker);
    ticker = window.setInterval(tick, 1000);
    if (!limitFirst) {
      form.querySelector("button").focus();
    }
  }

  function hide() {
    box.hidden = true;
    window.clearInterval(ticker);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      body: new FormData(form),
    })
      .then(readJson)
      .then(function (state) {
        schedule(state.idle_seconds, state.absolute_seconds);
      })
      .catch(reloadSignedOut);
  });

  schedule(Number(box.dataset.idleSeconds), Number(box.dataset.absoluteSeconds));
})();
