/** The dashboard's stylesheet (served at /admin/assets/dashboard.css; no inline styles: CSP). */
export const DASHBOARD_CSS = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #ffffff; --muted: #57606a; --line: #d0d7de; --accent: #0b57d0;
  --up: #116329; --up-bg: #dafbe1; --down: #a40e26; --down-bg: #ffebe9; --drain: #7d4e00; --drain-bg: #fff8c5; --focus: #0b57d0; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9da7b3; --line: #30363d; --accent: #79b8ff;
  --up: #7ee2a8; --up-bg: #0f2d1a; --down: #ffa198; --down-bg: #3d1114; --drain: #f2cc60; --drain-bg: #3b2e05; --focus: #79b8ff; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
main:focus { outline: none; }
.skip { position: absolute; left: -999px; top: 0; background: var(--bg); padding: .5rem; z-index: 10; }
.skip:focus { left: .5rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.top { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; padding: .5rem 1rem; border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; margin: 0; }
nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: 0; padding: 0; }
nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
.signout { margin-left: auto; display: flex; gap: .5rem; align-items: center; }
main { padding: 1rem; max-width: 110rem; }
h1 { font-size: 1.5rem; margin: .25rem 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
.muted { color: var(--muted); }
table { border-collapse: collapse; margin: .5rem 0 1rem; min-width: 40rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { border: 1px solid var(--line); padding: .35rem .55rem; text-align: left; vertical-align: top; }
thead th { background: color-mix(in srgb, var(--line) 35%, transparent); white-space: nowrap; }
tbody th { font-weight: 600; }
.scroll { overflow-x: auto; }
.status { display: inline-block; padding: 0 .5rem; border-radius: 1rem; font-weight: 600; }
tr[data-status="up"] .status { color: var(--up); background: var(--up-bg); }
tr[data-status="down"] .status { color: var(--down); background: var(--down-bg); }
tr[data-status="draining"] .status { color: var(--drain); background: var(--drain-bg); }
tr[data-status="down"] { opacity: .85; }
.actions { white-space: nowrap; }
.actions form, form.inline { display: inline; }
.actions form + form { margin-left: .4rem; }
button { font: inherit; padding: .3rem .8rem; border: 1px solid var(--line); border-radius: .35rem; background: var(--bg); color: var(--fg); cursor: pointer; }
button:hover { border-color: var(--accent); }
button.danger { color: var(--down); border-color: var(--down); }
input, select, textarea { font: inherit; padding: .3rem .45rem; border: 1px solid var(--muted); border-radius: .3rem; background: var(--bg); color: var(--fg); }
textarea { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; width: 100%; }
.stack { display: flex; flex-direction: column; gap: .35rem; max-width: 28rem; }
.stack.wide { max-width: 60rem; }
.stack button { align-self: flex-start; }
.stack .buttons { display: flex; gap: .5rem; }
.check { display: flex; gap: .4rem; align-items: center; }
fieldset { border: 1px solid var(--line); border-radius: .35rem; display: flex; flex-direction: column; gap: .35rem; }
.filters { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin-bottom: .5rem; }
.notice, .error { padding: .5rem .75rem; border-radius: .35rem; border: 1px solid; max-width: 60rem; }
.notice { color: var(--up); background: var(--up-bg); }
.error { color: var(--down); background: var(--down-bg); white-space: pre-wrap; }
.copy-row { display: flex; gap: .5rem; }
pre { white-space: pre-wrap; word-break: break-all; background: color-mix(in srgb, var(--line) 30%, transparent); padding: .5rem; }
.live { font-size: .9rem; color: var(--muted); }
`;
