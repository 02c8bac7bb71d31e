// The report pages' own look, after the shared one (web/html.ts): the bar at the
// top, the view tabs, the period chips, the tiles, the charts' colours and the
// changes' colours (better green, worse red; a change of cost is neither).
export const REPORT_CSS = `.topbar{display:flex;align-items:center;gap:16px;flex-wrap:wrap;padding-bottom:10px;border-bottom:1px solid var(--line)}
.brand{font-weight:700;letter-spacing:.2px}.topbar nav{margin-left:auto}.topbar nav a{margin-left:10px;text-decoration:none}.topbar nav a[aria-current]{font-weight:700;color:var(--ink)}
#signed-in{float:none}
.tabs{display:flex;gap:4px;flex-wrap:wrap;border-bottom:1px solid var(--line);margin-bottom:4px}
.tabs a{padding:8px 14px;text-decoration:none;color:var(--muted);border-bottom:3px solid transparent;font-weight:600}
.tabs a[aria-current]{color:var(--ink);border-bottom-color:var(--accent)}
.controls{display:flex;flex-direction:column;gap:10px}
.presets{display:flex;flex-wrap:wrap;gap:6px;align-items:center}.presets>span{color:var(--muted);margin-right:4px}
.chip{display:inline-block;padding:3px 12px;border:1px solid #c5ccd8;border-radius:999px;text-decoration:none;color:var(--ink);background:#fff}
.chip[aria-current]{background:var(--accent);border-color:var(--accent);color:#fff}
#pickers{display:flex;flex-wrap:wrap;gap:8px 4px;align-items:flex-end}
#pickers label{display:flex;flex-direction:column;font-size:13px;color:var(--muted)}
#pickers label>*{margin-top:2px;color:var(--ink);font-size:15px}
.button-link{display:inline-block;padding:5px 14px;border:1px solid var(--accent);border-radius:6px;text-decoration:none;font-weight:600}
.quiet{color:var(--muted)}#summary{margin:12px 0 2px;font-weight:600}#resolution{margin:0;color:var(--muted);font-size:13px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:10px;margin-top:14px}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 14px}
.kpi .label{color:var(--muted);font-size:13px}.kpi .value{font-size:22px;font-weight:700;font-variant-numeric:tabular-nums;white-space:nowrap}
.kpi .delta{font-size:13px;font-variant-numeric:tabular-nums}
.up{color:var(--good)}.down{color:var(--bad)}.same{color:var(--muted)}
[data-kpi=cost] .up,[data-kpi=cost] .down,td[data-col=cost].up,td[data-col=cost].down{color:var(--ink)}
#compare td span{display:block;line-height:1.3}#compare td .rel{font-size:12px}
.legend{display:flex;gap:6px;align-items:center;font-size:13px;color:var(--muted);margin-bottom:4px}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;margin-left:8px}.swatch:first-child{margin-left:0}
.swatch.revenue,.chart rect.revenue{background:var(--revenue);fill:var(--revenue)}.swatch.cost,.chart rect.cost{background:var(--cost);fill:var(--cost)}
svg text{font:13px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;fill:var(--ink)}
.chart .label{font-weight:600}.chart .tick,.chart .axis-title{fill:var(--muted);font-size:12px}.chart .value{font-size:12px;font-variant-numeric:tabular-nums}
.chart .value.inside{fill:#fff;font-weight:600}.chart .grid{stroke:var(--line);stroke-width:1}
.funnel .step-0{fill:#2857c5}.funnel .step-1{fill:#3b6fd8}.funnel .step-2{fill:#4f86e6}.funnel .step-3{fill:#2a9d8f}.funnel .step-4{fill:#3fb39f}.funnel .step-5{fill:#6cc5b0}
.funnel .refused{fill:var(--bad);font-size:12px}
#models td{position:relative;vertical-align:top;width:13%;min-width:118px}#models td .v,#models td small{position:relative;display:block}#models td small{color:var(--muted)}
#models .credit{position:absolute;left:0;bottom:0;height:4px;background:var(--revenue);opacity:.55}
dl.about{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:14px 0 0;font-size:13px}dl.about dt{font-weight:600}dl.about dd{margin:0;color:var(--muted)}
.hint{border-left:4px solid var(--accent)}
.problem-page{max-width:680px}
@media (max-width:640px){.topbar nav{margin-left:0}.kpis{grid-template-columns:repeat(2,1fr)}.kpi .value{font-size:18px}dl.about{grid-template-columns:1fr}dl.about dd{margin-bottom:6px}
th[scope=row]{position:sticky;left:0;background:var(--card);z-index:1;white-space:normal;min-width:110px}}`;
