/** The status page's stylesheet (inline: the page loads nothing but its own data). */
export const PAGE_STYLE = `
:root { --bg:#0f1419; --panel:#171d24; --line:#2a333d; --text:#e6e9ec; --dim:#8b96a1;
  --ok:#3fb950; --warn:#d29922; --bad:#f85149; --accent:#58a6ff; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--text); font:14px/1.4 system-ui, sans-serif; }
header { display:flex; flex-wrap:wrap; gap:16px; align-items:baseline; padding:12px 20px;
  border-bottom:1px solid var(--line); }
header h1 { font-size:18px; margin:0; }
header .meta { color:var(--dim); font-size:12px; }
main { display:grid; grid-template-columns:repeat(auto-fit, minmax(560px, 1fr)); gap:14px; padding:14px 20px; }
section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:10px 14px;
  overflow-x:auto; }
section.wide { grid-column:1 / -1; }
h2 { font-size:13px; text-transform:uppercase; letter-spacing:.06em; color:var(--dim); margin:2px 0 8px; }
table { width:100%; border-collapse:collapse; font-variant-numeric:tabular-nums; }
th, td { text-align:right; padding:4px 6px; border-bottom:1px solid var(--line); white-space:nowrap; }
th:first-child, td:first-child { text-align:left; }
th { color:var(--dim); font-weight:500; font-size:12px; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; }
.closed { background:#12361f; color:var(--ok); } .open { background:#4a1715; color:var(--bad); }
.half-open, .cooling { background:#3d2f0b; color:var(--warn); }
.pulse { display:flex; gap:22px; } .pulse div b { display:block; font-size:22px; }
.pulse div span { color:var(--dim); font-size:12px; }
.dim { color:var(--dim); } .bad { color:var(--bad); } .ok { color:var(--ok); }
svg { width:100%; height:140px; display:block; }
.legend { display:flex; flex-wrap:wrap; gap:4px 14px; font-size:12px; color:var(--dim); margin-top:4px; }
.legend i { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:5px; }
#login { max-width:460px; margin:12vh auto; background:var(--panel); border:1px solid var(--line);
  border-radius:8px; padding:20px 24px; }
#login input { width:100%; padding:8px; margin:8px 0; background:var(--bg); color:var(--text);
  border:1px solid var(--line); border-radius:4px; font:inherit; }
#login button, header button { padding:6px 14px; background:var(--accent); color:#061120; border:0;
  border-radius:4px; font-weight:600; cursor:pointer; }
header button { margin-left:auto; background:transparent; color:var(--dim); border:1px solid var(--line); }
#refused { color:var(--bad); min-height:1.4em; }
[hidden] { display:none !important; }
`;
