/**
 * The pages' one style sheet, served by us at /web/style.css (nothing is fetched from the internet).
 * Kept in a module rather than a .css file so the TypeScript build carries it into dist/ unchanged.
 * Mobile first: one column on a phone, grids from 48rem; wide tables scroll inside their own box.
 */
export const STYLE_CSS = `
:root { --fg: #1d232a; --muted: #5f6b76; --line: #d8dee4; --bg: #f6f8fa; --card: #fff;
  --accent: #0b5cad; --red: #b3261e; --red-bg: #fde7e5; --yellow: #7a5a00; --yellow-bg: #fff4cc;
  --green: #1e6b34; --green-bg: #e3f4e6; --grey-bg: #eceff2; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .92em;
  overflow-wrap: anywhere; }
header.top { background: #12324f; color: #fff; padding: .5rem 1rem; display: flex; flex-wrap: wrap;
  align-items: center; gap: .25rem 1.25rem; }
header.top .brand { color: #fff; font-weight: 600; text-decoration: none; }
header.top .brand span { font-weight: 400; opacity: .8; }
header.top nav { display: flex; flex-wrap: wrap; gap: .25rem .9rem; }
header.top nav a { color: #dbe9f7; text-decoration: none; padding: .2rem 0; }
header.top nav a[aria-current="page"] { color: #fff; border-bottom: 2px solid #fff; }
main { max-width: 80rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.45rem; margin: .25rem 0 1rem; overflow-wrap: anywhere; }
h2 { font-size: 1.1rem; margin: 0 0 .6rem; }
section.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .9rem 1rem;
  margin-bottom: 1rem; min-width: 0; }
.grid { display: grid; gap: 1rem; grid-template-columns: minmax(0, 1fr); }
@media (min-width: 48rem) { .grid.two { grid-template-columns: repeat(2, minmax(0, 1fr)); } }
.grid > section.card { margin-bottom: 0; }
.grid + .grid, .grid + section.card, section.card + .grid { margin-top: 1rem; }
.nowrap, time { white-space: nowrap; }
.stack > * + * { margin-top: 1rem; }
.muted { color: var(--muted); }
.table-wrap { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.failed td:first-child { box-shadow: inset 3px 0 var(--red); }
tr.progress td:first-child { box-shadow: inset 3px 0 #d4a000; }
tr.done td:first-child { box-shadow: inset 3px 0 var(--green); }
.badge { display: inline-block; padding: .05rem .45rem; border-radius: 999px; font-size: .82em; font-weight: 600;
  white-space: nowrap; background: var(--grey-bg); }
.badge.failed, .badge.DOWN { background: var(--red-bg); color: var(--red); }
.badge.progress { background: var(--yellow-bg); color: var(--yellow); }
.badge.done, .badge.UP { background: var(--green-bg); color: var(--green); }
dl.fields { display: grid; grid-template-columns: minmax(0, 1fr); gap: .1rem 1rem; margin: 0; }
dl.fields dt { color: var(--muted); font-size: .88em; margin-top: .4rem; }
dl.fields dd { margin: 0; overflow-wrap: anywhere; }
@media (min-width: 48rem) { dl.fields { grid-template-columns: 12rem minmax(0, 1fr); }
  dl.fields dt { margin-top: 0; } }
ol.timeline { list-style: none; margin: 0; padding: 0; }
ol.timeline li { padding: .4rem 0 .4rem 1rem; border-left: 3px solid var(--line); }
ol.timeline li.failed { border-color: var(--red); }
ol.timeline li.done { border-color: var(--green); }
ol.timeline li.progress { border-color: #d4a000; }
ol.timeline .desc, td .desc { display: block; color: var(--muted); overflow-wrap: anywhere; }
form.filters { display: grid; gap: .6rem; grid-template-columns: minmax(0, 1fr); }
@media (min-width: 48rem) { form.filters { grid-template-columns: repeat(4, minmax(0, 1fr)); }
  form.filters .wide { grid-column: 1 / -1; } }
label { display: block; font-size: .88em; color: var(--muted); }
input, select, button { font: inherit; max-width: 100%; }
input[type="text"], input[type="search"], input[type="date"], select { width: 100%; padding: .35rem .45rem;
  border: 1px solid #b9c2cb; border-radius: 4px; background: #fff; color: var(--fg); }
button, .button { display: inline-block; padding: .4rem .9rem; border-radius: 4px; border: 1px solid var(--accent);
  background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; }
button.secondary, .button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--red); border-color: var(--red); }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
.flash { padding: .6rem .8rem; border-radius: 6px; margin-bottom: 1rem; background: var(--green-bg);
  color: var(--green); border: 1px solid #b7dfc0; }
.flash.error { background: var(--red-bg); color: var(--red); border-color: #f3b8b3; }
.pager { display: flex; gap: 1rem; align-items: center; justify-content: space-between; margin-top: .6rem; flex-wrap: wrap; }
.kpis { display: grid; gap: .6rem; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); }
.kpi { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .7rem; background: #fff; }
.kpi b { display: block; font-size: 1.4rem; }
figure.chart { margin: 0; }
figure.chart > svg { width: 100%; height: auto; display: block; }
figure.chart figcaption { font-weight: 600; margin-bottom: .3rem; }
.legend { display: flex; flex-wrap: wrap; gap: .3rem .8rem; font-size: .85em; margin-top: .3rem; }
.legend i { display: inline-block; width: .8em; height: .8em; margin-right: .3em; vertical-align: -.05em; }
details summary { cursor: pointer; color: var(--accent); font-size: .9em; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
footer { max-width: 80rem; margin: 0 auto; padding: 0 1rem 2rem; color: var(--muted); font-size: .85em; }
`
