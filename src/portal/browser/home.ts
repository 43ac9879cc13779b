/**
 * The home page's script (ES module). It keeps "My sessions" live: every 3 s while the page is
 * visible it fetches `/portal/api/state` and rebuilds the rows from the page's `<template>`
 * (texts only, never HTML), announcing new, changed and ended sessions politely; on 401 it goes
 * to the sign-in. It also asks before a terminate. Without it the page still works, unrefreshed.
 */
import { portalState, type SessionRow } from "./portal-api.ts";

const POLL_MS = 3000;
const STATE_LABEL: Record<string, string> = { running: "running", suspended: "suspended", starting: "starting" };

const table = document.querySelector<HTMLTableElement>("[data-live-sessions]");
const template = document.getElementById("session-row-template") as HTMLTemplateElement | null;
const announcer = document.querySelector<HTMLElement>("[data-live-announce]");
const empty = document.querySelector<HTMLElement>("[data-empty]");

document.addEventListener("submit", (event) => {
  const form = event.target as HTMLFormElement;
  const question = form.dataset["confirm"];
  if (question && !window.confirm(question)) event.preventDefault();
});

function field(row: Element, name: string): HTMLElement[] {
  return Array.from(row.querySelectorAll<HTMLElement>(`[data-field="${name}"]`));
}

function setText(element: HTMLElement | undefined, text: string): void {
  if (element && element.textContent !== text) element.textContent = text;
}

function fill(row: HTMLTableRowElement, session: SessionRow): void {
  row.dataset["sessionId"] = session.id;
  row.dataset["state"] = session.state;
  setText(field(row, "id")[0], session.id);
  setText(field(row, "state")[0], STATE_LABEL[session.state] ?? session.state);
  setText(field(row, "message")[0], session.message ? ` ${session.message}` : "");
  setText(field(row, "hostname")[0], `${session.hostname}${session.serverUp ? "" : " (down)"}`);
  const age = field(row, "age")[0];
  setText(age, session.age);
  age?.setAttribute("datetime", new Date(session.startedAt).toISOString());
  for (const subject of field(row, "subject")) setText(subject, ` ${session.id}`);
  const open = field(row, "open")[0] as HTMLAnchorElement | undefined;
  if (open) {
    const openable = session.profileId !== null && session.serverUp && session.state !== "starting";
    open.hidden = !openable;
    if (openable && session.profileId) open.href = `/portal/desktop?${new URLSearchParams({ session: session.id, profile: session.profileId })}`;
    if (open.firstChild && open.firstChild.nodeType === Node.TEXT_NODE) open.firstChild.textContent = session.state === "running" ? "Open" : "Resume";
  }
  const form = row.querySelector("form");
  form?.setAttribute("action", `/portal/sessions/${encodeURIComponent(session.id)}/terminate`);
}

function update(sessions: SessionRow[]): void {
  if (!table || !template) return;
  const body = table.tBodies[0] as HTMLTableSectionElement;
  const before = new Map(Array.from(body.rows).map((row) => [row.dataset["sessionId"] ?? "", row]));
  const news: string[] = [];
  for (const session of sessions) {
    let row = before.get(session.id);
    if (!row) {
      row = (template.content.firstElementChild as HTMLTableRowElement).cloneNode(true) as HTMLTableRowElement;
      news.push(`${session.id} is ${STATE_LABEL[session.state] ?? session.state} on ${session.hostname}`);
    } else if (row.dataset["state"] !== session.state) {
      news.push(`${session.id} is now ${STATE_LABEL[session.state] ?? session.state}`);
    }
    before.delete(session.id);
    fill(row, session);
    body.appendChild(row);
  }
  for (const [id, row] of before) {
    row.remove();
    news.push(`${id} has ended`);
  }
  if (empty) empty.hidden = sessions.length > 0;
  if (announcer && news.length > 0) announcer.textContent = news.join(". ");
}

async function poll(): Promise<void> {
  if (document.visibilityState === "visible") {
    const result = await portalState();
    if (result.ok) update(result.value.sessions);
    else if (result.status === 401) window.location.assign("/");
  }
  window.setTimeout(() => void poll(), POLL_MS);
}

if (table && template) window.setTimeout(() => void poll(), POLL_MS);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && table) void portalState().then((result) => result.ok && update(result.value.sessions));
});
