/**
 * The dashboard's only script (served at /admin/assets/dashboard.js; CSP `script-src 'self'`).
 * Plain ES2017, no framework. It (1) keeps the servers page live: every 2 s it fetches
 * `data-live-servers` (the same sort as the page) and patches the rows in place: texts by
 * `data-field`, `data-status`, form actions, row order, new and removed servers (cloned from the
 * page's `<template>`), announcing status changes politely; on 401 it goes to the sign-in page;
 * (2) makes `button[data-copy]` copy the value of the input it names. Everything works without
 * it, but for live updates and copying.
 */
export const DASHBOARD_JS = String.raw`(function () {
  "use strict";
  var POLL_MS = 2000;

  function all(root, selector) { return Array.prototype.slice.call(root.querySelectorAll(selector)); }
  function setText(element, text) { if (element && element.textContent !== text) element.textContent = text; }

  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest ? event.target.closest("button[data-copy]") : null;
    if (!button) return;
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) return;
    var done = function () {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = "Copy"; }, 2000);
    };
    var fallback = function () {
      input.select();
      try { if (document.execCommand("copy")) done(); } catch (error) { /* the text stays selected */ }
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(input.value).then(done, fallback);
    else fallback();
  });

  var live = document.querySelector("[data-live-servers]");
  var template = document.getElementById("server-row-template");
  if (!live || !template) return;
  var source = live.getAttribute("data-live-servers");
  var state = document.querySelector("[data-live-state]");
  var announcer = document.querySelector("[data-live-announce]");
  var statuses = {};
  all(live, "tr[data-server-id]").forEach(function (row) {
    statuses[row.getAttribute("data-server-id")] = row.getAttribute("data-status");
  });

  function sectionOf(pool) {
    var sections = all(live, "section[data-pool]");
    for (var i = 0; i < sections.length; i++) if (sections[i].getAttribute("data-pool") === pool) return sections[i];
    return null;
  }

  function rowOf(tbody, serverId) {
    var rows = all(tbody, "tr[data-server-id]");
    for (var i = 0; i < rows.length; i++) if (rows[i].getAttribute("data-server-id") === serverId) return rows[i];
    return template.content.firstElementChild.cloneNode(true);
  }

  function patch(row, server) {
    row.setAttribute("data-server-id", server.serverId);
    row.setAttribute("data-status", server.status);
    Object.keys(server.cells).forEach(function (field) {
      all(row, "[data-field=\"" + field + "\"]").forEach(function (element) { setText(element, server.cells[field]); });
    });
    var toggle = row.querySelector("form[data-form=\"toggle\"]");
    var remove = row.querySelector("form[data-form=\"remove\"]");
    if (toggle && toggle.getAttribute("action") !== server.toggleAction) toggle.setAttribute("action", server.toggleAction);
    if (remove && remove.getAttribute("action") !== server.removeAction) remove.setAttribute("action", server.removeAction);
  }

  function apply(answer) {
    var changes = [];
    answer.pools.forEach(function (pool) {
      var section = sectionOf(pool.name);
      if (!section) return;
      var tbody = section.querySelector("tbody");
      var empty = tbody.querySelector("tr[data-empty]");
      var keep = {};
      var cursor = empty;
      pool.servers.forEach(function (server) {
        keep[server.serverId] = true;
        var before = statuses[server.serverId];
        if (before && before !== server.status) changes.push(server.hostname + " is now " + server.status);
        statuses[server.serverId] = server.status;
        var row = rowOf(tbody, server.serverId);
        patch(row, server);
        if (cursor.nextElementSibling !== row) tbody.insertBefore(row, cursor.nextElementSibling);
        cursor = row;
      });
      all(tbody, "tr[data-server-id]").forEach(function (row) {
        if (!keep[row.getAttribute("data-server-id")]) row.parentNode.removeChild(row);
      });
      empty.hidden = pool.servers.length > 0;
    });
    if (changes.length > 0) setText(announcer, changes.join(". ") + ".");
  }

  function schedule() { setTimeout(poll, POLL_MS); }

  function poll() {
    if (document.hidden) return schedule();
    fetch(source, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 401) {
          window.location.assign("/admin/login");
          return null;
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (answer) {
        if (!answer) return;
        apply(answer);
        live.setAttribute("data-updated-at", String(answer.updatedAt));
        setText(state, "Live: updated at " + new Date(answer.updatedAt).toLocaleTimeString() + ".");
      })
      .catch(function () { setText(state, "Live updates interrupted; retrying."); })
      .then(schedule);
  }

  schedule();
})();
`;
